/**
 * `npm run bench:review`: the human-review loop at volume. JSON on stdout, progress on stderr.
 *
 * The stack runs as deployed, in separate processes on one local Redis: the API server, one
 * cases worker (the clinical-case graph with the starter knowledge base; no literature or
 * imaging), one delivery worker. The load generator:
 *
 *   1. submits BENCH_REVIEW_N cases (default 1000) over HTTP with a callback URL and waits
 *      until each waits for review (enqueue → draft → review queue);
 *   2. decides BENCH_REVIEW_PACED of them (default 100) at BENCH_REVIEW_RATE per second
 *      (default 10) with the workers running, and measures decision → delivered: the
 *      decision's recorded time to the signed webhook's arrival on 127.0.0.1 (one clock);
 *   3. stops the cases worker and decides the rest as fast as BENCH_REVIEWERS scripted
 *      reviewers (default 8) can over HTTP, each looping `POST /v1/reviews/claim` →
 *      `POST …/decision {approve}`: the review queue's throughput, not competing for the
 *      two cores with graph resumes; then restarts the worker and drains the backlog.
 *
 * Baseline in the same run on the same Redis: raw BullMQ manual processing of as many jobs
 * carrying the same review payload — `Worker.getNextJob(token)` then `moveToCompleted`, with as
 * many concurrent loops — the primitive the review queue's claims are built on.
 *
 * Environment: BENCH_REVIEW_N (default 1000), BENCH_REVIEWERS (default 8), BENCH_INFLIGHT (default 32).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import type { CaseSubmissionInput } from '../src/domain/case.js';
import {
  benchStack,
  exampleSubmission,
  percentile,
  pooledClient,
  progressFor,
  startArrivalReceiver,
} from './common.js';

const N = Number(process.env.BENCH_REVIEW_N ?? 1000);
const REVIEWERS = Number(process.env.BENCH_REVIEWERS ?? 8);
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 32);
const PACED = Math.min(N, Number(process.env.BENCH_REVIEW_PACED ?? 100));
const RATE = Number(process.env.BENCH_REVIEW_RATE ?? 10);
const progress = progressFor('bench:review');
const r2 = (x: number) => Math.round(x * 100) / 100;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: r2(percentile(s, 50)), p99: r2(percentile(s, 99)), max: r2(s.at(-1) ?? NaN) };
};

async function rawBaseline(
  redisUrl: string,
  payload: unknown,
): Promise<{ jobs: number; seconds: number; perSecond: number }> {
  const prefix = `{bench-raw-review-${randomBytes(4).toString('hex')}}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw-review', { connection, prefix });
  const worker = new Worker('raw-review', null, { connection, prefix, autorun: false, lockDuration: 60_000 });
  for (let i = 0; i < N; i += 200)
    await queue.addBulk(
      Array.from({ length: Math.min(200, N - i) }, (_, k) => ({
        name: 'review',
        data: payload,
        opts: { jobId: `raw.${i + k}`, priority: 10 + ((i + k) % 6) },
      })),
    );
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: REVIEWERS }, async () => {
      for (;;) {
        const token = randomUUID();
        const job = (await worker.getNextJob(token, { block: false })) as Job | undefined;
        if (!job) return;
        await job.moveToCompleted({ action: 'approve' }, token, false);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return { jobs: done, seconds: r2(seconds), perSecond: Math.round(done / seconds) };
}

async function main(): Promise<void> {
  const stack = await benchStack('bench', {
    redisUrl: process.env.REDIS_URL,
    redisDir: path.resolve('.data', `bench-review-redis-${process.pid}`),
  });
  const redisUrl = stack.redisUrl;
  const template = exampleSubmission();
  // The webhook receiver: arrival time per case.
  const receiver = await startArrivalReceiver();
  const { delivered, callbackUrl } = receiver;
  const pool = new Pool(stack.base, { connections: Math.max(INFLIGHT, REVIEWERS), pipelining: 1 });
  const service = pooledClient(stack, stack.tokens.service, pool);
  const reviewer = pooledClient(stack, stack.tokens.staff['bench-reviewer']!, pool);
  try {
    await stack.start();

    // 1. Enqueue → draft → review queue.
    progress(`submitting ${N} cases`);
    const submitted = new Map<string, number>();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: INFLIGHT }, async () => {
        while (next < N) {
          const caseId = `bench-review-${next++}`;
          submitted.set(caseId, performance.now());
          const res = await service.submitCase({ ...template, caseId, callbackUrl } as CaseSubmissionInput);
          if (!res.created) throw new Error(`intake answered 200: ${caseId} was already submitted`);
        }
      }),
    );
    const inQueue = new Map<string, number>();
    for (;;) {
      const { items } = await reviewer.listReviews();
      for (const i of items) if (!inQueue.has(i.caseId)) inQueue.set(i.caseId, performance.now());
      if (inQueue.size >= N) break;
      if (performance.now() - t0 > 30 * 60_000)
        throw new Error(`only ${inQueue.size}/${N} cases reached review in 30 min`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const draftSeconds = (performance.now() - t0) / 1000;
    progress(
      `${N} cases waiting for review after ${draftSeconds.toFixed(1)} s; deciding with ${REVIEWERS} scripted reviewers`,
    );

    // The scripted reviewer: claim the next item, approve it.
    const decidedAt = new Map<string, number>();
    const decisionMs: number[] = [];
    const decideNext = async (): Promise<boolean> => {
      const claim = await reviewer.claimNextReview();
      if (!claim) return false;
      const { caseId, revision } = claim;
      const started = performance.now();
      const decision = await reviewer.decide(caseId, revision, { action: 'approve' });
      if (!decision.created) throw new Error(`decision answered 200: ${caseId} r${revision} was already decided`);
      decisionMs.push(performance.now() - started);
      decidedAt.set(`${caseId}.r${revision}`, Date.parse(decision.record.recordedAt));
      return true;
    };
    const waitDelivered = async (count: number, timeoutMs: number) => {
      const t = Date.now();
      while (delivered.size < count && Date.now() - t < timeoutMs) await new Promise((r) => setTimeout(r, 100));
    };

    // 2. Paced decisions with every worker running: decision → delivered, unloaded.
    progress(`deciding ${PACED} at ${RATE}/s with the workers running`);
    for (let i = 0; i < PACED; i++) {
      const due = t0 + draftSeconds * 1000 + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await decideNext();
    }
    await waitDelivered(PACED, 60_000);
    const paced = [...decidedAt].flatMap(([id, at]) => (delivered.has(id) ? [delivered.get(id)! - at] : []));

    // 3. The rest as fast as the reviewers can, with the cases worker stopped (no CPU contention), then the backlog.
    await stack.stop('cases-1');
    progress(`deciding the other ${N - PACED} with ${REVIEWERS} scripted reviewers, cases worker stopped`);
    const burstStart = decidedAt.size;
    const t1 = performance.now();
    await Promise.all(
      Array.from({ length: REVIEWERS }, async () => {
        while (await decideNext());
      }),
    );
    const reviewSeconds = (performance.now() - t1) / 1000;
    const burst = decidedAt.size - burstStart;
    progress(`decided ${burst} in ${reviewSeconds.toFixed(1)} s; restarting the cases worker to drain the backlog`);
    const t2 = performance.now();
    await stack.spawn('cases-1', false);
    await waitDelivered(decidedAt.size, 10 * 60_000);
    const drainSeconds = (performance.now() - t2) / 1000;

    progress('raw BullMQ baseline (manual getNextJob + moveToCompleted)');
    const sample = await reviewer.getReview('bench-review-0', 1);
    const payload = {
      caseId: 'raw',
      revision: 1,
      request: sample.request,
      enqueuedAt: new Date().toISOString(),
    };
    const raw = await rawBaseline(redisUrl, payload);
    const reviewPerSecond = Math.round(burst / reviewSeconds);
    const out = {
      benchmark: 'review-loop',
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
      settings: {
        cases: N,
        reviewers: REVIEWERS,
        inflight: INFLIGHT,
        processes: 'load generator + API server + one cases worker + one delivery worker',
        redis: stack.redis ? 'local redis-server, no persistence' : 'REDIS_URL',
        payloadBytes: Buffer.byteLength(JSON.stringify(payload)),
      },
      enqueueToReview: {
        cases: inQueue.size,
        seconds: r2(draftSeconds),
        casesPerSecond: r2(inQueue.size / draftSeconds),
        latencyMs: stats([...inQueue].map(([id, at]) => at - submitted.get(id)!)),
      },
      review: {
        decided: burst,
        seconds: r2(reviewSeconds),
        decisionsPerSecond: reviewPerSecond,
        decisionRequestMs: stats(decisionMs),
        description:
          'per decision: POST /v1/reviews/claim, then POST …/decision (approve), over HTTP; cases worker stopped',
      },
      decisionToDelivered: {
        decided: PACED,
        ratePerSecond: RATE,
        delivered: paced.length,
        ms: stats(paced),
        description:
          'paced decisions, workers running: decision recorded → graph resumes → case closed → delivery worker → signed webhook received',
      },
      backlog: {
        decisions: burst,
        drainSeconds: r2(drainSeconds),
        deliveredPerSecond: r2(burst / drainSeconds),
        allDelivered: delivered.size === decidedAt.size,
        description: 'the burst’s decisions resumed, closed and delivered by one cases worker and one delivery worker',
      },
      rawBullmq: {
        ...raw,
        description: 'raw BullMQ: Worker.getNextJob(token) + moveToCompleted, same payload, same concurrency, no HTTP',
      },
      ratio: { reviewQueueOverRawBullmq: r2(reviewPerSecond / raw.perSecond) },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await pool.close();
    await stack.close();
    receiver.close();
    rmSync(stack.env.DATA_DIR!, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
