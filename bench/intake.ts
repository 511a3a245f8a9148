/**
 * `npm run bench`: intake-to-worker throughput and latency against a raw BullMQ baseline,
 * measured in the same run on the same Redis. JSON on stdout; progress on stderr.
 *
 * Both scenarios run as they are deployed: separate processes for the producer side and the
 * worker, the same worker concurrency, the same number of submissions in flight, and the
 * same completion signal (BullMQ QueueEvents `completed`, read by the load generator).
 *
 *   baseline    load generator: Queue.add(case)  ->  no-op worker process  -> completed
 *   intake      load generator: HTTP POST /v1/cases (keep-alive)  ->  API server process
 *               (validation, case record, enqueue)  ->  the same no-op worker process
 *               consuming the `cases` queue  -> completed
 *   endToEnd    HTTP  ->  API  ->  cases worker process running the clinical-case graph
 *               (SQLite checkpoints, no tools configured)  -> the case reaches review
 *
 * The intake/baseline ratio is the intake overhead (the goal is >= 0.5); endToEnd shows what a
 * worker process sustains once the graph runs (see also `npm run bench:graph`).
 *
 * Environment: BENCH_N (cases per round, default 3000), BENCH_E2E_N (default 300), BENCH_INFLIGHT (default 32),
 * BENCH_CONCURRENCY (worker concurrency, default 16), BENCH_ROUNDS (default 2), REDIS_URL,
 * BENCH_RECORD (a real record under SHARED_DATA_DIR as every case's bundle instead of the example case;
 * `npm run bench:intake:record` uses the largest Synthea record),
 * BENCH_PROFILE_DIR (write V8 CPU profiles of the spawned processes there).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { Pool } from 'undici';
import { startLocalRedis, type LocalRedis } from '../src/infra/redis-server.js';
import { QUEUES, bullPrefix } from '../src/infra/redis-keys.js';
import { stopProcess } from '../test/helpers/processes.js';
import { DevStack } from '../test/support/stack.js';
import { BENCH_SPAWN, cpuMs, spawnEntry, summarise, waitForWorkers, type RoundResult } from './common.js';

const N = Number(process.env.BENCH_N ?? 3000);
const INFLIGHT = Number(process.env.BENCH_INFLIGHT ?? 32);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARMUP = Math.min(300, N);
const E2E_N = Number(process.env.BENCH_E2E_N ?? 300);
const TOKEN = `bench-${randomBytes(16).toString('hex')}`;

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function measureCpu<T extends RoundResult>(
  pids: Record<string, number | undefined>,
  run: () => Promise<T>,
): Promise<T> {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const self0 = process.cpuUsage();
  const result = await run();
  const self = process.cpuUsage(self0);
  const per = (ms: number) => Math.round((ms / result.n) * 1000) / 1000;
  result.cpuMsPerCase = { loadGenerator: per((self.user + self.system) / 1000) };
  for (const [k, pid] of Object.entries(pids)) result.cpuMsPerCase[k] = per(cpuMs(pid) - before[k]!);
  return result;
}

let redisPid: number | undefined;
/**
 * Submit `count` items with at most INFLIGHT in flight. Latency runs from the start of the
 * submission to the moment the load generator sees the job's `completed` event.
 */
async function drive(
  count: number,
  events: QueueEvents,
  jobIdOf: (i: number) => string,
  submit: (i: number) => Promise<void>,
): Promise<RoundResult> {
  const starts = new Map<string, number>();
  const latencies: number[] = [];
  let resolveAll!: () => void;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const onCompleted = ({ jobId }: { jobId: string }) => {
    const start = starts.get(jobId);
    if (start === undefined) return;
    starts.delete(jobId);
    latencies.push(performance.now() - start);
    if (latencies.length === count) resolveAll();
  };
  events.on('completed', onCompleted);
  const t0 = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      starts.set(jobIdOf(i), performance.now());
      await submit(i);
    }
  };
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
  await all;
  const seconds = (performance.now() - t0) / 1000;
  events.off('completed', onCompleted);
  return summarise(latencies, seconds);
}

async function baselineRound(
  redisUrl: string,
  count: number,
  payload: Record<string, unknown> | null,
): Promise<RoundResult> {
  const prefix = `{bench-raw-${randomBytes(4).toString('hex')}}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('raw', { connection, prefix });
  const events = new QueueEvents('raw', { connection: { url: redisUrl }, prefix });
  await events.waitUntilReady();
  const worker = spawnEntry('bench/raw-worker.ts', {
    REDIS_URL: redisUrl,
    RAW_PREFIX: prefix,
    WORKER_CONCURRENCY: String(CONCURRENCY),
  });
  await waitForWorkers(queue);
  const result = await measureCpu({ worker: worker.child.pid, redis: redisPid }, () =>
    drive(
      count,
      events,
      (i) => `raw.${i}`,
      async (i) =>
        void (await queue.add('noop', payload ? { ...payload, caseId: `raw-${i}` } : { i }, {
          jobId: `raw.${i}`,
          removeOnComplete: true,
        })),
    ),
  );
  await stopProcess(worker);
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return result;
}

async function pipelineRound(
  redisUrl: string,
  count: number,
  template: Record<string, unknown>,
  consumer: 'no-op' | 'graph',
): Promise<RoundResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'bench-intake-'));
  const stack = await DevStack.open({
    redisUrl,
    keyPrefix: `bench${randomBytes(4).toString('hex')}`,
    dataDir,
    service: { name: 'bench', token: TOKEN },
    caseWorkers: consumer === 'graph' ? 1 : 0,
    delivery: false,
    waitForWorkers: false,
    spawn: BENCH_SPAWN,
    env: {
      WORKER_CONCURRENCY: String(CONCURRENCY),
      // Production log level; the output is read and discarded, so logging cost is included.
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
    },
  });
  const { keyPrefix } = stack;
  const prefix = bullPrefix(keyPrefix, QUEUES.cases);
  const events = new QueueEvents(QUEUES.cases, { connection: { url: redisUrl }, prefix });
  await events.waitUntilReady();
  await stack.start();
  const worker =
    consumer === 'graph'
      ? stack.procs.get('cases-1')!
      : await stack.spawn('raw-worker', false, {
          entry: 'bench/raw-worker.ts',
          env: { RAW_PREFIX: prefix, RAW_QUEUE: QUEUES.cases, WORKER_CONCURRENCY: String(CONCURRENCY) },
        });
  const watchRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const watchQueue = new Queue(QUEUES.cases, { connection: watchRedis, prefix });
  await waitForWorkers(watchQueue);
  await watchQueue.close();
  watchRedis.disconnect();
  // Raw undici requests, not the typed client: the load generator's own cost (its CPU is measured) stays what it was.
  const pool = new Pool(stack.base, { connections: INFLIGHT, pipelining: 1 });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const result = await measureCpu(
    { api: stack.procs.get('api')!.child.pid, worker: worker.child.pid, redis: redisPid },
    () =>
      drive(
        count,
        events,
        (i) => `case.bench-${i}`,
        async (i) => {
          const res = await pool.request({
            path: '/v1/cases',
            method: 'POST',
            headers,
            body: JSON.stringify({ ...template, caseId: `bench-${i}` }),
          });
          const text = await res.body.text();
          if (res.statusCode !== 202) throw new Error(`intake answered ${res.statusCode}: ${text}`);
        },
      ),
  );
  await pool.close();
  await stack.close();
  await events.close();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUES.cases, { connection: redis, prefix });
  await queue.obliterate({ force: true });
  await queue.close();
  let cursor = '0';
  do {
    const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${keyPrefix}:*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
  return result;
}

async function main(): Promise<void> {
  let local: LocalRedis | undefined;
  let redisUrl = process.env.REDIS_URL;
  const dataDir = path.resolve('.data', `bench-redis-${process.pid}`);
  if (!redisUrl) {
    local = await startLocalRedis({ dataDir, appendonly: false });
    redisUrl = local.url;
    redisPid = local.pid;
  }
  const example = JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, '../examples/cases/polypharmacy-ckd.json'), 'utf8'),
  ) as { submission: Record<string, unknown> };
  // BENCH_RECORD: a real FHIR record (a path under SHARED_DATA_DIR, e.g. synthea/synthea-038.json) as the bundle of every case.
  const record = process.env.BENCH_RECORD;
  const template: Record<string, unknown> = record
    ? {
        question: 'Is the current medication list safe, and what needs monitoring?',
        priority: 'routine',
        bundle: JSON.parse(
          readFileSync(
            path.resolve(import.meta.dirname, '..', process.env.SHARED_DATA_DIR ?? '../shared/data', record),
            'utf8',
          ),
        ) as unknown,
      }
    : example.submission;
  const payloadBytes = Buffer.byteLength(JSON.stringify(template));

  try {
    progress(`warm-up (${WARMUP} each)`);
    await baselineRound(redisUrl, WARMUP, null);
    await pipelineRound(redisUrl, WARMUP, template, 'no-op');

    const tiny: RoundResult[] = [];
    const baseline: RoundResult[] = [];
    const pipeline: RoundResult[] = [];
    const endToEnd: RoundResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      progress(`round ${round}/${ROUNDS}: raw BullMQ baseline, tiny payload, ${N} jobs`);
      tiny.push(await baselineRound(redisUrl, N, null));
      progress(`round ${round}/${ROUNDS}: raw BullMQ baseline, the same case payload, ${N} jobs`);
      baseline.push(await baselineRound(redisUrl, N, template));
      progress(`round ${round}/${ROUNDS}: intake over HTTP to a no-op consumer, ${N} cases`);
      pipeline.push(await pipelineRound(redisUrl, N, template, 'no-op'));
      progress(`round ${round}/${ROUNDS}: end to end through the graph worker, ${E2E_N} cases`);
      endToEnd.push(await pipelineRound(redisUrl, E2E_N, template, 'graph'));
    }
    const mean = (rs: RoundResult[]) => rs.reduce((a, r) => a + r.throughputPerSec, 0) / rs.length;
    const ratioTo = (rs: RoundResult[]) => Math.round((mean(pipeline) / mean(rs)) * 1000) / 1000;
    const ratio = ratioTo(baseline);
    const out = {
      benchmark: 'intake-to-worker',
      date: new Date().toISOString(),
      machine: {
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memGiB: Math.round(os.totalmem() / 2 ** 30),
      },
      settings: {
        casesPerRound: N,
        rounds: ROUNDS,
        inflight: INFLIGHT,
        workerConcurrency: CONCURRENCY,
        payloadBytes,
        record: record ?? 'examples/cases/polypharmacy-ckd.json',
        redis: local ? 'local redis-server, no persistence' : 'REDIS_URL',
        processes: 'load generator + API server + one worker (pipeline); load generator + one worker (baseline)',
      },
      baselineTinyPayload: {
        description: 'raw BullMQ: Queue.add({ i }) -> no-op Worker process -> completed event',
        rounds: tiny,
        meanThroughputPerSec: Math.round(mean(tiny)),
      },
      baseline: {
        description:
          'raw BullMQ carrying the same case payload: Queue.add(case) -> no-op Worker process -> completed event',
        rounds: baseline,
        meanThroughputPerSec: Math.round(mean(baseline)),
      },
      intake: {
        description:
          'HTTP POST /v1/cases -> API server process -> the same no-op worker process on the cases queue -> completed event',
        rounds: pipeline,
        meanThroughputPerSec: Math.round(mean(pipeline)),
      },
      endToEnd: {
        description:
          'HTTP -> API -> one cases worker process running the clinical-case graph (SQLite, no tools configured) -> case waiting for review',
        rounds: endToEnd,
        meanThroughputPerSec: Math.round(mean(endToEnd)),
      },
      ratio: {
        intakeOverBaselineThroughput: ratio,
        intakeOverTinyPayloadBaseline: ratioTo(tiny),
        goal: 0.5,
        meetsGoal: ratio >= 0.5,
      },
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await local?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
