/**
 * Graceful shutdown loses no job: a real worker process gets SIGTERM in the middle of a job,
 * and after a restart the job has completed exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queues/connection.js';
import { CaseProducer } from '../../src/queues/producer.js';
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
});

function startSlowWorker(extra: Record<string, string>) {
  return spawnTs('test/fixtures/slow-worker.ts', testEnv(prefix, { LOG_LEVEL: 'info', ...extra }));
}

describe('graceful shutdown', () => {
  it('finishes the active job on SIGTERM, exits 0, and a restarted worker does not run it again', async () => {
    const worker = startSlowWorker({ SLOW_STEP_MS: '1500', SHUTDOWN_GRACE_MS: '20000' });
    await waitForLine(worker, /cases worker ready/);
    await producer.submit(minimalSubmission('sigterm-1'), 'ehr-gateway');
    await waitUntil(async () => (await producer.get('sigterm-1'))?.currentStep === 'slow', 10_000, 'the slow step');

    worker.child.kill('SIGTERM');
    const { code } = await worker.exited;
    expect(code, worker.output()).toBe(0);
    expect(worker.output()).toMatch(/shutting down/);
    const afterShutdown = await producer.get('sigterm-1');
    expect(afterShutdown).toMatchObject({ status: 'intake_complete', attempts: 1, completions: 1 });

    const restarted = startSlowWorker({ SLOW_STEP_MS: '10' });
    await waitForLine(restarted, /cases worker ready/);
    await new Promise((r) => setTimeout(r, 1000));
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);

    expect(await producer.get('sigterm-1')).toMatchObject({ status: 'intake_complete', attempts: 1, completions: 1 });
    expect(await (await producer.queue.getJob('case.sigterm-1'))?.getState()).toBe('completed');
  });

  it('when a job outlives the grace period, it is cancelled and requeued, and the restarted worker completes it exactly once', async () => {
    const shared = { WORKER_LOCK_MS: '2000', SLOW_STEP_MS: '4000', SHUTDOWN_GRACE_MS: '300' };
    const worker = startSlowWorker(shared);
    await waitForLine(worker, /cases worker ready/);
    await producer.submit(minimalSubmission('sigterm-2'), 'ehr-gateway');
    await waitUntil(async () => (await producer.get('sigterm-2'))?.currentStep === 'slow', 10_000, 'the slow step');

    worker.child.kill('SIGTERM');
    expect((await worker.exited).code, worker.output()).toBe(0);
    expect(worker.output()).toMatch(/cancelling them/);
    expect(await producer.get('sigterm-2')).toMatchObject({ status: 'queued', completions: 0 });
    const requeued = await producer.queue.getJob('case.sigterm-2');
    expect(requeued?.attemptsMade).toBe(0);

    const restarted = startSlowWorker({ ...shared, SLOW_STEP_MS: '50' });
    await waitForLine(restarted, /cases worker ready/);
    const done = await waitUntil(async () => {
      const record = await producer.get('sigterm-2');
      return record?.status === 'intake_complete' ? record : undefined;
    }, 20_000, 'the stalled job to be taken over and completed');
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);

    expect(done).toMatchObject({ completions: 1, attempts: 2 });
    expect(await (await producer.queue.getJob('case.sigterm-2'))?.getState()).toBe('completed');
  });
});
