import type { MinimisedCase } from '../../../domain/minimised-case.js';
import type { ImageSource } from '../../../domain/imaging.js';
import type { GraphDeps } from '../deps.js';
import { executeStep } from '../executor.js';
import type { ClinicalCaseUpdate } from '../state.js';
import type { PlanStep } from '../../../domain/steps.js';

/** The payload each `Send` carries: one step, the minimised view and, for an imaging step, where its pixels are. */
export interface ExecuteStepInput {
  step: PlanStep;
  view: MinimisedCase;
  image?: ImageSource | null;
}

/** Run one step against its tool. Never throws: failures are recorded as "unavailable". */
export function executeStepNode(deps: GraphDeps) {
  return async (input: ExecuteStepInput): Promise<ClinicalCaseUpdate> => {
    const result = await executeStep(input.step, input.view, deps.tools, input.image ?? null);
    return { results: { [input.step.id]: result } };
  };
}
