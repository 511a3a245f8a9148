/**
 * Error handling in the cases worker: a transient failure inside the graph is retried with
 * backoff and the case continues from its checkpoint; a permanent one fails the case at once
 * with its code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { knowledgePlanner } from '../../src/agents/knowledge-mode.js';
import { PipelineStepError } from '../../src/errors.js';
import type { Planner } from '../../src/domain/agents.js';
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

/** A planner that fails the first time for "transient-*" cases and always for "permanent-*" cases. */
const flakyPlanner: Planner = {
  kind: 'knowledge-driven',
  plan(view, comments) {
    const key = view.question;
    const n = (calls.get(key) ?? 0) + 1;
    calls.set(key, n);
    if (key.startsWith('transient') && n === 1)
      return Promise.reject(new PipelineStepError('decompose', 'planner timed out', true));
    if (key.startsWith('permanent'))
      return Promise.reject(new PipelineStepError('decompose', 'input can never work', false));
    return knowledgePlanner.plan(view, comments);
  },
};

beforeAll(async () => {
  redis = createRedis(config.redis.url!, 'test-errors');
  producer = CaseProducer.fromConfig(config, redis);
  worker = await startWorker(config, new LogCapture(), { planner: flakyPlanner });
});
afterAll(async () => {
  await worker.close();
  await producer.close();
  await redis.quit();
  await deletePrefix(prefix);
});

describe('worker error handling', () => {
  it('retries a transient failure with backoff and continues the case from its checkpoint', async () => {
    await producer.submit(minimalSubmission('transient-1', { question: 'transient: is the list safe?' }), 'svc');
    const retrying = await waitUntil(async () => {
      const r = await producer.get('transient-1');
      return r?.status === 'queued' && r.error ? r : undefined;
    });
    expect(retrying.error).toEqual({
      code: 'PIPELINE_STEP_FAILED',
      message: 'step decompose failed: planner timed out',
    });
    const done = await waitUntil(async () => {
      const r = await producer.get('transient-1');
      return r?.status === 'awaiting_review' ? r : undefined;
    }, 20_000);
    expect(done).toMatchObject({ attempts: 2, error: null, revision: 1 });
    expect(calls.get('transient: is the list safe?')).toBe(2);
    // The retry continued from the checkpoint: normalise ran once, so the retry's progress starts at decompose.
    expect(done.completedSteps[0]).toBe('decompose');
  });

  it('fails a case at once on a permanent error, recording the code', async () => {
    await producer.submit(minimalSubmission('permanent-1', { question: 'permanent: is the list safe?' }), 'svc');
    const failed = await waitUntil(async () => {
      const r = await producer.get('permanent-1');
      return r?.status === 'failed' ? r : undefined;
    });
    expect(failed).toMatchObject({
      attempts: 1,
      currentStep: null,
      error: { code: 'PIPELINE_STEP_FAILED', message: 'step decompose failed: input can never work' },
    });
    // The record is written before BullMQ moves the job to failed: wait for the move.
    await waitUntil(
      async () => (await (await producer.queue.getJob('case.permanent-1'))?.getState()) === 'failed',
      10_000,
      'the job to fail',
    );
    expect(calls.get('permanent: is the list safe?')).toBe(1);
  });
});
