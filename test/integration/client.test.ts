/**
 * The typed client against a real stack as deployed (test/support/stack.ts): the API server and a
 * cases worker as their own processes on the test Redis. A service submits a case and follows it
 * to review; a reviewer lists, claims, reads and approves it; the service sees it closed and reads
 * its audit trail; error answers surface as ApiError with the server's status and problem code.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, WaitTimeoutError, type ClinicalOrchestratorClient } from '../../src/client/index.js';
import type { CaseView } from '../../src/domain/case.js';
import { loadExampleCases } from '../helpers/cases.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/env.js';
import { DevStack } from '../support/stack.js';

const prefix = uniquePrefix();
const dataDir = `.data/test-${prefix}`;
const example = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;
const submission = { ...example.submission, caseId: 'client-1' };
let stack: DevStack;
let service: ClinicalOrchestratorClient;
let reviewer: ClinicalOrchestratorClient;

beforeAll(async () => {
  stack = await DevStack.open({
    redisUrl: redisUrl(),
    keyPrefix: prefix,
    dataDir,
    staff: { 'dr-client': { roles: ['reviewer'] } },
    delivery: false,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'info' },
  });
  await stack.start();
  service = stack.client();
  reviewer = stack.client(stack.tokens.staff['dr-client']);
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await deletePrefix(prefix);
  await rm(dataDir, { recursive: true, force: true });
});

describe('ClinicalOrchestratorClient against a running stack', () => {
  it('submits, follows, reviews and closes a case', async () => {
    const first = await service.submitCase(submission);
    expect(first.created).toBe(true);
    expect(first.case).toMatchObject({ caseId: 'client-1', status: 'queued' });
    const again = await service.submitCase(submission);
    expect(again.created).toBe(false);

    const seen: CaseView['status'][] = [];
    const drafted = await service.waitForStatus('client-1', ['awaiting_review', 'failed'], {
      timeoutMs: 60_000,
      onProgress: (v) => seen.push(v.status),
    });
    expect(drafted).toMatchObject({ status: 'awaiting_review', revision: 1, plan: null });
    expect(seen.at(-1)).toBe('awaiting_review');

    const list = await reviewer.listReviews();
    expect(list.items).toEqual([expect.objectContaining({ caseId: 'client-1', revision: 1, state: 'waiting' })]);
    expect(list.counts).toEqual({ waiting: 1, claimed: 0 });

    const claim = await reviewer.claimNextReview();
    expect(claim).toMatchObject({ caseId: 'client-1', revision: 1, claimedBy: 'dr-client' });
    expect(await reviewer.claimNextReview()).toBeNull();
    expect(await reviewer.claimReview('client-1', 1)).toMatchObject({ claimedBy: 'dr-client' });

    const detail = await reviewer.getReview('client-1', 1);
    expect(detail.claim).toMatchObject({ claimedBy: 'dr-client' });
    expect(detail.request.plan.revision).toBe(1);
    expect(detail.decision).toBeNull();

    const decided = await reviewer.decide('client-1', 1, { action: 'approve' });
    expect(decided.created).toBe(true);
    expect(decided.record.decision).toMatchObject({ action: 'approve', reviewer: 'dr-client', revision: 1 });

    const closed = await service.waitForStatus('client-1', ['approved', 'rejected', 'escalated', 'failed'], {
      timeoutMs: 30_000,
    });
    expect(closed).toMatchObject({ status: 'approved', revision: 1, decidedBy: 'dr-client' });
    expect(closed.plan).toMatchObject({ revision: 1 });

    const { events } = await service.getAudit('client-1');
    const names = events.map((e) => e.event);
    for (const name of ['enqueued', 'review_enqueued', 'claimed', 'decided', 'resumed', 'closed'] as const)
      expect(names, name).toContain(name);
    const review = await reviewer.getReviewCase('client-1');
    expect(review.decisions).toHaveLength(1);
  });

  it("surfaces the server's status and problem code in ApiError", async () => {
    const invalid = { ...submission, caseId: 'client-bad', question: 'x' };
    const err = await service.submitCase(invalid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, problemCode: 'CASE_INVALID' });
    expect((err as ApiError).problem?.errors).toEqual([expect.objectContaining({ pointer: '/question' })]);

    await expect(service.getCase('no-such-case')).rejects.toMatchObject({ status: 404, problemCode: 'CASE_NOT_FOUND' });
    await expect(service.listReviews()).rejects.toMatchObject({ status: 403, problemCode: 'FORBIDDEN' });
    await expect(stack.client('not-a-token').getCase('client-1')).rejects.toMatchObject({
      status: 401,
      problemCode: 'UNAUTHENTICATED',
    });
    await expect(reviewer.decide('client-1', 1, { action: 'approve' })).rejects.toMatchObject({
      status: 409,
      problemCode: 'ALREADY_DECIDED',
    });
  });

  it('gives up waiting with the last view it read', async () => {
    const err = await service
      .waitForStatus('client-1', ['rejected'], { timeoutMs: 300, intervalMs: 100 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as WaitTimeoutError).last.status).toBe('approved');
  });
});
