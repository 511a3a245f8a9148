/**
 * Losing Redis data after a delivery (issue 22, item 6). The whole loop runs in-process on a
 * redis-server of this suite's own, so it can be flushed and restarted from an older snapshot:
 * the recorded decision, the case ledger and the checkpoints are on disk (SQLite), and the
 * system converges on the recorded decision. A delivered plan is never sent again and a second
 * reviewer cannot record a contrary decision.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditArchive } from '../../src/audit/archive.js';
import { AuditLog } from '../../src/audit/case-log.js';
import type { CaseView } from '../../src/domain/case.js';
import { startLocalRedis, type LocalRedis } from '../../src/infra/redis-server.js';
import { deliveryJobId } from '../../src/queues/delivery.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { CaseLedger } from '../../src/records/case-ledger.js';
import { hashToken } from '../../src/server/auth.js';
import { openRecovery, RecoveryReport, SUBMISSION_LOST } from '../../workers/recovery.js';
import { loadExampleCases } from '../helpers/cases.js';
import { testConfig, testEnv, TEST_TOKEN, uniquePrefix, waitUntil } from '../helpers/env.js';
import { startReviewStack, type ReviewStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
const LEE = 'reviewer-lee-token-0123456789abcdef';
const KIM = 'reviewer-kim-token-0123456789abcdef';
const SECRET = 'webhook-secret-for-recovery-0123456789';
const redisDir = path.resolve(`.data/test-${prefix}-redis`);
const example = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;

let server: LocalRedis;
let stack: ReviewStack;
let redis: Redis;
let config: ReturnType<typeof testConfig>;

const service = { authorization: `Bearer ${TEST_TOKEN}` };
const lee = { authorization: `Bearer ${LEE}` };
const kim = { authorization: `Bearer ${KIM}` };
const call = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: unknown) =>
  stack.api.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
const caseView = async (caseId: string) => {
  const res = await call('GET', `/v1/cases/${caseId}`, service);
  return res.statusCode === 200 ? res.json<CaseView>() : null;
};
const deliveriesOf = (caseId: string) =>
  stack.receiver.received.filter((r) => (JSON.parse(r.body) as { caseId: string }).caseId === caseId);

/** Submit, wait for review, claim and approve as dr-lee, and wait until the plan is delivered. */
async function approveAndDeliver(caseId: string, onReview?: () => Promise<void>): Promise<CaseView> {
  const submitted = await call('POST', '/v1/cases', service, {
    ...example.submission,
    caseId,
    callbackUrl: stack.receiver.url,
  });
  expect(submitted.statusCode).toBe(202);
  await waitUntil(async () => (await stack.api.review!.queue.item(caseId, 1)) !== null, 30_000, 'the draft in review');
  await onReview?.();
  expect((await call('POST', `/v1/reviews/${caseId}/revisions/1/claim`, lee)).statusCode).toBe(200);
  const decided = await call('POST', `/v1/reviews/${caseId}/revisions/1/decision`, lee, { action: 'approve' });
  expect(decided.statusCode).toBe(201);
  return waitUntil(
    async () => {
      const v = await caseView(caseId);
      return v?.delivery?.status === 'delivered' ? v : null;
    },
    30_000,
    'the approved plan delivered',
  );
}

/** Approve and deliver the case, with a copy of Redis's data taken while it waited for review; returns the copy's path. */
async function deliverAfterSnapshot(caseId: string): Promise<string> {
  const snapshot = path.join(redisDir, `${caseId}.rdb`);
  await approveAndDeliver(caseId, async () => {
    await redis.call('SAVE');
    copyFileSync(path.join(redisDir, 'dump.rdb'), snapshot);
  });
  return snapshot;
}

/** Restart Redis from an older copy of its data. */
async function restartFrom(snapshot: string): Promise<void> {
  await server.stop();
  copyFileSync(snapshot, path.join(redisDir, 'dump.rdb'));
  await server.restart();
  await waitUntil(async () => (await redis.ping().catch(() => null)) === 'PONG', 10_000, 'Redis back');
}

async function exportAudit(): Promise<void> {
  const archive = new AuditArchive(redis, stack.api.records, prefix, config.audit.chainKey);
  expect((await archive.export()).ok).toBe(true);
}

async function recover() {
  const recovery = await openRecovery(config);
  try {
    return await recovery.run();
  } finally {
    await recovery.close();
  }
}

beforeAll(async () => {
  rmSync(redisDir, { recursive: true, force: true });
  server = await startLocalRedis({ dataDir: redisDir });
  config = testConfig(prefix, {
    REDIS_URL: server.url,
    STAFF_TOKENS: `dr-lee:${hashToken(LEE)}:reviewer,dr-kim:${hashToken(KIM)}:reviewer`,
    WEBHOOK_SECRETS: `ehr-gateway:${SECRET}`,
    CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
    WEBHOOK_BACKOFF_MS: '50',
  });
  stack = await startReviewStack(config, SECRET);
  redis = new Redis(server.url, { maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  await stack?.close();
  redis?.disconnect();
  await server?.stop();
  rmSync(redisDir, { recursive: true, force: true });
});

describe('recovery after Redis data loss', () => {
  it('a flushed Redis after delivery: the case comes back approved and delivered, sent once, with its whole audit', async () => {
    const caseId = 'recover-flush-1';
    const before = await approveAndDeliver(caseId);
    expect(deliveriesOf(caseId)).toHaveLength(1);
    await exportAudit();
    const audit = new AuditLog(redis, prefix, config.audit.chainKey);
    const trail = await audit.list(caseId);

    await redis.flushall();
    expect(await caseView(caseId)).toBeNull();

    const report = await recover();
    expect(report.changed).toEqual([
      expect.objectContaining({
        caseId,
        action: 'restored_closed',
        found: null,
        status: 'approved',
        revision: 1,
        deliveryEnqueued: false,
        auditRestored: trail.length,
        auditSkipped: null,
      }),
    ]);

    const after = await caseView(caseId);
    expect(after).toMatchObject({
      status: 'approved',
      revision: 1,
      plan: before.plan,
      decidedBy: 'dr-lee',
      decidedAt: before.decidedAt,
      completedAt: before.completedAt,
      summary: before.summary,
      delivery: { status: 'delivered', channel: 'webhook', deliveredAt: before.delivery!.deliveredAt },
    });
    // Nothing to send: no delivery job, and the receiver still has the one POST.
    expect(await stack.api.review!.deliveries.delivery.getJob(deliveryJobId(caseId, 1))).toBeUndefined();
    expect(deliveriesOf(caseId)).toHaveLength(1);

    // The trail is back entry for entry, still one chain, and says what recovery did.
    const restored = await audit.list(caseId);
    expect(restored.slice(0, trail.length)).toEqual(trail);
    // What recovery did comes next (then the service's read of the restored case, audited as ever).
    expect(restored.slice(trail.length).map((e) => [e.event, e.actor, e.detail.action ?? e.detail.what])).toEqual([
      ['recovered', 'system:recovery', 'restored_closed'],
      ['viewed', 'ehr-gateway', 'api:case'],
    ]);
    expect((await audit.verify(caseId)).break).toBeNull();

    // No review item to decide again; the recorded decision is the one on disk.
    expect((await call('POST', `/v1/reviews/${caseId}/revisions/1/claim`, kim)).statusCode).toBe(404);
    expect(
      (await stack.api.review!.decisions.list(caseId)).map((d) => [d.decision.action, d.decision.reviewer]),
    ).toEqual([['approve', 'dr-lee']]);

    // Running it again changes nothing.
    const again = await recover();
    expect(again.changed.find((c) => c.caseId === caseId)).toBeUndefined();
    expect(again.actions.consistent).toBeGreaterThanOrEqual(1);
  });

  it('a restart from a snapshot taken before the decision: a second reviewer cannot decide again, and the plan is not sent twice', async () => {
    const caseId = 'recover-snapshot-1';
    const snapshot = await deliverAfterSnapshot(caseId);
    expect(deliveriesOf(caseId)).toHaveLength(1);

    await restartFrom(snapshot);
    // Redis has forgotten the decision and the delivery: the case waits for review again.
    expect(await caseView(caseId)).toMatchObject({ status: 'awaiting_review', revision: 1, delivery: null });

    // Another reviewer takes the item to reject it: the decision on disk wins, and its hand-over is finished.
    const claim = await call('POST', `/v1/reviews/${caseId}/revisions/1/claim`, kim);
    expect(claim.statusCode).toBe(409);
    expect(claim.json()).toMatchObject({ code: 'ALREADY_DECIDED' });
    const settled = await waitUntil(
      async () => {
        const v = await caseView(caseId);
        return v?.status === 'approved' && v.delivery?.status === 'delivered' ? v : null;
      },
      30_000,
      'the case approved and delivered again',
    );
    expect(settled).toMatchObject({ decidedBy: 'dr-lee', revision: 1 });
    expect(deliveriesOf(caseId)).toHaveLength(1);
    expect(
      (await stack.api.review!.decisions.list(caseId)).map((d) => [d.decision.action, d.decision.reviewer]),
    ).toEqual([['approve', 'dr-lee']]);
  });

  it('recovery run first on an older snapshot: the record, the queue and the audit are put right before anyone acts', async () => {
    const caseId = 'recover-snapshot-2';
    const snapshot = await deliverAfterSnapshot(caseId);
    await exportAudit();
    const audit = new AuditLog(redis, prefix, config.audit.chainKey);
    const trail = await audit.list(caseId);

    await restartFrom(snapshot);

    const report = await recover();
    expect(report.changed.find((c) => c.caseId === caseId)).toMatchObject({
      action: 'restored_closed',
      found: 'awaiting_review',
      status: 'approved',
      deliveryEnqueued: false,
      auditSkipped: null,
    });
    expect(await caseView(caseId)).toMatchObject({
      status: 'approved',
      decidedBy: 'dr-lee',
      delivery: { status: 'delivered' },
    });
    // The stale review item is gone from the queue.
    expect((await stack.api.review!.queue.list()).find((i) => i.caseId === caseId)).toBeUndefined();
    expect((await audit.list(caseId)).slice(0, trail.length)).toEqual(trail);
    expect((await audit.verify(caseId)).break).toBeNull();
    expect(deliveriesOf(caseId)).toHaveLength(1);
  });

  it('a decision recorded just before Redis lost everything is applied, not asked for again', async () => {
    const caseId = 'recover-decided-1';
    const submitted = await call('POST', '/v1/cases', service, {
      ...example.submission,
      caseId,
      callbackUrl: stack.receiver.url,
    });
    expect(submitted.statusCode).toBe(202);
    await waitUntil(
      async () => (await stack.api.review!.queue.item(caseId, 1)) !== null,
      30_000,
      'the draft in review',
    );
    // The API recorded dr-lee's decision on disk, then Redis lost everything before the hand-over.
    const decidedAt = new Date().toISOString();
    await stack.api.review!.decisions.record({
      caseId,
      revision: 1,
      decision: { action: 'approve', revision: 1, reviewer: 'dr-lee', reviewerType: 'staff_token', decidedAt },
      diff: null,
      recordedAt: decidedAt,
    });
    await redis.flushall();

    const report = await recover();
    expect(report.changed.find((c) => c.caseId === caseId)).toMatchObject({
      action: 'resumed',
      found: null,
      status: 'awaiting_review',
      revision: 1,
    });
    const done = await waitUntil(
      async () => {
        const v = await caseView(caseId);
        return v?.delivery?.status === 'delivered' ? v : null;
      },
      30_000,
      'the recorded decision applied and the plan delivered',
    );
    expect(done).toMatchObject({ status: 'approved', decidedBy: 'dr-lee', decidedAt });
    expect(deliveriesOf(caseId)).toHaveLength(1);
  });

  it('a case still drafting when Redis lost it goes back to accepted, and the same submission continues it (npm run recover)', async () => {
    const caseId = 'recover-lost-1';
    const body = { ...example.submission, caseId };
    // As a worker that started the case writes it, before Redis lost the job and the record.
    const digest = createHash('sha256')
      .update(JSON.stringify(parseSubmission(body, config.callbacks.hostAllowlist)))
      .digest('hex');
    await new CaseLedger(stack.api.records).recordIntake({
      caseId,
      submittedBy: 'ehr-gateway',
      priority: 'routine',
      inputDigest: digest,
      mode: 'knowledge-driven',
      callbackUrl: null,
      createdAt: new Date().toISOString(),
    });

    const env = { ...process.env, ...testEnv(prefix, { REDIS_URL: server.url }) };
    const run = (args: string[]) =>
      promisify(execFile)(path.resolve('node_modules/.bin/tsx'), ['scripts/recover.ts', ...args], { env }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const dry = await run(['--dry-run', '--json']);
    expect(dry.code, dry.out).toBe(0);
    expect(RecoveryReport.parse(JSON.parse(dry.out)).changed.find((c) => c.caseId === caseId)).toMatchObject({
      action: 'lost',
      status: 'accepted',
    });
    expect(await caseView(caseId)).toBeNull();

    const real = await run([]);
    expect(real.code, real.out).toBe(0);
    expect(real.out).toMatch(new RegExp(`${caseId}\tlost\tmissing -> accepted`));
    expect(await caseView(caseId)).toMatchObject({ status: 'accepted', error: SUBMISSION_LOST });

    // The service submits the same case again: the same case (200, not a new one), and now it runs.
    const again = await call('POST', '/v1/cases', service, body);
    expect(again.statusCode).toBe(200);
    await waitUntil(
      async () => (await stack.api.review!.queue.item(caseId, 1)) !== null,
      30_000,
      'the draft in review',
    );
    expect(await caseView(caseId)).toMatchObject({ status: 'awaiting_review', error: null });
  });
});
