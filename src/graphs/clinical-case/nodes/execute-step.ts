import type { MinimisedCase } from '../../../clinical/normalise.js';
import type { GraphDeps } from '../deps.js';
import { executeStep } from '../executor.js';
import type { ClinicalCaseUpdate } from '../state.js';
import type { PlanStep } from '../steps.js';

/** The payload each `Send` carries: one step and the minimised view (nothing else reaches a tool). */
export interface ExecuteStepInput {
  step: PlanStep;
  view: MinimisedCase;
}

/** Run one step against its tool. Never throws: failures are recorded as "unavailable". */
export function executeStepNode(deps: GraphDeps) {
  return async (input: ExecuteStepInput): Promise<ClinicalCaseUpdate> => {
    const result = await executeStep(input.step, input.view, deps.tools);
    return { results: { [input.step.id]: result } };
  };
}
