/**
 * Delivery of finalized plans on real Redis and BullMQ, to a webhook receiver on 127.0.0.1:
 * the HMAC signature (verifiable with any of the service's rotating secrets, and only with its own),
 * no delivery unsigned or over plain http, retries with exponential
 * backoff on 5xx, the dead-letter queue after the last attempt (visible to ops, and sent again
 * on request), immediate dead-lettering when retrying cannot help (4xx, a host that resolves to
 * a private address at delivery time), delivery through the API when there is no callback, and
 * exactly one delivery per case revision.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { verifySignature } from '../../src/delivery/webhook.js';
import { AuditLog } from '../../src/audit/case-log.js';
import { CaseStore } from '../../src/cases/store.js';
import { createRedis } from '../../src/queues/connection.js';
import { DeliveryQueues } from '../../src/queues/delivery.js';
import { hashToken } from '../../src/server/auth.js';
import { deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { testPlan } from '../helpers/review.js';
import { startApi, startDelivery, type ApiStack } from '../helpers/stack.js';
import { startReceiver, type Receiver } from '../helpers/webhook.js';

const NEW_SECRET = 'new-webhook-secret-0123456789abcdefghij';
const OLD_SECRET = 'old-webhook-secret-0123456789abcdefghij';
const OTHER_SECRET = 'other-service-webhook-secret-0123456789';
const OPS = 'ops-token-for-delivery-tests-0123456789';

let redis: Redis;
let receiver: Receiver;
beforeAll(async () => {
  redis = createRedis(testConfig(uniquePrefix()).redis.url!, 'test-delivery-suite');
  receiver = await startReceiver(NEW_SECRET);
});
afterAll(async () => {
  await receiver?.close();
  await redis.quit();
});

/** A case closed by a reviewer, as the case worker leaves it, and its delivery job. */
async function closedCase(
  config: Config,
  caseId: string,
  callbackUrl: string | null,
  status: 'approved' | 'rejected' = 'approved',
  submittedBy = 'ehr-gateway',
) {
  const store = new CaseStore(redis, config.redis.keyPrefix);
  await store.create({
    caseId,
    priority: 'routine',
    submittedBy,
    inputDigest: 'd',
    mode: 'knowledge-driven',
    hasCallback: callbackUrl !== null,
    callbackUrl,
  });
  await store.transition(caseId, ['accepted'], {
    status,
    revision: 2,
    plan: status === 'approved' ? testPlan(2) : null,
    closedReason: status === 'rejected' ? 'not appropriate' : null,
    decidedBy: 'dr-lee',
    decidedAt: new Date().toISOString(),
    delivery: {
      status: 'pending',
      channel: callbackUrl ? 'webhook' : 'api',
      attempts: 0,
      lastError: null,
      deliveredAt: null,
    },
  });
  const queues = new DeliveryQueues({
    redis,
    keyPrefix: config.redis.keyPrefix,
    attempts: config.delivery.attempts,
    backoffMs: config.delivery.backoffMs,
    retentionSeconds: 3600,
  });
  await queues.enqueue({ caseId, revision: 2, status, enqueuedAt: new Date().toISOString() });
  await queues.close();
  return store;
}

async function withWorker(extra: Record<string, string>, fn: (config: Config, api: ApiStack) => Promise<void>) {
  const prefix = uniquePrefix();
  const config = testConfig(prefix, {
    WEBHOOK_SECRETS: `ehr-gateway:${NEW_SECRET},ehr-gateway:${OLD_SECRET},other-service:${OTHER_SECRET}`,
    WEBHOOK_BACKOFF_MS: '40',
    WEBHOOK_ATTEMPTS: '4',
    CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
    STAFF_TOKENS: `ops-kim:${hashToken(OPS)}:ops`,
    ...extra,
  });
  const worker = await startDelivery(config);
  const api = await startApi(config, undefined, { review: true });
  try {
    await fn(config, api);
  } finally {
    await api.close();
    await worker.close();
    await deletePrefix(prefix);
  }
}

const delivered = (store: CaseStore, caseId: string) =>
  waitUntil(
    async () => {
      const r = await store.get(caseId);
      return r?.delivery?.status === 'delivered' || r?.delivery?.status === 'failed' ? r : null;
    },
    15_000,
    `delivery of ${caseId}`,
  );

describe('delivery', () => {
  it('POSTs the finalized plan once, signed with every configured secret', async () => {
    await withWorker({}, async (config) => {
      const store = await closedCase(config, 'dlv-ok', receiver.url);
      const record = await delivered(store, 'dlv-ok');
      expect(record.delivery).toMatchObject({ status: 'delivered', channel: 'webhook', attempts: 1, lastError: null });
      const hits = receiver.received.filter((r) => r.headers['x-co-delivery-id'] === 'dlv-ok.r2');
      expect(hits).toHaveLength(1);
      const hit = hits[0]!;
      expect(hit.signatureValid).toBe(true);
      // During rotation the receiver can verify with the old secret too.
      expect(
        verifySignature(
          hit.body,
          String(hit.headers['x-co-timestamp']),
          String(hit.headers['x-co-signature']),
          OLD_SECRET,
        ),
      ).toBe(true);
      expect(
        verifySignature(
          hit.body,
          String(hit.headers['x-co-timestamp']),
          String(hit.headers['x-co-signature']),
          'some-other-secret-0123456789abcdefghij',
        ),
      ).toBe(false);
      expect(
        verifySignature(
          `${hit.body} `,
          String(hit.headers['x-co-timestamp']),
          String(hit.headers['x-co-signature']),
          NEW_SECRET,
        ),
      ).toBe(false);
      expect(JSON.parse(hit.body)).toMatchObject({
        deliveryId: 'dlv-ok.r2',
        caseId: 'dlv-ok',
        status: 'approved',
        revision: 2,
        decidedBy: 'dr-lee',
        plan: { revision: 2 },
      });
      expect((await new AuditLog(redis, config.redis.keyPrefix).list('dlv-ok')).map((e) => e.event)).toEqual([
        'delivered',
      ]);
    });
  });

  it('retries 5xx with exponential backoff and delivers', async () => {
    await withWorker({}, async (config) => {
      receiver.fail(503, 2);
      const store = await closedCase(config, 'dlv-retry', receiver.url);
      const record = await delivered(store, 'dlv-retry');
      expect(record.delivery).toMatchObject({ status: 'delivered', attempts: 3 });
      const times = receiver.received
        .filter((r) => r.headers['x-co-delivery-id'] === 'dlv-retry.r2')
        .map((r) => Number(r.headers['x-co-timestamp']));
      expect(times).toHaveLength(3);
      const events = (await new AuditLog(redis, config.redis.keyPrefix).list('dlv-retry')).map(
        (e) => `${e.event}:${String(e.detail.attempt ?? '')}`,
      );
      expect(events).toEqual(['delivery_attempt_failed:1', 'delivery_attempt_failed:2', 'delivered:3']);
      expect(receiver.byDeliveryId.get('dlv-retry.r2')).toBe(1);
    });
  });

  it('dead-letters after the last attempt, shows it to ops, and sends it again on request', async () => {
    await withWorker({ WEBHOOK_ATTEMPTS: '3' }, async (config, api) => {
      receiver.fail(500, 3);
      const store = await closedCase(config, 'dlv-dead', receiver.url);
      const record = await delivered(store, 'dlv-dead');
      expect(record.delivery).toMatchObject({
        status: 'failed',
        attempts: 3,
        lastError: expect.stringContaining('http_5xx') as string,
      });
      const ops = { authorization: `Bearer ${OPS}` };
      const dead = await waitUntil(
        async () => {
          const list = (await api.app.inject({ method: 'GET', url: '/v1/ops/dead-letters', headers: ops })).json<{
            items: Array<{ caseId: string; host: string; attempts: number }>;
          }>();
          return list.items.length ? list.items : null;
        },
        10_000,
        'the dead letter',
      );
      expect(dead).toEqual([
        expect.objectContaining({ caseId: 'dlv-dead', revision: 2, host: `127.0.0.1:${receiver.port}`, attempts: 3 }),
      ]);
      const metrics = (await api.app.inject({ method: 'GET', url: '/metrics', headers: ops })).body;
      expect(metrics).toMatch(/^co_delivery_dead_letters_total 1$/m);
      expect(metrics).toMatch(/^co_delivery_failures_total\{reason="http_5xx"\} 3$/m);
      expect(metrics).toMatch(/^co_queue_jobs\{queue="dead-letter",state="waiting"\} 1$/m);

      const retry = await api.app.inject({
        method: 'POST',
        url: '/v1/ops/dead-letters/dlv-dead/revisions/2/retry',
        headers: ops,
      });
      expect(retry.statusCode).toBe(202);
      const again = await waitUntil(
        async () => ((await store.get('dlv-dead'))?.delivery?.status === 'delivered' ? store.get('dlv-dead') : null),
        15_000,
        'the retried delivery',
      );
      expect(again.delivery).toMatchObject({ status: 'delivered', attempts: 1 });
      expect(
        (await api.app.inject({ method: 'GET', url: '/v1/ops/dead-letters', headers: ops })).json<{
          items: unknown[];
        }>().items,
      ).toEqual([]);
      const events = (await new AuditLog(redis, config.redis.keyPrefix).list('dlv-dead')).map(
        (e) => `${e.event}:${e.actor}`,
      );
      expect(events.slice(-3)).toEqual([
        'dead_lettered:system:delivery-worker',
        'delivery_retried:ops-kim',
        'delivered:system:delivery-worker',
      ]);
      expect(
        (await api.app.inject({ method: 'POST', url: '/v1/ops/dead-letters/dlv-dead/revisions/2/retry', headers: ops }))
          .statusCode,
      ).toBe(404);
    });
  });

  it('does not retry what cannot succeed: a 4xx, or a name that resolves to a private address at delivery time', async () => {
    await withWorker({}, async (config) => {
      receiver.fail(410, 1);
      const gone = await closedCase(config, 'dlv-410', receiver.url);
      expect((await delivered(gone, 'dlv-410')).delivery).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(/^http_4xx/) as string,
      });
      // "localhost" passed intake's allow-list in this scenario but is not allowed here; it resolves to loopback.
      const ssrf = await closedCase(config, 'dlv-ssrf', `https://localhost:${receiver.port}/hooks/care-plans`);
      const record = await delivered(ssrf, 'dlv-ssrf');
      expect(record.delivery).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(/^forbidden_address: localhost resolves to a non-public address/) as string,
      });
      // The service reads its record: the resolved internal address is not in it.
      expect(record.delivery!.lastError).toContain('[address]');
      expect(record.delivery!.lastError).not.toMatch(/127\.0\.0\.1|::1/);
      expect(receiver.received.some((r) => r.headers['x-co-delivery-id'] === 'dlv-ssrf.r2')).toBe(false);
    });
  });

  it("signs a service's plans with that service's secrets only, never sends unsigned, and refuses plain http", async () => {
    await withWorker({}, async (config) => {
      const other = await closedCase(config, 'dlv-other', receiver.url, 'approved', 'other-service');
      expect((await delivered(other, 'dlv-other')).delivery).toMatchObject({ status: 'delivered' });
      const hit = receiver.received.find((r) => r.headers['x-co-delivery-id'] === 'dlv-other.r2')!;
      const verify = (secret: string) =>
        verifySignature(hit.body, String(hit.headers['x-co-timestamp']), String(hit.headers['x-co-signature']), secret);
      // ehr-gateway's receiver (NEW_SECRET) cannot take other-service's plan for its own, nor forge one.
      expect(verify(OTHER_SECRET)).toBe(true);
      expect(verify(NEW_SECRET)).toBe(false);
      expect(verify(OLD_SECRET)).toBe(false);
      expect(String(hit.headers['x-co-signature']).split(',')).toHaveLength(1);

      // A service with no secret (its case came in under an earlier configuration): not sent, dead-lettered.
      const unsigned = await closedCase(config, 'dlv-unsigned', receiver.url, 'approved', 'no-secret-service');
      expect((await delivered(unsigned, 'dlv-unsigned')).delivery).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(
          /^unsigned: no webhook secret is configured for service no-secret-service/,
        ) as string,
      });
      // Plain http to a host that is not allow-listed (it would carry the plan in clear text).
      const plain = await closedCase(config, 'dlv-http', 'http://hooks.example.org/care-plans');
      expect((await delivered(plain, 'dlv-http')).delivery).toMatchObject({
        status: 'failed',
        attempts: 1,
        lastError: expect.stringMatching(
          /^insecure_url: http: callbacks are refused for hooks\.example\.org/,
        ) as string,
      });
      expect(
        receiver.received.filter((r) =>
          ['dlv-unsigned.r2', 'dlv-http.r2'].includes(String(r.headers['x-co-delivery-id'])),
        ),
      ).toHaveLength(0);
    });
  });

  it('without a callback URL, marks the result delivered through the API; a finished delivery is never sent again', async () => {
    await withWorker({}, async (config) => {
      const store = await closedCase(config, 'dlv-api', null, 'rejected');
      expect((await delivered(store, 'dlv-api')).delivery).toMatchObject({
        status: 'delivered',
        channel: 'api',
        attempts: 0,
      });
      const once = await closedCase(config, 'dlv-once', receiver.url);
      await delivered(once, 'dlv-once');
      // A second delivery job for the same revision (a redelivery after a crash) sends nothing.
      const queues = new DeliveryQueues({
        redis,
        keyPrefix: config.redis.keyPrefix,
        attempts: 2,
        backoffMs: 10,
        retentionSeconds: 60,
      });
      const old = await queues.delivery.getJob('deliver.dlv-once.r2');
      await old!.remove();
      await queues.enqueue({
        caseId: 'dlv-once',
        revision: 2,
        status: 'approved',
        enqueuedAt: new Date().toISOString(),
      });
      await waitUntil(
        async () => (await (await queues.delivery.getJob('deliver.dlv-once.r2'))?.getState()) === 'completed',
        10_000,
        'the duplicate job',
      );
      await queues.close();
      expect(receiver.byDeliveryId.get('dlv-once.r2')).toBe(1);
    });
  });
});
