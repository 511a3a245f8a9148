import type { GraphDeps } from '../deps.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';
import { mergeMandatory } from '../steps.js';

/** Ask the planner for steps, then merge in the mandatory safety steps (code, not the planner, decides those). */
export function planNode(deps: GraphDeps) {
  return async (state: ClinicalCaseStateValue): Promise<ClinicalCaseUpdate> => {
    const view = state.view!;
    const proposed = await deps.planner.plan(view, state.reviewerComments);
    const { steps, added } = mergeMandatory(proposed.steps, view);
    return {
      steps,
      planning: { planner: proposed.planner, mandatoryAdded: added, note: proposed.note },
      results: { reset: true },
    };
  };
}
