import type { GraphDeps } from '../deps.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';
import { verifyPlan } from '../verify.js';

export function verifyNode(deps: GraphDeps) {
  return async (state: ClinicalCaseStateValue): Promise<ClinicalCaseUpdate> => {
    const { plan, findings } = await verifyPlan(
      {
        plan: state.plan!,
        view: state.view!,
        results: state.results,
        injections: state.injections,
        reviewRevisions: state.reviewerComments.map((c) => c.revision),
      },
      deps.tools,
    );
    return { plan, findings };
  };
}
