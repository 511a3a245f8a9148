/**
 * Graceful shutdown loses no job: a real worker process gets SIGTERM in the middle of a job,
 * and after a restart the job has completed exactly once.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queues/connection.js';
import { CaseProducer } from '../../src/queues/producer.js';
import { QUEUES, bullPrefix } from '../../src/infra/redis-keys.js';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { minimalSubmission } from '../helpers/cases.js';
import { deletePrefix, testConfig, testEnv, uniquePrefix, waitUntil } from '../helpers/env.js';
import { spawnTs, waitForLine } from '../helpers/processes.js';

const prefix = uniquePrefix();
let redis: Redis;
let producer: CaseProducer;

beforeAll(() => {
  redis = createRedis(testConfig(prefix).redis.url!, 'test-shutdown');
  producer = CaseProducer.fromConfig(testConfig(prefix), redis);
});
afterAll(async () => {
  await producer.close();
  await redis.quit();
  await deletePrefix(prefix);
  rmSync(testConfig(prefix).dataDir, { recursive: true, force: true });
});

async function reviewJobs(caseId: string): Promise<string[]> {
  const queue = new Queue(QUEUES.review, { connection: redis, prefix: bullPrefix(prefix, QUEUES.review) });
  const jobs = await queue.getJobs(['prioritized', 'waiting', 'active', 'completed']);
  await queue.close();
  return jobs.map((j) => j.id!).filter((id) => id.startsWith(`review.${caseId}.`));
}

function startSlowWorker(extra: Record<string, string>) {
  return spawnTs('test/fixtures/slow-worker.ts', testEnv(prefix, { LOG_LEVEL: 'info', ...extra }));
}

/** The slow knowledge base is being waited on: the graph is inside its execute wave. */
const inSlowStep = async (id: string) => {
  const r = await producer.get(id);
  return r?.status === 'running' && r.completedSteps.includes('decompose');
};

describe('graceful shutdown', () => {
  it('finishes the active job on SIGTERM, exits 0, and a restarted worker does not run it again', async () => {
    const worker = startSlowWorker({ SLOW_TOOL_MS: '1500', SHUTDOWN_GRACE_MS: '20000' });
    await waitForLine(worker, /cases worker ready/);
    await producer.submit(minimalSubmission('sigterm-1'), 'ehr-gateway');
    await waitUntil(() => inSlowStep('sigterm-1'), 10_000, 'the slow tool call');

    worker.child.kill('SIGTERM');
    const { code } = await worker.exited;
    expect(code, worker.output()).toBe(0);
    expect(worker.output()).toMatch(/shutting down/);
    const afterShutdown = await producer.get('sigterm-1');
    expect(afterShutdown).toMatchObject({ status: 'awaiting_review', attempts: 1, revision: 1 });

    const restarted = startSlowWorker({ SLOW_TOOL_MS: '10' });
    await waitForLine(restarted, /cases worker ready/);
    // Instead of giving the restarted worker time: a case submitted now is taken after anything still
    // queued, so once it reached review the worker has had its chance to run sigterm-1 again.
    await producer.submit(minimalSubmission('sigterm-1-after'), 'ehr-gateway');
    await waitUntil(
      async () => (await producer.get('sigterm-1-after'))?.status === 'awaiting_review',
      15_000,
      'a later case to reach review on the restarted worker',
    );
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);

    expect(await producer.get('sigterm-1')).toMatchObject({ status: 'awaiting_review', attempts: 1 });
    expect(await (await producer.queue.getJob('case.sigterm-1'))?.getState()).toBe('completed');
    expect(await reviewJobs('sigterm-1')).toEqual(['review.sigterm-1.r1']);
  });

  it('when a job outlives the grace period, it is cancelled and requeued, and the restarted worker completes it exactly once', async () => {
    const shared = { WORKER_LOCK_MS: '2000', SLOW_TOOL_MS: '4000', SHUTDOWN_GRACE_MS: '300' };
    const worker = startSlowWorker(shared);
    await waitForLine(worker, /cases worker ready/);
    await producer.submit(minimalSubmission('sigterm-2'), 'ehr-gateway');
    await waitUntil(() => inSlowStep('sigterm-2'), 10_000, 'the slow tool call');

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code, worker.output()).toBe(0);
    expect(worker.output()).toMatch(/cancelling them/);
    expect(await producer.get('sigterm-2')).toMatchObject({ status: 'queued', completions: 0 });
    const requeued = await producer.queue.getJob('case.sigterm-2');
    expect(requeued?.attemptsMade).toBe(0);

    const restarted = startSlowWorker({ ...shared, SLOW_TOOL_MS: '50' });
    await waitForLine(restarted, /cases worker ready/);
    const done = await waitUntil(
      async () => {
        const record = await producer.get('sigterm-2');
        return record?.status === 'awaiting_review' ? record : undefined;
      },
      20_000,
      'the requeued job to be taken over and drafted',
    );
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);

    expect(done).toMatchObject({ attempts: 2, revision: 1 });
    expect(await (await producer.queue.getJob('case.sigterm-2'))?.getState()).toBe('completed');
    expect(await reviewJobs('sigterm-2')).toEqual(['review.sigterm-2.r1']);
  });
});
