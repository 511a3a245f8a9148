import { interrupt } from '@langchain/langgraph';
import { ReviewDecision, type ReviewRequest } from '../../../domain/plan.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/** The review request shown to a human: plan, evidence, findings, allowed actions. Pure. */
export function reviewRequestOf(state: ClinicalCaseStateValue): ReviewRequest {
  const evidence = new Map<string, ReviewRequest['evidence'][number]>();
  for (const r of Object.values(state.results)) for (const e of r.evidence) evidence.set(e.id, e);
  return {
    caseId: state.caseId,
    revision: state.revision,
    plan: state.plan!,
    evidence: [...evidence.values()],
    findings: state.findings,
    allowedActions: ['approve', 'edit', 'request_changes', 'reject'],
    view: state.view,
    previousPlan: state.previousPlan,
    reviewerComments: state.reviewerComments,
  };
}

/** Why a resume value is not an acceptable decision for this state, or null when it is. */
export function decisionProblem(state: Pick<ClinicalCaseStateValue, 'revision'>, raw: unknown): string | null {
  const parsed = ReviewDecision.safeParse(raw);
  if (!parsed.success)
    return `invalid decision: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
  if (parsed.data.revision !== state.revision)
    return `decision is for revision ${parsed.data.revision}, but the case is at revision ${state.revision}`;
  return null;
}

/**
 * Pause for a human decision. Nothing happens before `interrupt()`: the code running the graph
 * sees `__interrupt__` and enqueues the review job. On resume the decision is validated; a
 * refused one is recorded and the case is asked again (the node never throws, so a bad resume
 * value cannot wedge the thread).
 */
export function reviewNode(state: ClinicalCaseStateValue): ClinicalCaseUpdate {
  const raw: unknown = interrupt(reviewRequestOf(state));
  const problem = decisionProblem(state, raw);
  if (problem)
    return {
      decisionAccepted: false,
      refusedDecisions: [{ at: new Date().toISOString(), reason: problem }],
      status: 'awaiting_review',
    };
  return { decisions: [ReviewDecision.parse(raw)], decisionAccepted: true, status: 'awaiting_review' };
}
