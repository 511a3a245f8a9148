/**
 * The delivery processor (workers/delivery-processor.ts) called directly, without a BullMQ
 * Worker: real delivery jobs (added with `DeliveryQueues.enqueue`, fetched with `getJob`, or taken
 * by manual processing where attempts matter), the real case store and lifecycle, audit log,
 * metrics and dead-letter queue on the test Redis, and a real webhook receiver on 127.0.0.1 that
 * verifies the HMAC signature.
 */
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { CaseLedger } from '../../src/records/case-ledger.js';
import { openTestRecords } from '../helpers/records.js';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaseLifecycle } from '../../src/cases/lifecycle.js';
import { CaseStore } from '../../src/cases/store.js';
import { summariseCase } from '../../src/domain/case-summary.js';
import type { DeliveryPayload } from '../../src/domain/review.js';
import { DeliveryError, verifySignature } from '../../src/delivery/webhook.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { AuditLog } from '../../src/audit/case-log.js';
import { createRedis } from '../../src/queues/connection.js';
import { deadLetterJobId } from '../../src/queues/dead-letter.js';
import {
  DELIVERY_QUEUE,
  DeliveryQueues,
  deliveryJobId,
  deliveryWorkerOptions,
  type DeliveryJobData,
} from '../../src/queues/delivery.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { createDeliveryProcessor } from '../../workers/delivery-processor.js';
import { minimalSubmission } from '../helpers/cases.js';
import { deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { testPlan } from '../helpers/review.js';
import { LogCapture } from '../helpers/stack.js';
import { startReceiver, type Receiver } from '../helpers/webhook.js';

const SECRET = 'processor-webhook-secret-0123456789abcdef';
const OTHER_SECRET = 'some-other-secret-0123456789abcdefghijkl';

let redis: Redis;
let receiver: Receiver;
const open: Array<() => Promise<void>> = [];

beforeAll(async () => {
  redis = createRedis(testConfig(uniquePrefix()).redis.url!, 'test-delivery-processor');
  receiver = await startReceiver(SECRET);
});
afterAll(async () => {
  for (const close of open) await close();
  await receiver?.close();
  await redis?.quit();
});

/** The processor and its real dependencies under a fresh key prefix (closed after the suite). */
async function harness(attempts = 4) {
  const prefix = uniquePrefix();
  const cfg = testConfig(prefix, {
    WEBHOOK_SECRETS: `ehr-gateway:${SECRET}`,
    WEBHOOK_ATTEMPTS: String(attempts),
    WEBHOOK_BACKOFF_MS: '10',
    WEBHOOK_TIMEOUT_MS: '2000',
    CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
  });
  const store = new CaseStore(redis, prefix);
  const lifecycle = new CaseLifecycle(store);
  const audit = new AuditLog(redis, prefix, cfg.audit.chainKey);
  const queues = DeliveryQueues.fromConfig(cfg, redis);
  const records = await openTestRecords(cfg);
  const ledger = new CaseLedger(records);
  const run = createDeliveryProcessor({
    store,
    ledger,
    audit,
    metrics: new Metrics(redis, prefix),
    addDeadLetter: (data) => queues.addDeadLetter(data),
    logger: createLogger({ logLevel: 'debug' }, 'delivery-processor', new LogCapture()),
    secrets: cfg.delivery.secrets,
    timeoutMs: cfg.delivery.timeoutMs,
    hostAllowlist: cfg.callbacks.hostAllowlist,
  });
  open.push(async () => {
    await queues.close();
    await records.close();
    await deletePrefix(prefix);
    rmSync(cfg.dataDir, { recursive: true, force: true });
  });

  /** A case taken through the lifecycle to closed (as the cases worker leaves it), with its delivery job. */
  async function closedCase(
    caseId: string,
    callbackUrl: string | null,
    status: 'approved' | 'rejected' = 'approved',
  ): Promise<Job<DeliveryJobData>> {
    await lifecycle.create({
      caseId,
      priority: 'routine',
      submittedBy: 'ehr-gateway',
      inputDigest: 'd',
      mode: 'knowledge-driven',
      hasCallback: callbackUrl !== null,
      callbackUrl,
    });
    await lifecycle.queue(caseId);
    const summary = summariseCase(parseSubmission(minimalSubmission(caseId), []));
    await lifecycle.start(caseId, { pipeline: 'clinical-case-graph', summary });
    await lifecycle.awaitReview(caseId, { revision: 1, maxSeverity: null });
    await lifecycle.resume(caseId);
    const closing = await lifecycle.close(caseId, {
      status,
      revision: 1,
      plan: testPlan(1),
      closedReason: status === 'rejected' ? 'not appropriate' : null,
      decision: { reviewer: 'dr-lee', decidedAt: new Date().toISOString() },
      hasCallback: callbackUrl !== null,
    });
    expect(closing).toBe('applied');
    return enqueue(caseId, status);
  }
  async function enqueue(caseId: string, status: DeliveryJobData['status']): Promise<Job<DeliveryJobData>> {
    await queues.enqueue({ caseId, revision: 1, status, enqueuedAt: new Date().toISOString() });
    return (await queues.delivery.getJob(deliveryJobId(caseId, 1)))!;
  }
  const events = async (caseId: string) => (await audit.list(caseId)).map((e) => e.event);
  return { prefix, cfg, store, lifecycle, audit, queues, run, closedCase, enqueue, events };
}

const hitsFor = (caseId: string) => receiver.received.filter((r) => r.headers['x-co-delivery-id'] === `${caseId}.r1`);

async function thrown(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the processor to throw');
}

describe('delivery processor', () => {
  it('delivers a closed case once, signed (X-CO-Signature), and records the delivery', async () => {
    const h = await harness();
    const job = await h.closedCase('dp-ok-1', receiver.url);

    await expect(h.run(job)).resolves.toEqual({ status: 'delivered', channel: 'webhook' });

    const hits = hitsFor('dp-ok-1');
    expect(hits).toHaveLength(1);
    const hit = hits[0]!;
    expect(hit.signatureValid).toBe(true);
    const signature = String(hit.headers['x-co-signature']);
    expect(signature).toMatch(/^v1=[0-9a-f]{64}$/);
    // The signature is over this body and timestamp with this secret, not with just any.
    expect(verifySignature(hit.body, String(hit.headers['x-co-timestamp']), signature, OTHER_SECRET)).toBe(false);
    const payload = JSON.parse(hit.body) as DeliveryPayload;
    expect(payload).toMatchObject({
      deliveryId: 'dp-ok-1.r1',
      caseId: 'dp-ok-1',
      status: 'approved',
      revision: 1,
      closedReason: null,
      decidedBy: 'dr-lee',
    });
    expect(payload.plan).toMatchObject({ revision: 1 });
    const record = (await h.store.get('dp-ok-1'))!;
    expect(record.delivery).toMatchObject({ status: 'delivered', channel: 'webhook', attempts: 1, lastError: null });
    expect(record.delivery!.deliveredAt).not.toBeNull();
    expect((await h.events('dp-ok-1')).filter((e) => e === 'delivered')).toHaveLength(1);

    // Run again (a redelivered job): not sent again, the milestone not doubled.
    await expect(h.run(job)).resolves.toEqual({ status: 'skipped' });
    expect(hitsFor('dp-ok-1')).toHaveLength(1);
    expect((await h.events('dp-ok-1')).filter((e) => e === 'delivered')).toHaveLength(1);
  });

  it('a rejected case is delivered without a plan, with the reason', async () => {
    const h = await harness();
    const job = await h.closedCase('dp-rejected-1', receiver.url, 'rejected');

    await h.run(job);

    const payload = JSON.parse(hitsFor('dp-rejected-1')[0]!.body) as DeliveryPayload;
    expect(payload).toMatchObject({ status: 'rejected', plan: null, closedReason: 'not appropriate' });
  });

  it('a 4xx answer is not retried: dead-lettered at once, the delivery recorded failed', async () => {
    const h = await harness();
    const job = await h.closedCase('dp-4xx-1', receiver.url);
    expect(job.opts.attempts).toBe(4);
    receiver.fail(422, 1);

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toBe('DELIVERY_FAILED: http_4xx: the callback answered 422');
    expect(hitsFor('dp-4xx-1')).toHaveLength(1);
    const dead = await h.queues.deadLetter.getJob(deadLetterJobId('dp-4xx-1', 1));
    expect(dead?.data).toMatchObject({
      caseId: 'dp-4xx-1',
      revision: 1,
      deliveryId: 'dp-4xx-1.r1',
      host: `127.0.0.1:${receiver.port}`,
      attempts: 1,
      lastError: 'http_4xx: the callback answered 422',
    });
    expect((await h.store.get('dp-4xx-1'))!.delivery).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'http_4xx: the callback answered 422',
      deliveredAt: null,
    });
    expect(await h.events('dp-4xx-1')).toEqual(expect.arrayContaining(['delivery_attempt_failed', 'dead_lettered']));
  });

  it('a 5xx answer is retried: the attempt fails retryably, the next attempt delivers with the same delivery id', async () => {
    const h = await harness();
    // Manual processing, as BullMQ's Worker does it, so the failed attempt really counts and backs off.
    const worker = new Worker(DELIVERY_QUEUE, null, { ...deliveryWorkerOptions(redis, h.cfg), autorun: false });
    try {
      await h.closedCase('dp-5xx-1', receiver.url);
      receiver.fail(503, 1);
      const first = await worker.getNextJob('token-1');
      expect(first?.id).toBe(deliveryJobId('dp-5xx-1', 1));

      const err = await thrown(h.run(first));

      expect(err).toBeInstanceOf(DeliveryError);
      expect(err).not.toBeInstanceOf(UnrecoverableError);
      expect((err as DeliveryError).retryable).toBe(true);
      expect((await h.store.get('dp-5xx-1'))!.delivery).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: 'http_5xx: the callback answered 503',
      });
      expect(await h.queues.isDeadLettered('dp-5xx-1', 1)).toBe(false);
      await first.moveToFailed(err, 'token-1');
      expect(await h.queues.delivery.getJobState(first.id!)).toBe('delayed');

      const second = await waitUntil(() => worker.getNextJob('token-2'), 5000, 'the retry');
      expect(second.attemptsMade).toBe(1);
      await expect(h.run(second)).resolves.toEqual({ status: 'delivered', channel: 'webhook' });

      const hits = hitsFor('dp-5xx-1');
      expect(hits).toHaveLength(2);
      expect(hits.every((x) => x.signatureValid)).toBe(true);
      expect((await h.store.get('dp-5xx-1'))!.delivery).toMatchObject({
        status: 'delivered',
        attempts: 2,
        lastError: null,
      });
      expect(await h.queues.isDeadLettered('dp-5xx-1', 1)).toBe(false);
    } finally {
      await worker.close();
    }
  });

  it('a 5xx on the last attempt dead-letters the delivery', async () => {
    const h = await harness(1);
    const job = await h.closedCase('dp-5xx-last-1', receiver.url);
    receiver.fail(500, 1);

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toBe('DELIVERY_FAILED: http_5xx: the callback answered 500');
    expect(await h.queues.isDeadLettered('dp-5xx-last-1', 1)).toBe(true);
    expect((await h.store.get('dp-5xx-last-1'))!.delivery).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('a case without a callback is delivered through the API: recorded, nothing POSTed', async () => {
    const h = await harness();
    const job = await h.closedCase('dp-api-1', null);

    await expect(h.run(job)).resolves.toEqual({ status: 'delivered', channel: 'api' });

    expect(hitsFor('dp-api-1')).toHaveLength(0);
    expect((await h.store.get('dp-api-1'))!.delivery).toMatchObject({
      status: 'delivered',
      channel: 'api',
      attempts: 0,
    });
    expect((await h.events('dp-api-1')).filter((e) => e === 'delivered')).toHaveLength(1);
  });

  it('refuses a case that is not closed: UnrecoverableError CASE_NOT_CLOSED, nothing sent or recorded', async () => {
    const h = await harness();
    await h.lifecycle.create({
      caseId: 'dp-open-1',
      priority: 'routine',
      submittedBy: 'ehr-gateway',
      inputDigest: 'd',
      mode: 'knowledge-driven',
      hasCallback: true,
      callbackUrl: receiver.url,
    });
    await h.lifecycle.queue('dp-open-1');
    const job = await h.enqueue('dp-open-1', 'approved');

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toBe('CASE_NOT_CLOSED: case dp-open-1 is queued');
    expect(hitsFor('dp-open-1')).toHaveLength(0);
    expect(await h.store.get('dp-open-1')).toMatchObject({ status: 'queued', delivery: null });
    expect(await h.queues.isDeadLettered('dp-open-1', 1)).toBe(false);
  });

  it('refuses a job for an unknown case (CASE_NOT_FOUND) and invalid job data (JOB_DATA_INVALID)', async () => {
    const h = await harness();
    const unknown = await h.enqueue('dp-missing-1', 'approved');
    const err = await thrown(h.run(unknown));
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toBe('CASE_NOT_FOUND: no record for case dp-missing-1');

    await h.queues.delivery.add('deliver', { caseId: 'dp-bad-1' } as unknown as DeliveryJobData, {
      jobId: deliveryJobId('dp-bad-1', 1),
    });
    const bad = (await h.queues.delivery.getJob(deliveryJobId('dp-bad-1', 1)))!;
    const badErr = await thrown(h.run(bad));
    expect(badErr).toBeInstanceOf(UnrecoverableError);
    expect(badErr.message).toMatch(/^JOB_DATA_INVALID: /);
  });
});
