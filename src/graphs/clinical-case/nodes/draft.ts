import type { GraphDeps } from '../deps.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

export function draftNode(deps: GraphDeps) {
  return async (state: ClinicalCaseStateValue): Promise<ClinicalCaseUpdate> => {
    const plan = await deps.drafter.draft({
      view: state.view!,
      steps: state.steps,
      results: state.results,
      revision: state.revision,
      reviewerComments: state.reviewerComments,
      language: state.language ?? deps.planLanguage ?? 'en',
    });
    return { plan };
  };
}
