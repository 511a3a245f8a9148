/**
 * The whole loop over HTTP on real Redis, with the real graph, case worker and delivery worker:
 * intake with a callback URL → draft → review queue → a reviewer (staff token) claims it, reads
 * the plan and its citations, requests changes → the revised plan arrives with the diff and the
 * comments → claimed and approved → the case is finalized and delivered once to a local webhook
 * receiver with a valid HMAC signature → the service reads the approved plan, and the audit log
 * holds every event with its actor and no patient identifier.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseView } from '../../src/domain/case.js';
import type { ReviewDetail } from '../../src/server/routes/reviews.js';
import { hashToken } from '../../src/server/auth.js';
import { identifiersOf, loadExampleCases } from '../helpers/cases.js';
import { testConfig, TEST_TOKEN, uniquePrefix, waitUntil } from '../helpers/env.js';
import { startApi, startReviewStack, type ApiStack, type ReviewStack } from '../helpers/stack.js';
import type { Receiver } from '../helpers/webhook.js';

const prefix = uniquePrefix();
const REVIEWER = 'reviewer-token-0123456789abcdef';
const OPS = 'ops-token-0123456789abcdefghij';
const SECRET = 'webhook-secret-for-tests-0123456789abcdef';
const STAFF_ENV = { STAFF_TOKENS: `dr-lee:${hashToken(REVIEWER)}:reviewer,ops-kim:${hashToken(OPS)}:ops` };
const config = testConfig(prefix, {
  ...STAFF_ENV,
  WEBHOOK_SECRETS: `ehr-gateway:${SECRET}`,
  CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
  WEBHOOK_BACKOFF_MS: '50',
});
const example = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;
let stack: ReviewStack;
let api: ApiStack;
let receiver: Receiver;

const service = { authorization: `Bearer ${TEST_TOKEN}` };
const reviewer = { authorization: `Bearer ${REVIEWER}` };
const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: unknown) =>
  api.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  stack = await startReviewStack(config, SECRET);
  ({ api, receiver } = stack);
});
afterAll(async () => {
  await stack?.close();
});

describe('review, revision, approval and delivery over HTTP', () => {
  it('runs the whole loop and delivers the approved plan once, signed', async () => {
    const caseId = 'flow-1';
    const submitted = await inject('POST', '/v1/cases', service, {
      ...example.submission,
      caseId,
      callbackUrl: receiver.url,
    });
    expect(submitted.statusCode).toBe(202);
    await waitUntil(async () => (await api.review!.queue.item(caseId, 1)) !== null, 30_000, 'the first draft');

    // The queue shows it with its severity; the reviewer claims the next item.
    const list = (await inject('GET', '/v1/reviews', reviewer)).json<{
      items: Array<{ caseId: string; maxSeverity: string; state: string }>;
    }>();
    expect(list.items).toEqual([expect.objectContaining({ caseId, state: 'waiting', maxSeverity: 'high' })]);
    const claim = await inject('POST', '/v1/reviews/claim', reviewer);
    expect(claim.statusCode).toBe(200);
    expect(claim.json()).toMatchObject({ caseId, revision: 1, claimedBy: 'dr-lee' });

    // The reviewer reads the plan: every citation resolves to evidence of this case or to the case record.
    const r1 = (await inject('GET', `/v1/reviews/${caseId}/revisions/1`, reviewer)).json<ReviewDetail>();
    expect(r1.claim).toMatchObject({ claimedBy: 'dr-lee' });
    expect(r1.request.view?.medications.length).toBeGreaterThan(3);
    const evidence = new Set(r1.request.evidence.map((e) => e.id));
    const cited = Object.values(r1.request.plan.sections)
      .flat()
      .flatMap((r) => r.citations);
    expect(cited.length).toBeGreaterThan(5);
    for (const c of cited) expect(evidence.has(c) || c.startsWith('case:'), c).toBe(true);
    expect(r1.request.evidence.find((e) => e.kind === 'kb_fact')?.source).toMatch(/\w/);

    const changes = await inject('POST', `/v1/reviews/${caseId}/revisions/1/decision`, reviewer, {
      action: 'request_changes',
      comments: 'Address the anticoagulation plan explicitly.',
    });
    expect(changes.statusCode).toBe(201);

    // The revised plan arrives as revision 2, with what changed and the comments that led to it.
    const r2 = await waitUntil(
      async () => {
        const res = await inject('GET', `/v1/reviews/${caseId}/revisions/2`, reviewer);
        return res.statusCode === 200 ? res.json<ReviewDetail>() : null;
      },
      30_000,
      'revision 2',
    );
    expect(r2.request.reviewerComments).toEqual([
      expect.objectContaining({
        revision: 1,
        reviewer: 'dr-lee',
        comments: 'Address the anticoagulation plan explicitly.',
      }),
    ]);
    expect(r2.request.previousPlan?.revision).toBe(1);
    expect(r2.diffToPrevious).not.toBeNull();
    expect(r2.diffToPrevious!.added + r2.diffToPrevious!.changed).toBeGreaterThan(0);
    const r2claim = await inject('POST', `/v1/reviews/${caseId}/revisions/2/claim`, reviewer);
    expect(r2claim.statusCode).toBe(200);
    expect((await inject('POST', `/v1/reviews/${caseId}/revisions/2/lease`, reviewer)).statusCode).toBe(200);
    expect(
      (await inject('POST', `/v1/reviews/${caseId}/revisions/2/decision`, reviewer, { action: 'approve' })).statusCode,
    ).toBe(201);

    // Finalized and delivered once, signed.
    const view = await waitUntil(
      async () => {
        const v = (await inject('GET', `/v1/cases/${caseId}`, service)).json<CaseView>();
        return v.delivery?.status === 'delivered' ? v : null;
      },
      30_000,
      'delivery',
    );
    expect(view).toMatchObject({
      status: 'approved',
      revision: 2,
      decidedBy: 'dr-lee',
      delivery: { status: 'delivered', channel: 'webhook', attempts: 1 },
    });
    expect(view.plan).toMatchObject({ revision: 2 });
    expect(receiver.received).toHaveLength(1);
    const hook = receiver.received[0]!;
    expect(hook.signatureValid).toBe(true);
    expect(hook.headers['x-co-delivery-id']).toBe('flow-1.r2');
    const payload = JSON.parse(hook.body) as {
      caseId: string;
      status: string;
      plan: { revision: number };
      decidedBy: string;
    };
    expect(payload).toMatchObject({
      caseId,
      status: 'approved',
      revision: 2,
      decidedBy: 'dr-lee',
      plan: { revision: 2 },
    });

    // The audit trail: every event with its actor, in order.
    const audit = (await inject('GET', `/v1/cases/${caseId}/audit`, service)).json<{
      events: Array<{
        event: string;
        actor: string;
        actorType?: string;
        revision: number | null;
        detail: Record<string, unknown>;
      }>;
    }>().events;
    const names = audit.map((e) => e.event);
    const order = [
      'enqueued',
      'step_started',
      'step_finished',
      'drafted',
      'verified',
      'review_enqueued',
      'claimed',
      'decided',
      'resumed',
      'drafted',
      'review_enqueued',
      'claimed',
      'decided',
      'resumed',
      'closed',
      'delivered',
    ];
    let at = -1;
    for (const name of order) {
      at = names.indexOf(name, at + 1);
      expect(at, `${name} after position ${at}`).toBeGreaterThanOrEqual(0);
    }
    expect(audit.find((e) => e.event === 'enqueued')).toMatchObject({ actor: 'ehr-gateway', actorType: 'service' });
    // How each actor authenticated: the reviewer here is a staff API token, not a signed-in session.
    expect(audit.filter((e) => e.event === 'claimed' || e.event === 'decided').map((e) => e.actorType)).toEqual([
      'staff_token',
      'staff_token',
      'staff_token',
      'staff_token',
    ]);
    expect(audit.find((e) => e.event === 'resumed')!.actorType).toBe('system');
    expect(audit.filter((e) => e.event === 'decided').map((e) => [e.actor, e.revision, e.detail.action])).toEqual([
      ['dr-lee', 1, 'request_changes'],
      ['dr-lee', 2, 'approve'],
    ]);
    expect(audit.filter((e) => e.event === 'step_finished' && e.detail.node === 'execute_step').length).toBeGreaterThan(
      10,
    );
    const text = JSON.stringify(audit);
    for (const id of identifiersOf(example.submission)) expect(text, id).not.toContain(id);

    // Reviewers read the same trail with the case; another service cannot.
    const asReviewer = (await inject('GET', `/v1/reviews/${caseId}`, reviewer)).json<{
      case: CaseView;
      decisions: unknown[];
      audit: unknown[];
    }>();
    expect(asReviewer.decisions).toHaveLength(2);
    // Reads are audited: the trail now ends with this read, after everything the service saw.
    expect(asReviewer.audit.length).toBe(audit.length + 1);
    expect(asReviewer.audit.at(-1)).toMatchObject({
      event: 'viewed',
      actor: 'dr-lee',
      actorType: 'staff_token',
      detail: { what: 'api:review-case' },
    });
  });

  it('refuses decisions without a claim, with an invalid body, or on a decided revision', async () => {
    const caseId = 'flow-2';
    await inject('POST', '/v1/cases', service, { ...example.submission, caseId });
    await waitUntil(async () => (await api.review!.queue.item(caseId, 1)) !== null, 30_000, 'the draft');
    const noClaim = await inject('POST', `/v1/reviews/${caseId}/revisions/1/decision`, reviewer, { action: 'approve' });
    expect([noClaim.statusCode, noClaim.json<{ code: string }>().code]).toEqual([409, 'NOT_CLAIMED']);
    await inject('POST', `/v1/reviews/${caseId}/revisions/1/claim`, reviewer);
    // Where only signed-in people may decide (the production default), a staff token's decision is refused.
    const peopleOnly = await startApi(testConfig(prefix, { ...STAFF_ENV, STAFF_TOKEN_DECISIONS: 'false' }), undefined, {
      review: true,
    });
    try {
      const byToken = await peopleOnly.app.inject({
        method: 'POST',
        url: `/v1/reviews/${caseId}/revisions/1/decision`,
        headers: reviewer,
        payload: { action: 'approve' },
      });
      expect([byToken.statusCode, byToken.json<{ code: string }>().code]).toEqual([403, 'DECISION_NEEDS_SESSION']);
    } finally {
      await peopleOnly.close();
    }
    for (const bad of [
      { action: 'approve', extra: 1 },
      { action: 'reject', reason: '' },
      { action: 'request_changes' },
      { action: 'delete' },
      { action: 'edit', sections: { assessment: 'x' } },
    ]) {
      const res = await inject('POST', `/v1/reviews/${caseId}/revisions/1/decision`, reviewer, bad);
      expect([res.statusCode, res.json<{ code: string }>().code], JSON.stringify(bad)).toEqual([
        400,
        'DECISION_INVALID',
      ]);
    }
    expect(
      (
        await inject('POST', `/v1/reviews/${caseId}/revisions/1/decision`, reviewer, {
          action: 'reject',
          reason: 'Not appropriate for this patient.',
        })
      ).statusCode,
    ).toBe(201);
    const again = await inject('POST', `/v1/reviews/${caseId}/revisions/1/decision`, reviewer, { action: 'approve' });
    expect([again.statusCode, again.json<{ code: string }>().code]).toEqual([409, 'ALREADY_DECIDED']);
    const closed = await waitUntil(
      async () => {
        const v = (await inject('GET', `/v1/cases/${caseId}`, service)).json<CaseView>();
        return v.delivery?.status === 'delivered' ? v : null;
      },
      30_000,
      'the rejected case to be closed and marked delivered',
    );
    expect(closed).toMatchObject({
      status: 'rejected',
      closedReason: 'Not appropriate for this patient.',
      plan: null,
      delivery: { channel: 'api' },
    });
  });
});
