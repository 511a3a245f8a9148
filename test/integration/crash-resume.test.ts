/**
 * Kill the worker process (SIGKILL) at each stage of a case. After a restart the case resumes
 * from its last checkpoint and reaches review once: no plan step's tool call is made twice, and
 * the review job is enqueued once. Every case runs on both checkpointers (SQLite and Postgres).
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRecordsDatabase, type RecordsDatabase } from '../../src/records/database.js';
import { createRedis } from '../../src/queues/connection.js';
import { QUEUES, bullPrefix } from '../../src/infra/redis-keys.js';
import { CaseProducer } from '../../src/queues/producer.js';
import type { ReviewJobData } from '../../src/queues/review.js';
import { createTestDatabase } from '../helpers/kb.js';
import { openReviewQueue } from '../helpers/review.js';
import { loadExampleCases } from '../helpers/cases.js';
import { deletePrefix, testConfig, testEnv, uniquePrefix, waitUntil } from '../helpers/env.js';
import { spawnTs, waitForLine } from '../helpers/processes.js';

const polypharmacy = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;

/** Checkpoint rows the Postgres database holds for a case's thread (thread_id = case id). */
async function postgresCheckpoints(url: string, caseId: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const rows = await client.query<{ n: string }>('SELECT count(*) AS n FROM checkpoints WHERE thread_id = $1', [
      caseId,
    ]);
    return Number(rows.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

// The whole suite on each checkpointer: SQLite under DATA_DIR, and Postgres (DATABASE_URL set for the
// worker processes, a database of their own on the test run's PostgreSQL). Each backend has its own
// key prefix, data folder and case ids.
describe.each(['sqlite', 'postgres'] as const)('%s checkpoints', (backend) => {
  const prefix = uniquePrefix();
  const config = testConfig(prefix);
  const workDir = path.join(config.dataDir, 'crash');
  let redis: Redis;
  let producer: CaseProducer;
  let reviewQueue: Queue;
  let database: { url: string; drop: () => Promise<void> } | undefined;
  /** The records database the worker processes use (recorded decisions): Postgres with its checkpoints, or SQLite. */
  let records: RecordsDatabase;
  /** The worker's environment for this backend. */
  const workerEnv = (extra: Record<string, string>) =>
    testEnv(prefix, { ...extra, ...(database ? { DATABASE_URL: database.url } : {}) });
  /** On Postgres, the case's checkpoints are in the Postgres database (the worker did not fall back to SQLite). */
  async function expectCheckpointsOnBackend(caseId: string): Promise<void> {
    if (!database) return;
    expect(await postgresCheckpoints(database.url, caseId)).toBeGreaterThan(0);
    expect(existsSync(path.join(config.dataDir, 'checkpoints.sqlite'))).toBe(false);
  }

  beforeAll(async () => {
    if (backend === 'postgres') database = await createTestDatabase();
    records = await openRecordsDatabase({ databaseUrl: database?.url, sqlitePath: config.database.sqlitePath });
    redis = createRedis(config.redis.url!, 'test-crash');
    producer = CaseProducer.fromConfig(config, redis);
    reviewQueue = new Queue(QUEUES.review, { connection: redis, prefix: bullPrefix(prefix, QUEUES.review) });
  });
  afterAll(async () => {
    await reviewQueue.close();
    await producer.close();
    await redis.quit();
    await records.close();
    await deletePrefix(prefix);
    await database?.drop();
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  describe.each(['decompose', 'execute', 'draft', 'verify', 'review'])('SIGKILL during %s', (stage) => {
    it('resumes from the last checkpoint and reaches review exactly once', async () => {
      const caseId = `crash-${backend}-${stage}`;
      const marker = path.join(workDir, `${stage}.killed`);
      const callLog = path.join(workDir, `${stage}.calls.jsonl`);
      const env = workerEnv({
        LOG_LEVEL: 'info',
        WORKER_LOCK_MS: '1500',
        KILL_AT: stage,
        KILL_MARKER: marker,
        CALL_LOG: callLog,
      });
      mkdirSync(workDir, { recursive: true });

      const first = spawnTs('test/fixtures/crash-worker.ts', env);
      await waitForLine(first, /cases worker ready/);
      await producer.submit({ ...polypharmacy.submission, caseId }, 'ehr-gateway');
      const exit = await first.exited;
      expect(exit.signal, first.output()).toBe('SIGKILL');
      expect(existsSync(marker)).toBe(true);

      const second = spawnTs('test/fixtures/crash-worker.ts', env);
      try {
        await waitForLine(second, /cases worker ready/);
        const record = await waitUntil(
          async () => {
            const r = await producer.get(caseId);
            return r?.status === 'awaiting_review' ? r : undefined;
          },
          30_000,
          `${caseId} to reach review after the restart`,
        );
        // Killed just before the review job was added, the case already said awaiting_review: the
        // second run does not start it again (attempts stays 1) but adds the missing review job.
        expect(record).toMatchObject({ attempts: stage === 'review' ? 1 : 2, revision: 1, error: null });
        await waitUntil(
          async () => (await reviewQueue.getJob(`review.${caseId}.r1`)) ?? undefined,
          30_000,
          'the review job',
        );
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }

      // Every plan step's tool call happened exactly once across both processes.
      const calls = readFileSync(callLog, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { pid: number; requestedBy: string });
      const perStep = new Map<string, number>();
      for (const c of calls.filter((x) => x.requestedBy !== 'verification'))
        perStep.set(c.requestedBy, (perStep.get(c.requestedBy) ?? 0) + 1);
      // 17 steps, of which 14 call the knowledge base (the 3 literature searches have no tool configured).
      expect(perStep.size).toBe(14);
      expect([...perStep].filter(([, n]) => n !== 1)).toEqual([]);
      if (stage === 'execute') {
        // Killed mid-wave: some steps finished in the first process and were not run again.
        const pids = new Set(calls.filter((x) => x.requestedBy !== 'verification').map((c) => c.pid));
        expect(pids.size).toBe(2);
      }
      const jobs = (await reviewQueue.getJobs(['prioritized', 'waiting', 'active', 'completed']))
        .map((j) => j.id)
        .filter((id) => id?.startsWith(`review.${caseId}.`));
      expect(jobs).toEqual([`review.${caseId}.r1`]);
      await expectCheckpointsOnBackend(caseId);
    });
  });

  describe.each(['resume', 'revise', 'review-written', 'verify-written', 'collect-written'])(
    'SIGKILL at %s, after a review decision was recorded',
    (stage) => {
      it('resumes the case once after a restart: one new revision, the comments once, the decision once', async () => {
        const caseId = `crash-${backend}-decision-${stage}`;
        const marker = path.join(workDir, `${stage}.killed`);
        const callLog = path.join(workDir, `${stage}.calls.jsonl`);
        const env = workerEnv({
          LOG_LEVEL: 'info',
          WORKER_LOCK_MS: '1500',
          KILL_AT: stage,
          KILL_MARKER: marker,
          CALL_LOG: callLog,
        });
        mkdirSync(workDir, { recursive: true });
        const review = openReviewQueue(redis, prefix, producer.queue, 60_000, records);
        const first = spawnTs('test/fixtures/crash-worker.ts', env);
        try {
          await waitForLine(first, /cases worker ready/);
          await producer.submit({ ...polypharmacy.submission, caseId }, 'ehr-gateway');
          await waitUntil(
            async () => (await reviewQueue.getJob(`review.${caseId}.r1`)) ?? undefined,
            30_000,
            'the first draft in review',
          );
          // A reviewer decides over the real review queue: recorded, then handed over as the resume job.
          await review.queue.claim(caseId, 1, 'dr-crash');
          await review.queue.decide(caseId, 1, 'dr-crash', {
            action: 'request_changes',
            comments: 'Add the INR plan.',
          });
          const exit = await first.exited;
          expect(exit.signal, first.output()).toBe('SIGKILL');
          expect(readFileSync(marker, 'utf8')).toContain(stage);

          const second = spawnTs('test/fixtures/crash-worker.ts', env);
          try {
            await waitForLine(second, /cases worker ready/);
            const record = await waitUntil(
              async () => {
                const r = await producer.get(caseId);
                return r?.status === 'awaiting_review' && r.revision === 2 ? r : undefined;
              },
              30_000,
              `${caseId} to reach revision 2 after the restart`,
            );
            expect(record.error).toBeNull();
          } finally {
            second.child.kill('SIGTERM');
            await second.exited;
          }
          const jobs = (await reviewQueue.getJobs(['prioritized', 'waiting', 'active', 'completed'])).filter((j) =>
            j.id?.startsWith(`review.${caseId}.`),
          );
          expect(jobs.map((j) => j.id).sort()).toEqual([`review.${caseId}.r1`, `review.${caseId}.r2`]);
          const r2 = jobs.find((j) => j.id === `review.${caseId}.r2`)!.data as ReviewJobData;
          // Applied once: one comment, revision 2 (twice would have made revision 3 with two comments).
          expect(r2.request.reviewerComments).toEqual([
            expect.objectContaining({ revision: 1, reviewer: 'dr-crash', comments: 'Add the INR plan.' }),
          ]);
          expect((await review.decisions.list(caseId)).map((d) => [d.revision, d.decision.action])).toEqual([
            [1, 'request_changes'],
          ]);
          const audit = await review.audit.list(caseId);
          expect(audit.filter((e) => e.event === 'decided')).toHaveLength(1);
          expect(audit.filter((e) => e.event === 'review_enqueued').map((e) => e.revision)).toEqual([1, 2]);
          await expectCheckpointsOnBackend(caseId);
        } finally {
          first.child.kill('SIGKILL');
          await review.queue.close();
        }
      });
    },
  );
});
