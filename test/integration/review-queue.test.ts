/**
 * The review queue's semantics on real Redis and BullMQ: ordering by priority, severity and
 * age; claims of the next or a specific item that never hand one item to two reviewers; lease
 * renewal, expiry (the item returns to the queue) and refusal of a decision on an expired
 * lease; decisions recorded once and handed to the case workers as one resume job; recovery
 * of a decision recorded just before a crash; release; audit events and metrics.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queues/connection.js';
import { QUEUES, bullPrefix } from '../../src/infra/redis-keys.js';
import { reviewJobId } from '../../src/queues/review.js';
import { casesQueueOptions, createCasesQueue, type CasesQueue } from '../../src/queues/cases.js';
import { deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { addReviewJob, openReviewQueue, reviewJob } from '../helpers/review.js';
import { waitForKeyGone } from '../helpers/wait.js';
import { openTestRecords } from '../helpers/records.js';
import { rmSync } from 'node:fs';

let redis: Redis;

beforeAll(() => {
  redis = createRedis(testConfig(uniquePrefix()).redis.url!, 'test-review-queue');
});
afterAll(async () => {
  await redis.quit();
});

/** A fresh queue under its own prefix, closed and cleaned after the test. */
async function withQueue(
  leaseMs: number,
  fn: (q: ReturnType<typeof openReviewQueue> & { cases: CasesQueue; prefix: string }) => Promise<void>,
) {
  const prefix = uniquePrefix();
  const cases = createCasesQueue(casesQueueOptions(testConfig(prefix), redis));
  const config = testConfig(prefix);
  const records = await openTestRecords(config);
  const parts = openReviewQueue(redis, prefix, cases, leaseMs, records);
  await parts.queue.start();
  try {
    await fn({ ...parts, cases, prefix });
  } finally {
    await parts.queue.close();
    await cases.close();
    await records.close();
    rmSync(config.dataDir, { recursive: true, force: true });
    await deletePrefix(prefix);
  }
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
};

describe('review queue', () => {
  it('serves case priority first, then the most severe finding, then the oldest', async () => {
    await withQueue(60_000, async ({ queue }) => {
      const t = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s)).toISOString();
      await addReviewJob(queue, reviewJob('routine-low', { severity: 'low', enqueuedAt: t(0) }));
      await addReviewJob(queue, reviewJob('routine-critical', { severity: 'critical', enqueuedAt: t(1) }));
      await addReviewJob(queue, reviewJob('urgent-info', { priority: 'urgent', severity: 'info', enqueuedAt: t(2) }));
      await addReviewJob(queue, reviewJob('routine-critical-later', { severity: 'critical', enqueuedAt: t(3) }));
      await addReviewJob(queue, reviewJob('stat-none', { priority: 'stat', severity: null, enqueuedAt: t(4) }));
      const listed = (await queue.list()).map((i) => i.caseId);
      expect(listed).toEqual(['stat-none', 'urgent-info', 'routine-critical', 'routine-critical-later', 'routine-low']);
      const claimed: string[] = [];
      for (let i = 0; i < 5; i++) claimed.push((await queue.claimNext('dr-a'))!.caseId);
      expect(claimed).toEqual(listed);
      expect(await queue.claimNext('dr-a')).toBeNull();
    });
  });

  it('never gives one item to two reviewers, however the claims race', async () => {
    await withQueue(60_000, async ({ queue }) => {
      for (let i = 0; i < 6; i++) await addReviewJob(queue, reviewJob(`race-${i}`));
      const reviewers = Array.from({ length: 10 }, (_, i) => `reviewer-${i}`);
      // Claims of the next item and of specific items, all at once.
      const results = await Promise.allSettled([
        ...reviewers.map((r) => queue.claimNext(r)),
        ...reviewers.map((r, i) => queue.claim(`race-${i % 6}`, 1, r)),
      ]);
      const won = results.flatMap((r) => (r.status === 'fulfilled' && r.value ? [r.value] : []));
      const byItem = new Map<string, Set<string>>();
      for (const c of won) {
        if (!byItem.has(c.caseId)) byItem.set(c.caseId, new Set());
        byItem.get(c.caseId)!.add(c.claimedBy);
      }
      expect(byItem.size).toBe(6);
      for (const [, holders] of byItem) expect(holders.size).toBe(1);
      const refused = results.filter((r) => r.status === 'rejected').map((r) => (r.reason as { code: string }).code);
      expect(new Set(refused)).toEqual(new Set(['ALREADY_CLAIMED']));
      expect((await queue.list()).every((i) => i.state === 'claimed')).toBe(true);
    });
  });

  it('claims a specific item (ahead of higher priorities), refuses a second reviewer and gives the holder their lease back', async () => {
    await withQueue(60_000, async ({ queue }) => {
      await addReviewJob(queue, reviewJob('first', { priority: 'stat' }));
      await addReviewJob(queue, reviewJob('wanted', { priority: 'routine', severity: 'low' }));
      const claim = await queue.claim('wanted', 1, 'dr-a');
      expect(claim).toMatchObject({ caseId: 'wanted', revision: 1, claimedBy: 'dr-a' });
      expect(await codeOf(queue.claim('wanted', 1, 'dr-b'))).toBe('ALREADY_CLAIMED');
      expect((await queue.claim('wanted', 1, 'dr-a')).claimedAt).toBe(claim.claimedAt);
      // The other item kept its place and its priority.
      expect((await queue.claimNext('dr-b'))!.caseId).toBe('first');
      expect(await codeOf(queue.claim('missing', 1, 'dr-a'))).toBe('REVIEW_NOT_FOUND');
    });
  });

  it('renews a lease; an abandoned claim returns to the queue, and a decision on it is refused with a clear message', async () => {
    await withQueue(1500, async ({ queue, audit }) => {
      await addReviewJob(queue, reviewJob('lease-1'));
      const claim = (await queue.claimNext('dr-a'))!;
      // Time is the behaviour: the claim is held for most of its 1.5 s lease before it is renewed.
      await new Promise((r) => setTimeout(r, 900));
      const renewed = await queue.renew('lease-1', 1, 'dr-a');
      expect(Date.parse(renewed.leaseExpiresAt)).toBeGreaterThan(Date.parse(claim.leaseExpiresAt));
      // Stop renewing: the stalled check returns the item to the queue.
      const back = await waitUntil(
        async () => (await queue.list()).find((i) => i.caseId === 'lease-1' && i.state === 'waiting'),
        10_000,
        'the item to return to the queue',
      );
      expect(back.claimedBy).toBeNull();
      const other = (await queue.claimNext('dr-b'))!;
      expect(other.caseId).toBe('lease-1');
      const refused = queue.decide('lease-1', 1, 'dr-a', { action: 'approve' });
      await expect(refused).rejects.toMatchObject({
        code: 'ALREADY_CLAIMED',
        message: expect.stringContaining('dr-b') as string,
      });
      const events = (await audit.list('lease-1')).map((e) => `${e.event}:${e.actor}`);
      expect(events).toEqual(['claimed:dr-a', 'lease_expired:system:review-queue', 'claimed:dr-b']);
    });
  });

  it('refuses a decision on an expired lease that nobody took over', async () => {
    await withQueue(1200, async ({ queue, prefix }) => {
      await addReviewJob(queue, reviewJob('lapse-1'));
      await queue.claimNext('dr-a');
      // Past the lease but before the stalled check has moved it: the lock is gone (wait for its key to expire).
      const lock = `${bullPrefix(prefix, QUEUES.review)}:${QUEUES.review}:${reviewJobId('lapse-1', 1)}:lock`;
      await waitForKeyGone(redis, lock, 5_000, 'the lease (the job lock) to expire');
      const err = await queue
        .decide('lapse-1', 1, 'dr-a', { action: 'approve' })
        .catch((e: unknown) => e as Error & { code: string });
      expect(['LEASE_EXPIRED', 'NOT_CLAIMED']).toContain((err as { code: string }).code);
      expect((err as Error).message).toMatch(/expired at .*claim it again|claim it first/);
    });
  });

  it('records a decision once, hands it over as one resume job and completes the item', async () => {
    await withQueue(60_000, async ({ queue, decisions, cases, metrics }) => {
      await addReviewJob(queue, reviewJob('decide-1'));
      await queue.claimNext('dr-a');
      const { record, created } = await queue.decide('decide-1', 1, 'dr-a', {
        action: 'request_changes',
        comments: 'Add the renal dose.',
      });
      expect(created).toBe(true);
      expect(record.decision).toMatchObject({
        action: 'request_changes',
        revision: 1,
        reviewer: 'dr-a',
        comments: 'Add the renal dose.',
      });
      expect(await decisions.get('decide-1', 1)).toEqual(record);
      const resume = await cases.getJob('resume.decide-1.r1');
      expect(resume?.data).toEqual({ caseId: 'decide-1', decision: record.decision });
      expect(await (await queue.queue.getJob('review.decide-1.r1'))!.getState()).toBe('completed');
      expect(await codeOf(queue.decide('decide-1', 1, 'dr-a', { action: 'approve' }))).toBe('ALREADY_DECIDED');
      expect(await codeOf(queue.claim('decide-1', 1, 'dr-b'))).toBe('ALREADY_DECIDED');
      const snap = await metrics.snapshot();
      expect(snap.get('co_review_decisions_total|action=request_changes')).toBe(1);
      expect(snap.get('co_review_time_to_decision_seconds||count')).toBe(1);
      expect(snap.get('co_review_wait_seconds||count')).toBe(1);
    });
  });

  it('stores the diff of an edit against the draft', async () => {
    await withQueue(60_000, async ({ queue }) => {
      const job = reviewJob('edit-1');
      await addReviewJob(queue, job);
      await queue.claimNext('dr-a');
      const sections = structuredClone(job.request.plan.sections);
      sections.recommendations[0]!.text = 'Stop ibuprofen; use paracetamol.';
      sections.recommendations.splice(1, 1);
      sections.monitoring.push({
        id: 'm-new',
        text: 'Recheck creatinine in a week.',
        support: null,
        why: [],
        citations: [],
        medications: [],
        supported: true,
      });
      const { record } = await queue.decide('edit-1', 1, 'dr-a', { action: 'edit', sections, attach: [] });
      expect(record.diff).toMatchObject({ added: 1, removed: 1, changed: 1 });
      expect(record.diff!.sections.recommendations).toEqual([
        {
          kind: 'changed',
          before: 'Stop ibuprofen.',
          after: 'Stop ibuprofen; use paracetamol.',
          citationsBefore: ['case:med-1'],
          citationsAfter: ['case:med-1'],
        },
        { kind: 'removed', text: 'Check INR in 3 days.' },
      ]);
    });
  });

  it('finishes the hand-over of a decision recorded just before a crash, instead of offering the item again', async () => {
    await withQueue(1000, async ({ queue, decisions, cases, audit }) => {
      await addReviewJob(queue, reviewJob('crash-1'));
      await addReviewJob(queue, reviewJob('next-1', { severity: 'low' }));
      const claim = (await queue.claimNext('dr-a'))!;
      expect(claim.caseId).toBe('crash-1');
      // The API process recorded the decision and died before handing it over.
      const decision = {
        action: 'approve' as const,
        revision: 1,
        reviewer: 'dr-a',
        decidedAt: new Date().toISOString(),
      };
      await decisions.record({ caseId: 'crash-1', revision: 1, decision, diff: null, recordedAt: decision.decidedAt });
      await waitUntil(
        async () => (await queue.list()).find((i) => i.caseId === 'crash-1' && i.state === 'waiting'),
        10_000,
        'the abandoned item to return',
      );
      // The next claim finds the decision, completes the item and hands the decision over; it is not offered again.
      expect((await queue.claimNext('dr-b'))!.caseId).toBe('next-1');
      expect(await (await queue.queue.getJob('review.crash-1.r1'))!.getState()).toBe('completed');
      expect((await cases.getJob('resume.crash-1.r1'))?.data).toEqual({ caseId: 'crash-1', decision });
      // The audit trail gets the decision the crash kept it from, once, at the decision's time.
      const decided = (await audit.list('crash-1')).filter((e) => e.event === 'decided');
      expect(decided).toEqual([
        expect.objectContaining({
          actor: 'dr-a',
          revision: 1,
          at: decision.decidedAt,
          detail: { action: 'approve', recovered: true },
        }),
      ]);
      // A second recovery (another crash) does not write it again.
      await audit.appendOnce({
        caseId: 'crash-1',
        event: 'decided',
        actor: 'dr-a',
        revision: 1,
        detail: { action: 'approve' },
      });
      expect((await audit.list('crash-1')).filter((e) => e.event === 'decided')).toHaveLength(1);
    });
  });

  it('releases an item back to the queue in its place', async () => {
    await withQueue(60_000, async ({ queue, audit }) => {
      await addReviewJob(queue, reviewJob('rel-1', { severity: 'high' }));
      await addReviewJob(queue, reviewJob('rel-2', { severity: 'low' }));
      await queue.claimNext('dr-a');
      expect(await codeOf(queue.release('rel-1', 1, 'dr-b'))).toBe('ALREADY_CLAIMED');
      await queue.release('rel-1', 1, 'dr-a');
      expect((await queue.list()).map((i) => [i.caseId, i.state])).toEqual([
        ['rel-1', 'waiting'],
        ['rel-2', 'waiting'],
      ]);
      expect(await codeOf(queue.renew('rel-1', 1, 'dr-a'))).toBe('NOT_CLAIMED');
      expect((await audit.list('rel-1')).map((e) => e.event)).toEqual(['claimed', 'released']);
      expect((await queue.claimNext('dr-b'))!.caseId).toBe('rel-1');
    });
  });
});
