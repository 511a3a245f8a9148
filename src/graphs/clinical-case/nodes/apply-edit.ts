import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/** Replace the plan with the reviewer's edit, keeping the drafted plan and the editor's name. */
export function applyEditNode(state: ClinicalCaseStateValue): ClinicalCaseUpdate {
  const decision = state.decisions.at(-1);
  if (decision?.action !== 'edit') throw new Error('apply_edit reached without an edit decision');
  const before = state.plan!;
  const after = { ...before, sections: decision.sections, label: `${before.label} Edited by ${decision.reviewer}.` };
  return { plan: after, humanEdits: [{ revision: state.revision, reviewer: decision.reviewer, at: decision.decidedAt, before, after }] };
}
