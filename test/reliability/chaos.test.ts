/**
 * Crash safety and Redis restart, end to end. N cases (CHAOS_CASES, default 200; `npm run soak`
 * runs 5,000) go through the deployed pipeline — HTTP intake → cases workers (graph) → review
 * queue → scripted reviewers over HTTP → delivery worker → local webhook receiver — while a
 * chaos loop SIGKILLs the API, the cases workers and the delivery worker at random moments and
 * starts them again, and `redis-server` (AOF on) is stopped and restarted mid-run.
 *
 * Every case's end state is known in advance from its id (approve, reject, or request changes
 * then approve). Asserted: each case ends in exactly that terminal state and revision; each
 * closed case is delivered under exactly one delivery id, with a valid signature; the recorded
 * decisions are exactly the policy's (none lost, none applied twice); the audit trail has each
 * milestone exactly once; no identifier of any input bundle appears in a webhook or a log line.
 * Figures go to stderr and to .data/reliability/chaos.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { QUEUES, bullPrefix } from '../../src/infra/redis-keys.js';
import { chaosCases, expectedEnd, Pipeline, policyFor } from '../helpers/pipeline.js';
import { scanForPhi } from '../helpers/phi.js';
import { loadExampleCases, identifiersOf } from '../helpers/cases.js';
import { ROOT } from '../helpers/processes.js';
import { waitForQueueIdle } from '../helpers/wait.js';

const N = Number(process.env.CHAOS_CASES ?? 200);
const REDIS_RESTARTS = Number(process.env.CHAOS_REDIS_RESTARTS ?? 1);
const REVIEWERS = 4;
const TIMEOUT_MS = Number(process.env.CHAOS_TIMEOUT_MS ?? Math.max(300_000, N * 1_500));
const log = (msg: string) => process.stderr.write(`[chaos] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

let pipeline: Pipeline | undefined;
afterAll(async () => {
  await pipeline?.close();
});

describe('chaos: random SIGKILLs and a Redis restart', () => {
  it(
    `runs ${N} cases to exactly their expected end, delivered once each, with nothing lost`,
    async () => {
      const started = Date.now();
      const deadline = started + TIMEOUT_MS - 30_000;
      const p = (pipeline = await Pipeline.start({ caseWorkers: 2 }));
      const cases = chaosCases(N, p.receiver.url, p.prefix);
      const ids = cases.map((c) => c.caseId);
      let stop = false;
      let settled = 0;

      // Intake: 8 concurrent submitters, retrying through crashes.
      let next = 0;
      const submitting = Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < cases.length) {
            const c = cases[next++]!;
            await p.submit(c.submission, deadline);
            await sleep(rand(0, 20)); // pacing: submissions spread out, not a burst
          }
        }),
      );
      // Scripted reviewers over HTTP.
      const reviewing = Promise.all(
        Array.from({ length: REVIEWERS }, async () => {
          // An idle reviewer looks again a little later (polling the queue, as a person would).
          while (!stop) if ((await p.reviewOnce()) !== 'decided') await sleep(100);
        }),
      );
      // Chaos: every 0.5–2.5 s, SIGKILL a process and start it again; every process in turn, in a random order each round.
      const chaos = (async () => {
        let round: string[] = [];
        while (!stop) {
          await sleep(rand(500, 2500)); // the chaos itself: random moments between kills
          if (stop) break;
          if (round.length === 0) round = p.roles().sort(() => Math.random() - 0.5);
          await p.kill(round.pop() as Parameters<Pipeline['kill']>[0], rand(50, 800));
        }
      })();
      // Redis restarts at evenly spaced points of progress.
      const restartAt = Array.from({ length: REDIS_RESTARTS }, (_, i) =>
        Math.floor(((i + 1) * N) / (REDIS_RESTARTS + 1)),
      );

      try {
        while (settled < N) {
          if (Date.now() > deadline) break;
          await sleep(1000); // the poll interval of this wait for every case to settle (deadline above)
          const records = await p.records(ids).catch(() => null);
          if (!records) continue; // Redis is restarting
          settled = [...records.values()].filter(Pipeline.settled).length;
          log(
            `${settled}/${N} settled · kills ${JSON.stringify(p.figures.kills)} · redis restarts ${p.figures.redisRestarts} · decisions ${p.figures.decisions} · ${Math.round((Date.now() - started) / 1000)} s`,
          );
          if (restartAt.length && settled >= restartAt[0]!) {
            restartAt.shift();
            log('restarting redis-server');
            await p.restartRedis(rand(500, 2000));
          }
        }
      } finally {
        stop = true;
        await Promise.allSettled([chaos, reviewing, submitting]);
      }
      await submitting;
      // Before counting: wait until the delivery queue has no work left (no job waiting, delayed or active,
      // a stalled one included), so every in-flight delivery has landed and no redelivery can still come.
      const deliveries = new Queue(QUEUES.delivery, {
        connection: p.client,
        prefix: bullPrefix(p.prefix, QUEUES.delivery),
      });
      try {
        await waitForQueueIdle(deliveries, 60_000, 'the last deliveries');
      } finally {
        await deliveries.close();
      }

      const records = await p.records(ids);
      const losses: string[] = [];
      const wrongEnd: string[] = [];
      for (const id of ids) {
        const r = records.get(id);
        const want = expectedEnd(policyFor(id));
        if (!r || !Pipeline.settled(r))
          losses.push(
            `${id}: ${r ? `${r.status} r${r.revision} step ${r.currentStep} delivery ${r.delivery?.status ?? '-'} ${JSON.stringify(r.error)} | ${await p.diagnose(id, r.revision)}` : 'no record'}`,
          );
        else if (r.status !== want.status || r.revision !== want.revision || r.delivery?.status !== 'delivered')
          wrongEnd.push(
            `${id}: ${r.status} r${r.revision} delivery ${r.delivery?.status}, wanted ${want.status} r${want.revision}`,
          );
      }

      // Webhooks: one delivery id per case, the right one, signed; repeats of the same id are redeliveries the receiver dedupes.
      const idsByCase = new Map<string, Set<string>>();
      let badSignatures = 0;
      for (const got of p.receiver.received) {
        if (!got.signatureValid) badSignatures++;
        const body = JSON.parse(got.body) as { caseId: string; deliveryId: string; status: string; revision: number };
        expect(got.headers['x-co-delivery-id']).toBe(body.deliveryId);
        idsByCase.set(body.caseId, (idsByCase.get(body.caseId) ?? new Set()).add(body.deliveryId));
      }
      const duplicateDeliveries = [...idsByCase]
        .filter(([, s]) => s.size > 1)
        .map(([id, s]) => `${id}: ${[...s].join(', ')}`);
      const notDelivered = ids.filter((id) => !idsByCase.has(id));
      const wrongDeliveryId = ids.filter(
        (id) => idsByCase.has(id) && !idsByCase.get(id)!.has(`${id}.r${expectedEnd(policyFor(id)).revision}`),
      );
      const redeliveries = [...p.receiver.byDeliveryId.values()].reduce((a, n) => a + n - 1, 0);

      // Decisions: exactly the policy's, once each; everything the reviewer was told was recorded is there.
      const decisionProblems: string[] = [];
      const auditProblems: string[] = [];
      for (const id of ids) {
        const policy = policyFor(id);
        const want =
          policy === 'approve'
            ? [[1, 'approve']]
            : policy === 'reject'
              ? [[1, 'reject']]
              : [
                  [1, 'request_changes'],
                  [2, 'approve'],
                ];
        const got = (await p.decisionsOf(id)).map((d) => [d.revision, d.decision.action]);
        if (JSON.stringify(got) !== JSON.stringify(want))
          decisionProblems.push(`${id}: ${JSON.stringify(got)} wanted ${JSON.stringify(want)}`);
        for (const [key, action] of p.acknowledged)
          if (key.startsWith(`${id}.r`) && !got.some(([r, a]) => `${id}.r${r}` === key && a === action))
            decisionProblems.push(`${id}: acknowledged ${key} ${action} not recorded`);

        const audit = await p.auditOf(id);
        const count = (event: string, revision?: number) =>
          audit.filter((e) => e.event === event && (revision === undefined || e.revision === revision)).length;
        const revisions = want.map(([r]) => r as number);
        const problems = [
          count('enqueued') !== 1 && `enqueued ×${count('enqueued')}`,
          ...revisions.map(
            (r) => count('review_enqueued', r) !== 1 && `review_enqueued r${r} ×${count('review_enqueued', r)}`,
          ),
          ...revisions.map((r) => count('decided', r) !== 1 && `decided r${r} ×${count('decided', r)}`),
          ...revisions.map((r) => count('claimed', r) < 1 && `claimed r${r} missing`),
          count('closed') !== 1 && `closed ×${count('closed')}`,
          count('delivered') !== 1 && `delivered ×${count('delivered')}`,
        ].filter(Boolean);
        if (problems.length) auditProblems.push(`${id}: ${problems.join(', ')}`);
      }

      // PHI: no identifier of any input bundle in a webhook body or a log line of any process.
      const identifiers = [
        ...cases.flatMap((c) => c.identifiers),
        ...loadExampleCases().flatMap((e) => identifiersOf(e.submission)),
      ];
      const outputs = p.allOutput();
      const phi = scanForPhi(
        [
          ...p.receiver.received.map((r, i) => ({
            source: `webhook ${i}`,
            text: `${JSON.stringify(r.headers)}\n${r.body}`,
          })),
          ...outputs.map((text, i) => ({ source: `process output ${i}`, text })),
        ],
        identifiers,
      );
      const logLines = outputs.reduce((a, o) => a + o.split('\n').filter(Boolean).length, 0);
      const memory = await p.usedMemoryBytes();

      const figures = {
        suite: 'chaos',
        cases: N,
        seconds: Math.round((Date.now() - started) / 1000),
        kills: p.figures.kills,
        killsTotal: Object.values(p.figures.kills).reduce((a, b) => a + b, 0),
        redisRestarts: p.figures.redisRestarts,
        losses: losses.length,
        wrongEndStates: wrongEnd.length,
        duplicateDeliveries: duplicateDeliveries.length,
        redeliveriesDeduped: redeliveries,
        decisionProblems: decisionProblems.length,
        auditProblems: auditProblems.length,
        decisionsAcknowledged: p.acknowledged.size,
        reviewerErrorsRetried: p.figures.reviewerErrors,
        reviewerErrorKinds: p.figures.reviewerErrorKinds,
        submitRetries: p.figures.submitRetries,
        webhooksReceived: p.receiver.received.length,
        phiHits: phi.length,
        logLinesScanned: logLines,
        redisUsedMemoryBytes: memory,
      };
      log(JSON.stringify(figures));
      mkdirSync(path.join(ROOT, '.data/reliability'), { recursive: true });
      writeFileSync(
        path.join(ROOT, `.data/reliability/chaos-${N}.json`),
        `${JSON.stringify({ ...figures, at: new Date().toISOString() }, null, 2)}\n`,
      );

      expect(losses, 'cases that never settled').toEqual([]);
      expect(wrongEnd, 'cases in the wrong end state').toEqual([]);
      expect(notDelivered, 'closed cases the receiver never got').toEqual([]);
      expect(duplicateDeliveries, 'cases delivered under two ids').toEqual([]);
      expect(wrongDeliveryId).toEqual([]);
      expect(badSignatures).toBe(0);
      expect(decisionProblems).toEqual([]);
      expect(auditProblems).toEqual([]);
      expect(phi.slice(0, 5)).toEqual([]);
      expect(figures.killsTotal).toBeGreaterThan(0);
      expect(p.figures.redisRestarts).toBe(REDIS_RESTARTS);
      expect(logLines).toBeGreaterThan(N);
    },
    TIMEOUT_MS,
  );
});
