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
    // Which parts came from the model and which from code: the drafter says for the text, the planning record for the steps.
    const planning = state.planning;
    const planner = planning
      ? {
          source: planning.planner,
          model: planning.planner === 'knowledge-driven' ? null : (deps.planner.model ?? null),
          reason: planning.note,
        }
      : null;
    const drafter = plan.provenance?.drafter ?? {
      source: deps.drafter.kind === 'llm' ? ('llm' as const) : ('knowledge-driven' as const),
      model: null,
      reason: null,
    };
    return { plan: { ...plan, provenance: { planner, drafter } } };
  };
}
