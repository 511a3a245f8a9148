import type { StepResult } from '../../../domain/steps.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/** Where the literature a reviewer attached to an edit is kept among the results, so citations to it resolve. */
export const attachedResultId = (revision: number) => `reviewer-sources-r${revision}`;

/**
 * Replace the plan with the reviewer's edit, keeping the drafted plan and the editor's name.
 * The edited plan is a new revision: if verification sends it back to review, it is reviewed
 * (and queued) as that revision, with the drafted plan as its previous one. Literature the
 * reviewer attached (fetched by the server from its literature source when the decision was
 * recorded) joins the results, so verification resolves the edit's `pmid:` citations to it and
 * the review page and delivered plan show it like the plan's own evidence.
 */
export function applyEditNode(state: ClinicalCaseStateValue): ClinicalCaseUpdate {
  const decision = state.decisions.at(-1);
  if (decision?.action !== 'edit') throw new Error('apply_edit reached without an edit decision');
  const before = state.plan!;
  const revision = state.revision + 1;
  const after = {
    ...before,
    revision,
    sections: decision.sections,
    label: `${before.label} Edited by ${decision.reviewer}.`,
  };
  const attached: StepResult | null = decision.sources.length
    ? {
        stepId: attachedResultId(decision.revision),
        type: 'literature_search',
        status: 'ok',
        code: null,
        reason: `attached by ${decision.reviewer} to the edit of revision ${decision.revision}`,
        provenance: {
          source: 'reviewer-attached literature',
          version: null,
          retrievedAt: decision.decidedAt,
          attempts: 1,
          durationMs: 0,
        },
        evidence: decision.sources,
        findings: [],
        unknownTerms: [],
        reasoning: null,
        literature: null,
      }
    : null;
  return {
    plan: after,
    revision,
    previousPlan: before,
    ...(attached ? { results: { [attached.stepId]: attached } } : {}),
    humanEdits: [{ revision: decision.revision, reviewer: decision.reviewer, at: decision.decidedAt, before, after }],
  };
}
