/**
 * Error handling in the cases worker: a transient step failure is retried with backoff and
 * the case still completes once; a permanent one fails the case at once with its code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { PipelineStepError } from '../../src/errors.js';
import { intakeOnlyPipeline } from '../../src/pipeline/intake-only.js';
import { createRedis } from '../../src/queues/connection.js';
import { CaseProducer } from '../../src/queues/producer.js';
import { minimalSubmission } from '../helpers/cases.js';
import { deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { LogCapture, startWorker, type WorkerStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
const config = testConfig(prefix, { CASE_JOB_ATTEMPTS: '3' });
let redis: Redis;
let producer: CaseProducer;
let worker: WorkerStack;
const calls = new Map<string, number>();

const flaky = {
  name: 'flaky',
  run(ctx: { caseId: string }) {
    const n = (calls.get(ctx.caseId) ?? 0) + 1;
    calls.set(ctx.caseId, n);
    if (ctx.caseId.startsWith('transient') && n === 1) return Promise.reject(new PipelineStepError('flaky', 'tool timed out', true));
    if (ctx.caseId.startsWith('permanent')) return Promise.reject(new PipelineStepError('flaky', 'input can never work', false));
    return Promise.resolve();
  },
};

beforeAll(async () => {
  redis = createRedis(config.redis.url!, 'test-errors');
  producer = CaseProducer.fromConfig(config, redis);
  worker = await startWorker(config, new LogCapture(), intakeOnlyPipeline([flaky]));
});
afterAll(async () => {
  await worker.close();
  await producer.close();
  await redis.quit();
  await deletePrefix(prefix);
});

describe('worker error handling', () => {
  it('retries a transient failure with backoff and completes the case exactly once', async () => {
    await producer.submit(minimalSubmission('transient-1'), 'svc');
    const retrying = await waitUntil(async () => {
      const r = await producer.get('transient-1');
      return r?.status === 'queued' && r.error ? r : undefined;
    });
    expect(retrying.error).toEqual({ code: 'PIPELINE_STEP_FAILED', message: 'step flaky failed: tool timed out' });
    const done = await waitUntil(async () => {
      const r = await producer.get('transient-1');
      return r?.status === 'intake_complete' ? r : undefined;
    }, 20_000);
    expect(done).toMatchObject({ attempts: 2, completions: 1, error: null, completedSteps: ['summarise', 'flaky'] });
    expect(calls.get('transient-1')).toBe(2);
  });

  it('fails a case at once on a permanent error, recording the code', async () => {
    await producer.submit(minimalSubmission('permanent-1'), 'svc');
    const failed = await waitUntil(async () => {
      const r = await producer.get('permanent-1');
      return r?.status === 'failed' ? r : undefined;
    });
    expect(failed).toMatchObject({ attempts: 1, completions: 0, currentStep: null, error: { code: 'PIPELINE_STEP_FAILED', message: 'step flaky failed: input can never work' } });
    const job = await producer.queue.getJob('case.permanent-1');
    expect(await job?.getState()).toBe('failed');
    expect(calls.get('permanent-1')).toBe(1);
  });
});
