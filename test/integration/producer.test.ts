/**
 * The typed BullMQ producer used by services that skip HTTP: same validation and idempotency,
 * and a worker picks its jobs up like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { CaseValidationError } from '../../src/domain/validation.js';
import { createRedis } from '../../src/queues/connection.js';
import { CaseProducer, enqueueCase } from '../../src/queues/producer.js';
import { loadExampleCases } from '../helpers/cases.js';
import { deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { startWorker, type WorkerStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
const config = testConfig(prefix);
let redis: Redis;
let producer: CaseProducer;
let worker: WorkerStack;

beforeAll(async () => {
  redis = createRedis(config.redis.url!, 'test-producer');
  producer = CaseProducer.fromConfig(config, redis);
  worker = await startWorker(config);
});
afterAll(async () => {
  await worker.close();
  await producer.close();
  await redis.quit();
  await deletePrefix(prefix);
});

describe('enqueueCase', () => {
  it('enqueues a typed submission once and a worker completes it', async () => {
    const [example] = loadExampleCases();
    const first = await enqueueCase(producer, example!.submission, 'lab-gateway');
    const second = await enqueueCase(producer, example!.submission, 'lab-gateway');
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    const done = await waitUntil(async () => {
      const r = await producer.get(example!.submission.caseId);
      return r?.status === 'awaiting_review' ? r : undefined;
    });
    expect(done).toMatchObject({ submittedBy: 'lab-gateway', attempts: 1, revision: 1 });
  });

  it('validates like the HTTP API and writes nothing for invalid input', async () => {
    await expect(
      enqueueCase(
        producer,
        { caseId: 'x:y', question: 'q?', bundle: { resourceType: 'Bundle', type: 'collection', entry: [] } },
        'svc',
      ),
    ).rejects.toBeInstanceOf(CaseValidationError);
    expect(await redis.exists(producer.store.key('x:y'))).toBe(0);
  });

  it('marks a case failed, without retrying, when its job data is corrupt', async () => {
    // A job written by something that bypassed the producer: the record exists, the data does not match the schema.
    await producer.store.create({
      caseId: 'corrupt-1',
      priority: 'routine',
      submittedBy: 'svc',
      inputDigest: 'x',
      mode: 'knowledge-driven',
      hasCallback: false,
      callbackUrl: null,
    });
    await producer.queue.add('case', { submission: { caseId: 'corrupt-1' } } as never, { jobId: 'case.corrupt-1' });
    const failed = await waitUntil(async () => {
      const r = await producer.get('corrupt-1');
      return r?.status === 'failed' ? r : undefined;
    });
    expect(failed.error).toEqual({ code: 'JOB_DATA_INVALID', message: 'job data does not match the case job schema' });
    const job = await producer.queue.getJob('case.corrupt-1');
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
  });
});
