/**
 * The public contracts (`clinical-orchestrator/schemas`): the zod schemas, and their types, of
 * what a backend service sends and receives: a case submission and its FHIR bundle, the case
 * view and its statuses, the audit trail, the webhook delivery, the review API's bodies and
 * problem details. The server, the producer and the typed client validate with the same ones.
 */
export { Bundle } from './domain/fhir.js';
export {
  CaseId,
  CasePriority,
  CaseSubmission,
  CaseView,
  DeliveryState,
  type CaseSubmissionInput,
} from './domain/case.js';
export { CaseStatus, CLOSED_STATUSES, TERMINAL_STATUSES, type ClosedStatus } from './domain/case-status.js';
export {
  Evidence,
  Plan,
  PlanSections,
  Recommendation,
  ReviewRequest,
  Severity,
  VerificationFinding,
} from './domain/plan.js';
export {
  AuditEvent,
  AuditEventName,
  CaseAudit,
  ClaimView,
  DecisionInput,
  DecisionRecord,
  DecisionResponse,
  DeliveryPayload,
  ReviewCase,
  ReviewDetail,
  ReviewList,
  ReviewListItem,
} from './domain/review.js';
export { ProblemDetails } from './domain/problem.js';
export type { FieldIssue } from './domain/validation.js';
