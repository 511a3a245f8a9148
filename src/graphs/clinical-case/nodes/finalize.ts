import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/** A human approved this revision (as drafted or as edited). Delivery happens outside the graph. */
export function finalizeNode(_state: ClinicalCaseStateValue): ClinicalCaseUpdate {
  return { status: 'approved' };
}
