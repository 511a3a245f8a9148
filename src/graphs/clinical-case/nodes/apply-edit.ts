import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/**
 * Replace the plan with the reviewer's edit, keeping the drafted plan and the editor's name.
 * The edited plan is a new revision: if verification sends it back to review, it is reviewed
 * (and queued) as that revision, with the drafted plan as its previous one.
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
  return {
    plan: after,
    revision,
    previousPlan: before,
    humanEdits: [{ revision: decision.revision, reviewer: decision.reviewer, at: decision.decidedAt, before, after }],
  };
}
