import type { GraphDeps } from '../deps.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';
import { verifyPlan } from '../verify.js';

export function verifyNode(deps: GraphDeps) {
  return async (state: ClinicalCaseStateValue): Promise<ClinicalCaseUpdate> => {
    const { plan, findings } = await verifyPlan(
      {
        plan: state.plan!,
        view: state.view!,
        steps: state.steps,
        results: state.results,
        injections: state.injections,
        reviewerComments: state.reviewerComments,
      },
      deps.tools,
    );
    return { plan, findings };
  };
}
