import type { ClinicalCaseUpdate } from '../state.js';

/** Join point after a wave of parallel steps; routing then sends the next ready steps, or moves on to drafting. */
export function collectNode(): ClinicalCaseUpdate {
  return {};
}
