/**
 * `npm run bench:load`: the whole pipeline under load. JSON on stdout, progress on stderr.
 *
 * Deployed as separate processes on one local redis-server (AOF on, appendfsync everysec, as
 * docs/operations.md recommends): the API server, LOAD_WORKERS cases workers (default 2) and a
 * delivery worker. Tools are zero-latency: the knowledge base is the local SQLite store, literature
 * and imaging are not configured (their steps report so at once). Review is automated: scripted
 * reviewers claim and approve over HTTP. Each case is delivered to a local webhook receiver.
 *
 *   1. capacity and memory: LOAD_CALIBRATE cases (default 1000) submitted with the reviewers off;
 *      drafting rate, then Redis memory per case waiting for review (used_memory delta / cases);
 *      then the reviewers approve them all: closing rate (decision → resumed → delivered).
 *   2. sustained: LOAD_N cases (default 10,000) submitted open-loop at LOAD_UTILISATION (default
 *      0.7) of the combined capacity, reviewers on. Throughput = delivered / wall time; latency per
 *      case from its audit trail, excluding review time: (review_enqueued − enqueued) +
 *      (webhook received − decided). RSS of every process sampled each second.
 *   3. baseline, same run, same Redis: raw BullMQ moving as many jobs with the same payload through
 *      the same four hops (cases → review by manual getNextJob/moveToCompleted → resume → delivery)
 *      with no-op processors.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { ApiError } from '../src/client/index.js';
import type { CaseSubmissionInput } from '../src/domain/case.js';
import { AuditLog } from '../src/audit/case-log.js';
import { bullPrefix, QUEUES } from '../src/infra/redis-keys.js';
import {
  benchStack,
  exampleSubmission,
  percentile,
  pooledClient,
  progressFor,
  startArrivalReceiver,
} from './common.js';

const N = Number(process.env.LOAD_N ?? 10_000);
const CALIBRATE = Number(process.env.LOAD_CALIBRATE ?? 1000);
const WORKERS = Number(process.env.LOAD_WORKERS ?? 2);
const UTILISATION = Number(process.env.LOAD_UTILISATION ?? 0.7);
const REVIEWERS = 8;
const progress = progressFor('bench:load');
const r2 = (x: number) => Math.round(x * 100) / 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { n: s.length, p50: r2(percentile(s, 50)), p99: r2(percentile(s, 99)), max: r2(s.at(-1) ?? NaN) };
};
/** A rejection handler that turns an API error answer into `value` and rethrows anything else. */
const apiErrorAs =
  <T>(value: T) =>
  (err: unknown): T => {
    if (err instanceof ApiError) return value;
    throw err;
  };
const rssMb = (pid: number | undefined) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
};

async function main(): Promise<void> {
  const stack = await benchStack('load', {
    redisUrl: process.env.REDIS_URL,
    redisDir: path.resolve('.data', `bench-load-redis-${process.pid}`),
    appendonly: true,
    caseWorkers: WORKERS,
    env: { NODE_ENV: 'production', STAFF_TOKEN_DECISIONS: 'true' }, // the scripted reviewer uses a staff token
  });
  const { keyPrefix, tokens } = stack;
  const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
  const template = exampleSubmission();
  const receiver = await startArrivalReceiver();
  const { delivered, callbackUrl } = receiver;

  await stack.start();
  const procs = Object.fromEntries(
    [...stack.procs].map(([role, p]) => [
      role === 'api' || role === 'delivery' ? role : role.replace('-', ''),
      p.child,
    ]),
  );
  const rss: Record<string, number[]> = Object.fromEntries(Object.keys(procs).map((k) => [k, []]));
  const sampler = setInterval(() => {
    for (const [k, p] of Object.entries(procs)) rss[k]!.push(rssMb(p.pid));
  }, 1000);
  const pool = new Pool(stack.base, { connections: 64, pipelining: 1 });
  const service = pooledClient(stack, tokens.service, pool);
  const reviewer = pooledClient(stack, tokens.staff['load-reviewer']!, pool);
  const submit = async (caseId: string) => {
    const res = await service.submitCase({ ...template, caseId, callbackUrl } as CaseSubmissionInput);
    if (!res.created) throw new Error(`intake answered 200: ${caseId} was already submitted`);
  };
  let reviewing = false;
  let stopReviewers = false;
  const reviewers = Array.from({ length: REVIEWERS }, async () => {
    while (!stopReviewers) {
      if (!reviewing) {
        await sleep(50);
        continue;
      }
      // Any error answer (nothing to claim, a lost race) means try again shortly; a network failure ends the reviewer.
      const claim = await reviewer.claimNextReview().catch(apiErrorAs(null));
      if (!claim) {
        await sleep(20);
        continue;
      }
      await reviewer.decide(claim.caseId, claim.revision, { action: 'approve' }).catch(apiErrorAs(undefined));
    }
  });
  const reviewQueue = new Queue(QUEUES.review, { connection: redis, prefix: bullPrefix(keyPrefix, QUEUES.review) });
  const reviewDepth = () => reviewQueue.getPrioritizedCount();

  try {
    // 1. Capacity and memory.
    progress(`calibration: ${CALIBRATE} cases, reviewers off`);
    const memBefore = await usedMemory();
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < CALIBRATE) await submit(`load-cal-${next++}`);
      }),
    );
    for (;;) {
      const depth = await reviewDepth();
      if (depth >= CALIBRATE) break;
      if (performance.now() - t0 > 20 * 60_000) throw new Error(`only ${depth}/${CALIBRATE} reached review`);
      await sleep(250);
    }
    const draftSeconds = (performance.now() - t0) / 1000;
    const memWaiting = await usedMemory();
    const draftRate = CALIBRATE / draftSeconds;
    progress(
      `drafted ${CALIBRATE} in ${draftSeconds.toFixed(1)} s (${draftRate.toFixed(1)}/s); ${((memWaiting - memBefore) / CALIBRATE / 1024).toFixed(1)} KiB per waiting case; approving them`,
    );
    const t1 = performance.now();
    reviewing = true;
    while (delivered.size < CALIBRATE) {
      if (performance.now() - t1 > 20 * 60_000) throw new Error(`only ${delivered.size}/${CALIBRATE} delivered`);
      await sleep(100);
    }
    const closeSeconds = (performance.now() - t1) / 1000;
    const closeRate = CALIBRATE / closeSeconds;
    const capacity = 1 / (1 / draftRate + 1 / closeRate);
    const rate = capacity * UTILISATION;
    progress(
      `closed ${CALIBRATE} in ${closeSeconds.toFixed(1)} s (${closeRate.toFixed(1)}/s); combined capacity ${capacity.toFixed(1)}/s; sustained run at ${rate.toFixed(1)}/s`,
    );

    // 2. Sustained, open loop.
    const before = delivered.size;
    const t2 = performance.now();
    const submittedAt = new Map<string, number>();
    const inflight = new Set<Promise<void>>();
    for (let i = 0; i < N; i++) {
      const due = t2 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const id = `load-${i}`;
      submittedAt.set(id, Date.now());
      const p = submit(id).finally(() => inflight.delete(p));
      inflight.add(p);
      if (i % 1000 === 999)
        progress(`submitted ${i + 1}/${N}; delivered ${delivered.size - before}; review queue ${await reviewDepth()}`);
    }
    await Promise.all(inflight);
    while (delivered.size - before < N) {
      if (performance.now() - t2 > 60 * 60_000) throw new Error(`only ${delivered.size - before}/${N} delivered`);
      await sleep(200);
    }
    const sustainedSeconds = (performance.now() - t2) / 1000;
    progress(`delivered ${N} in ${sustainedSeconds.toFixed(1)} s; reading audit trails`);
    const audit = new AuditLog(redis, keyPrefix);
    const latency: number[] = [];
    const drafting: number[] = [];
    const closing: number[] = [];
    for (let i = 0; i < N; i += 200) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(200, N - i) }, (_, k) => audit.list(`load-${i + k}`)),
      );
      batch.forEach((events, k) => {
        const at = (name: string) => Date.parse(events.find((e) => e.event === name)?.at ?? '');
        const d = at('review_enqueued') - at('enqueued');
        const c = delivered.get(`load-${i + k}.r1`)! - at('decided');
        drafting.push(d);
        closing.push(c);
        latency.push(d + c);
      });
    }
    clearInterval(sampler);

    // 3. Raw BullMQ through the same hops.
    progress(`raw BullMQ baseline: ${N} jobs through cases → review (manual) → resume → delivery`);
    const sample = await reviewer.getReview('load-0', 1);
    const payload = { ...template, request: sample.request };
    const raw = await rawPipeline(stack.redisUrl, payload, N, WORKERS);

    const sustained = N / sustainedSeconds;
    const peak = (xs: number[]) => r2(Math.max(...xs.filter(Number.isFinite)));
    const out = {
      benchmark: 'load',
      date: new Date().toISOString(),
      machine: { node: process.version, cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30) },
      settings: {
        cases: N,
        calibrationCases: CALIBRATE,
        caseWorkers: WORKERS,
        workerConcurrency: 16,
        reviewers: REVIEWERS,
        utilisation: UTILISATION,
        redis: stack.redis ? 'local redis-server, AOF appendfsync everysec' : 'REDIS_URL',
        tools: 'zero-latency: local SQLite knowledge base; literature and imaging not configured',
        review: 'automated: scripted reviewers approve over HTTP',
      },
      capacity: {
        draftingPerSecond: r2(draftRate),
        closingPerSecond: r2(closeRate),
        combinedPerSecond: r2(capacity),
        description:
          'drafting: intake → graph → review queue with reviewers off; closing: approve → resume → close → signed webhook; combined: both sharing the machine',
      },
      redisMemory: {
        bytesPerWaitingCase: Math.round((memWaiting - memBefore) / CALIBRATE),
        waitingCases: CALIBRATE,
        description:
          'used_memory growth with the calibration cases waiting for review: case record, review job with its payload, audit stream, queue bookkeeping (checkpoints are in SQLite)',
      },
      sustained: {
        cases: N,
        offeredPerSecond: r2(rate),
        seconds: r2(sustainedSeconds),
        deliveredPerSecond: r2(sustained),
      },
      latencyMsExcludingReview: {
        endToEnd: stats(latency),
        intakeToReviewQueue: stats(drafting),
        decisionToDelivered: stats(closing),
      },
      rssMb: Object.fromEntries(
        Object.entries(rss).map(([k, xs]) => [k, { peak: peak(xs), end: r2(xs.at(-1) ?? NaN) }]),
      ),
      rawBullmq: {
        ...raw,
        description:
          'raw BullMQ, same payload, same Redis: Queue.add → Worker (no-op, adds to review) → 8 manual getNextJob/moveToCompleted loops (add to resume) → Worker (no-op, adds to delivery) → Worker (no-op)',
      },
      ratio: {
        sustainedOverRawBullmq: r2(sustained / raw.perSecond),
        capacityOverRawBullmq: r2(capacity / raw.perSecond),
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    clearInterval(sampler);
    stopReviewers = true;
    await Promise.allSettled(reviewers);
    await pool.close();
    await reviewQueue.close();
    redis.disconnect();
    await stack.close();
    receiver.close();
    if (stack.redis) rmSync(stack.redis.dataDir, { recursive: true, force: true });
    rmSync(stack.env.DATA_DIR!, { recursive: true, force: true });
  }
}

/** The pipeline's four queue hops in raw BullMQ, no-op work at each. */
async function rawPipeline(
  redisUrl: string,
  payload: unknown,
  n: number,
  workers: number,
): Promise<{ jobs: number; seconds: number; perSecond: number }> {
  const prefix = `{bench-raw-load-${randomBytes(4).toString('hex')}}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const q = (name: string) => new Queue(name, { connection, prefix, defaultJobOptions: { removeOnComplete: true } });
  const cases = q('cases');
  const review = q('review');
  const resume = q('resume');
  const delivery = q('delivery');
  let done = 0;
  const opts = { connection, prefix, concurrency: 16 };
  const caseWorkers = Array.from(
    { length: workers },
    () =>
      new Worker(
        'cases',
        async (job: Job) => void (await review.add('review', job.data as object, { jobId: `r.${job.id}` })),
        opts,
      ),
  );
  const resumeWorker = new Worker(
    'resume',
    async (job: Job) => void (await delivery.add('deliver', { id: job.id }, { jobId: `d.${job.id}` })),
    opts,
  );
  const deliveryWorker = new Worker(
    'delivery',
    () => {
      done++;
      return Promise.resolve();
    },
    opts,
  );
  const manual = new Worker('review', null, { connection, prefix, autorun: false, lockDuration: 60_000 });
  let stopping = false;
  const t0 = performance.now();
  const reviewers = Array.from({ length: REVIEWERS }, async () => {
    while (!stopping) {
      const token = randomUUID();
      const job = (await manual.getNextJob(token, { block: false })) as Job | undefined;
      if (!job) {
        await sleep(5);
        continue;
      }
      await job.moveToCompleted({ action: 'approve' }, token, false);
      await resume.add('resume', { action: 'approve' }, { jobId: `s.${job.id}` });
    }
  });
  for (let i = 0; i < n; i += 500)
    await cases.addBulk(
      Array.from({ length: Math.min(500, n - i) }, (_, k) => ({
        name: 'case',
        data: payload as object,
        opts: { jobId: `c${i + k}` },
      })),
    );
  while (done < n) await sleep(20);
  const seconds = (performance.now() - t0) / 1000;
  stopping = true;
  await Promise.all(reviewers);
  await Promise.all([...caseWorkers, resumeWorker, deliveryWorker, manual].map((w) => w.close()));
  for (const queue of [cases, review, resume, delivery]) {
    await queue.obliterate({ force: true });
    await queue.close();
  }
  connection.disconnect();
  return { jobs: n, seconds: r2(seconds), perSecond: Math.round(n / seconds) };
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
