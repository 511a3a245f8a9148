/**
 * The review API (role `reviewer`; admin too): the queue, claims with leases, the case as the
 * reviewer sees it, and decisions. The review web UI uses the same routes for lease renewal; a
 * scripted reviewer (benchmarks, integration tests) uses all of them with a staff token.
 *
 *   GET  /v1/reviews                                        the queue (priority, then age)
 *   POST /v1/reviews/claim                                  claim the next item (204 when empty)
 *   GET  /v1/reviews/:caseId                                a case's status, decisions and audit trail
 *   GET  /v1/reviews/:caseId/revisions/:revision            one revision: plan, evidence, findings, diff, claim
 *   POST /v1/reviews/:caseId/revisions/:revision/claim      claim that item
 *   POST /v1/reviews/:caseId/revisions/:revision/lease      renew the lease
 *   POST /v1/reviews/:caseId/revisions/:revision/release    give it back
 *   POST /v1/reviews/:caseId/revisions/:revision/decision   approve, edit, request changes or reject
 */
import { attachedSources } from '../attachments.js';
import type { LiteratureClient } from '../../tools/literature/schema.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { CaseId } from '../../domain/case.js';
import { diffPlans } from '../../domain/plan-diff.js';
import { DecisionInput, ReviewList, type Actor, type ReviewDetail } from '../../domain/review.js';
import { toFieldIssues } from '../../domain/validation.js';
import type { AuditLog } from '../../audit/case-log.js';
import { toCaseView, type CaseStore } from '../../cases/store.js';
import type { DecisionStore } from '../../records/decisions.js';
import { ReviewError, type ReviewQueue } from '../../queues/review-queue.js';
import { actorFor, requireRole, type Authenticator, type Principal } from '../auth.js';
import { problem, problemFor, sendProblem } from '../problem.js';

// The response schemas are domain contracts (shared with the typed client); re-exported for the server's users.
export { DecisionResponse, ReviewCase, ReviewDetail } from '../../domain/review.js';

export interface ReviewRouteDeps {
  auth: Authenticator;
  queue: ReviewQueue;
  decisions: DecisionStore;
  audit: AuditLog;
  store: CaseStore;
  /** Fetches the literature an edit attaches (null: attaching is refused as unavailable). */
  literature: LiteratureClient | null;
  /** Whether staff API tokens may record decisions (`STAFF_TOKEN_DECISIONS`); otherwise only signed-in people. */
  tokenDecisions: boolean;
}

/** Refuses a decision from a staff API token when only signed-in people may decide; null when allowed. */
export function tokenDecisionRefusal(principal: Principal, tokenDecisions: boolean): string | null {
  return principal.via === 'token' && !tokenDecisions
    ? 'review decisions need a signed-in person (a session): staff API tokens may claim and read but not decide here (STAFF_TOKEN_DECISIONS is off)'
    : null;
}

/** A review item's path parameters. */
export const ReviewItemParams = z.object({ caseId: CaseId, revision: z.coerce.number().int().min(1).max(1000) });

export function reviewErrorProblem(err: ReviewError) {
  const titles: Record<ReviewError['code'], string> = {
    REVIEW_NOT_FOUND: 'Review item not found',
    ALREADY_CLAIMED: 'Claimed by someone else',
    ALREADY_DECIDED: 'Already decided',
    NOT_CLAIMED: 'Not claimed',
    LEASE_EXPIRED: 'Your claim expired',
    REVIEW_BUSY: 'Review queue busy',
    NOT_CLAIMABLE: 'Not claimable',
    SOURCE_NOT_FOUND: 'Attached source not found',
    SOURCES_UNAVAILABLE: 'Attached sources could not be fetched',
  };
  return problemFor(err, titles[err.code]);
}

/** Everything the reviewer sees for one revision. */
export async function reviewDetail(
  deps: Pick<ReviewRouteDeps, 'queue' | 'decisions'>,
  caseId: string,
  revision: number,
  reviewer: string,
): Promise<ReviewDetail | null> {
  const found = await deps.queue.item(caseId, revision, reviewer);
  if (!found) return null;
  const { data, listItem, claim } = found;
  const request = data.request;
  return {
    item: listItem,
    request,
    claim,
    decision: await deps.decisions.get(caseId, revision),
    diffToPrevious: request.previousPlan ? diffPlans(request.previousPlan.sections, request.plan.sections) : null,
  };
}

export function registerReviewRoutes(app: FastifyInstance, deps: ReviewRouteDeps): void {
  const reviewer = requireRole(deps.auth, ['reviewer']);
  const fail = (reply: FastifyReply, err: unknown) => {
    if (err instanceof ReviewError) return sendProblem(reply, reviewErrorProblem(err));
    throw err;
  };
  const params = (raw: unknown, reply: FastifyReply) => {
    const p = ReviewItemParams.safeParse(raw);
    if (!p.success)
      void sendProblem(
        reply,
        problem(
          400,
          'VALIDATION_FAILED',
          'Invalid case id or revision',
          p.error.issues[0]?.message,
          toFieldIssues(p.error),
        ),
      );
    return p.success ? p.data : null;
  };

  app.get('/v1/reviews', { preHandler: reviewer }, async () => {
    const items = await deps.queue.list();
    return ReviewList.parse({
      items,
      counts: {
        waiting: items.filter((i) => i.state === 'waiting').length,
        claimed: items.filter((i) => i.state === 'claimed').length,
      },
    });
  });

  app.post('/v1/reviews/claim', { preHandler: reviewer }, async (request, reply) => {
    try {
      const claim = await deps.queue.claimNext(actorFor(request.principal!));
      return claim ? reply.send(claim) : reply.status(204).send();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.get<{ Params: { caseId: string } }>('/v1/reviews/:caseId', { preHandler: reviewer }, async (request, reply) => {
    const id = CaseId.safeParse(request.params.caseId);
    if (!id.success)
      return sendProblem(reply, problem(400, 'CASE_ID_INVALID', 'Invalid case id', id.error.issues[0]?.message));
    const record = await deps.store.get(id.data);
    if (!record) return sendProblem(reply, problem(404, 'CASE_NOT_FOUND', 'Case not found', `no case ${id.data}`));
    await deps.audit.viewed(id.data, actorFor(request.principal!), 'api:review-case');
    return {
      case: toCaseView(record),
      decisions: await deps.decisions.list(id.data),
      audit: await deps.audit.list(id.data),
    };
  });

  app.get('/v1/reviews/:caseId/revisions/:revision', { preHandler: reviewer }, async (request, reply) => {
    const p = params(request.params, reply);
    if (!p) return reply;
    const detail = await reviewDetail(deps, p.caseId, p.revision, request.principal!.name);
    if (!detail)
      return sendProblem(
        reply,
        problem(
          404,
          'REVIEW_NOT_FOUND',
          'Review item not found',
          `no review item for case ${p.caseId} revision ${p.revision}`,
        ),
      );
    await deps.audit.viewed(p.caseId, actorFor(request.principal!), 'api:review-item', p.revision);
    return detail;
  });

  for (const [action, run] of [
    ['claim', (c: string, r: number, who: Actor) => deps.queue.claim(c, r, who)],
    ['lease', (c: string, r: number, who: Actor) => deps.queue.renew(c, r, who.name)],
  ] as const) {
    app.post(`/v1/reviews/:caseId/revisions/:revision/${action}`, { preHandler: reviewer }, async (request, reply) => {
      const p = params(request.params, reply);
      if (!p) return reply;
      try {
        return await run(p.caseId, p.revision, actorFor(request.principal!));
      } catch (err) {
        return fail(reply, err);
      }
    });
  }

  app.post('/v1/reviews/:caseId/revisions/:revision/release', { preHandler: reviewer }, async (request, reply) => {
    const p = params(request.params, reply);
    if (!p) return reply;
    try {
      await deps.queue.release(p.caseId, p.revision, actorFor(request.principal!));
      return reply.status(204).send();
    } catch (err) {
      return fail(reply, err);
    }
  });

  app.post('/v1/reviews/:caseId/revisions/:revision/decision', { preHandler: reviewer }, async (request, reply) => {
    const p = params(request.params, reply);
    if (!p) return reply;
    const refusal = tokenDecisionRefusal(request.principal!, deps.tokenDecisions);
    if (refusal) return sendProblem(reply, problem(403, 'DECISION_NEEDS_SESSION', 'A person must decide', refusal));
    const body = DecisionInput.safeParse(request.body);
    if (!body.success)
      return sendProblem(
        reply,
        problem(400, 'DECISION_INVALID', 'Invalid decision', body.error.issues[0]?.message, toFieldIssues(body.error)),
      );
    try {
      const sources =
        body.data.action === 'edit' ? await attachedSources(deps.literature, body.data.attach, body.data.sections) : [];
      const { record, created } = await deps.queue.decide(
        p.caseId,
        p.revision,
        actorFor(request.principal!),
        body.data,
        sources,
      );
      request.log.info(
        {
          caseId: p.caseId,
          revision: p.revision,
          action: record.decision.action,
          reviewer: record.decision.reviewer,
          created,
        },
        'review decision recorded',
      );
      return reply.status(created ? 201 : 200).send({ created, record });
    } catch (err) {
      return fail(reply, err);
    }
  });
}
