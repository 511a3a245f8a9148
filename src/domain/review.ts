/**
 * Human review, audit and delivery contracts: what the review API and UI take and show, what
 * is recorded for each decision, the append-only audit events of a case, and what a backend
 * service receives when a case is finalized.
 */
import { z } from 'zod';
import { CLOSED_STATUSES } from './case-status.js';
import { CaseId, CasePriority, CaseView } from './case.js';
import { PlanDiff } from './plan-diff.js';
import { Plan, PlanSections, ReviewDecision, ReviewRequest, Severity } from './plan.js';

/** A reviewer's decision as submitted over HTTP; identity and time are added by the server. */
export const DecisionInput = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('approve') }),
  /** Edit-and-approve: the full edited sections (the diff against the draft is stored). */
  z.strictObject({
    action: z.literal('edit'),
    sections: PlanSections,
    /**
     * PMIDs of literature the edit cites as `pmid:<id>` beyond the plan's evidence (found with
     * /v1/literature/search): the server fetches each record from its literature source and
     * records it with the decision; an unknown PMID refuses the decision.
     */
    attach: z
      .array(z.string().regex(/^\d{1,9}$/, 'a PMID is digits'))
      .max(20)
      .default([]),
  }),
  z.strictObject({
    action: z.literal('request_changes'),
    comments: z.string().trim().min(3, 'say what should change (at least 3 characters)').max(10_000),
  }),
  z.strictObject({
    action: z.literal('reject'),
    reason: z.string().trim().min(3, 'give the reason (at least 3 characters)').max(10_000),
  }),
]);
export type DecisionInput = z.infer<typeof DecisionInput>;

/** What is stored for a decided revision: the decision, who and when, and for edits the diff. */
export const DecisionRecord = z.object({
  caseId: CaseId,
  revision: z.number().int(),
  decision: ReviewDecision,
  diff: PlanDiff.nullable(),
  recordedAt: z.string(),
});
export type DecisionRecord = z.infer<typeof DecisionRecord>;

export const ReviewItemState = z.enum(['waiting', 'claimed', 'decided']);

/** One entry of the review queue. */
export const ReviewListItem = z.object({
  caseId: CaseId,
  revision: z.number().int(),
  casePriority: CasePriority,
  maxSeverity: Severity.nullable(),
  /** Verification findings by severity. */
  findings: z.record(Severity, z.number().int()),
  state: ReviewItemState,
  claimedBy: z.string().nullable(),
  leaseExpiresAt: z.string().nullable(),
  enqueuedAt: z.string(),
  waitingSeconds: z.number(),
  /** BullMQ priority (lower is served first): case priority, then the most severe finding. */
  queuePriority: z.number().int(),
});
export type ReviewListItem = z.infer<typeof ReviewListItem>;

export const ReviewList = z.object({
  items: z.array(ReviewListItem),
  counts: z.object({ waiting: z.number().int(), claimed: z.number().int() }),
});
export type ReviewList = z.infer<typeof ReviewList>;

/** A held claim: the lease on one review item. */
export const ClaimView = z.object({
  caseId: CaseId,
  revision: z.number().int(),
  claimedBy: z.string(),
  claimedAt: z.string(),
  leaseExpiresAt: z.string(),
  leaseMs: z.number().int(),
});
export type ClaimView = z.infer<typeof ClaimView>;

export const AUDIT_EVENTS = [
  'enqueued',
  'step_started',
  'step_finished',
  'drafted',
  'verified',
  'review_enqueued',
  'claimed',
  'released',
  'lease_expired',
  'decided',
  'decision_refused',
  'resumed',
  'closed',
  'failed',
  'delivery_attempt_failed',
  'delivered',
  'dead_lettered',
  'delivery_retried',
  /** Someone read the case (staff every time; a service once per window). */
  'viewed',
  /** Recovery after Redis data loss rebuilt the case from the durable records (what it found and did). */
  'recovered',
] as const;
export const AuditEventName = z.enum(AUDIT_EVENTS);
export type AuditEventName = z.infer<typeof AuditEventName>;

/**
 * How an actor authenticated: a service token, a staff member's signed-in session, a staff API
 * token (an integration acting with staff roles), or the system itself.
 */
export const ActorType = z.enum(['service', 'staff_session', 'staff_token', 'system']);
export type ActorType = z.infer<typeof ActorType>;

/** Who did something: a name and how they authenticated (absent when the caller did not say). */
export interface Actor {
  readonly name: string;
  readonly type?: ActorType;
}

/** An actor given as a bare name (tests, scripts) or in full. `system:` names are the system's. */
export function actorOf(who: string | Actor): Actor {
  if (typeof who !== 'string') return who;
  return who.startsWith('system:') ? { name: who, type: 'system' } : { name: who };
}

/** One entry of a case's append-only audit log. Details are ids, codes, counts and names of staff: never patient data. */
export const AuditEvent = z.object({
  /** The Redis Stream id: time-ordered and unique. */
  id: z.string(),
  caseId: CaseId,
  event: AuditEventName,
  /** Who: a service, a reviewer or ops account, or `system:<component>`. */
  actor: z.string(),
  /** How the actor authenticated; absent on entries written before it was recorded. */
  actorType: ActorType.optional(),
  at: z.string(),
  revision: z.number().int().nullable(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  /** The entry's place in the case's hash chain (1, 2, …); absent on entries written before chaining. */
  seq: z.number().int().positive().optional(),
  /** The entry's chain hash (hex SHA-256 or HMAC-SHA256 over the case id, seq, the previous hash and the fields). */
  hash: z.string().optional(),
});
export type AuditEvent = z.infer<typeof AuditEvent>;
export type AuditEntry = Omit<AuditEvent, 'id' | 'at' | 'seq' | 'hash'> & { at?: string };

/** What `GET /v1/cases/:id/audit` returns: the case's audit log, oldest first. */
export const CaseAudit = z.object({ caseId: CaseId, events: z.array(AuditEvent) });
export type CaseAudit = z.infer<typeof CaseAudit>;

/** What `GET /v1/reviews/:caseId/revisions/:revision` returns: everything the reviewer sees for one revision. */
export const ReviewDetail = z.object({
  item: ReviewListItem,
  request: ReviewRequest,
  /** Your claim on this item, when you hold one. */
  claim: ClaimView.nullable(),
  decision: DecisionRecord.nullable(),
  /** What changed since the previous revision (null for the first). */
  diffToPrevious: PlanDiff.nullable(),
});
export type ReviewDetail = z.infer<typeof ReviewDetail>;

/** What `GET /v1/reviews/:caseId` returns: the case view, every decision and the audit trail. */
export const ReviewCase = z.object({ case: CaseView, decisions: z.array(DecisionRecord), audit: z.array(AuditEvent) });
export type ReviewCase = z.infer<typeof ReviewCase>;

/** What `POST /v1/reviews/:caseId/revisions/:revision/decision` returns (201 recorded, 200 already recorded). */
export const DecisionResponse = z.object({ created: z.boolean(), record: DecisionRecord });
export type DecisionResponse = z.infer<typeof DecisionResponse>;

/** The webhook body POSTed to a case's callback URL when it is finalized. */
export const DeliveryPayload = z.object({
  /** Stable per case and revision: receivers deduplicate on it. */
  deliveryId: z.string(),
  caseId: CaseId,
  status: z.enum(CLOSED_STATUSES),
  revision: z.number().int(),
  /** The plan a human approved; null otherwise. */
  plan: Plan.nullable(),
  closedReason: z.string().nullable(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  sentAt: z.string(),
});
export type DeliveryPayload = z.infer<typeof DeliveryPayload>;
