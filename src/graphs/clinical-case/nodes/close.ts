import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/** A human rejected the plan; the case closes with the reason. */
export function closeNode(state: ClinicalCaseStateValue): ClinicalCaseUpdate {
  const decision = state.decisions.at(-1);
  return { status: 'rejected', closedReason: decision?.action === 'reject' ? decision.reason : 'rejected' };
}
