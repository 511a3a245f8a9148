/** Pure routing functions of the clinical-case graph. */
import { END, Send } from '@langchain/langgraph';
import type { ClinicalCaseStateValue } from './state.js';
import { readySteps } from './steps.js';

/** Fan out every step whose dependencies are done (in parallel), or go on to drafting. */
export function dispatchSteps(state: ClinicalCaseStateValue): Send[] | 'draft' {
  const ready = readySteps(state.steps, new Set(Object.keys(state.results)));
  if (ready.length === 0) return 'draft';
  return ready.map(
    (step) =>
      new Send(
        'execute_step',
        step.type === 'imaging_analysis' && step.inputs.studyRef
          ? { step, view: state.view, image: state.imageSources[step.inputs.studyRef] ?? null }
          : { step, view: state.view },
      ),
  );
}

export function afterReview(state: ClinicalCaseStateValue): 'finalize' | 'apply_edit' | 'revise' | 'close' | 'review' {
  if (!state.decisionAccepted) return 'review';
  const action = state.decisions.at(-1)?.action;
  switch (action) {
    case 'approve':
      return 'finalize';
    case 'edit':
      return 'apply_edit';
    case 'request_changes':
      return 'revise';
    case 'reject':
      return 'close';
    default:
      throw new Error('review finished without a decision');
  }
}

/** After verification: an edited plan is finalized unless verification found something critical; anything else goes to review. */
export function afterVerify(state: ClinicalCaseStateValue): 'finalize' | 'review' {
  const last = state.decisions.at(-1);
  // The edit made the current revision (apply_edit opens revision + 1) and has not been reviewed since.
  const edited =
    last?.action === 'edit' &&
    state.revision === last.revision + 1 &&
    state.humanEdits.some((e) => e.revision === last.revision && e.at === last.decidedAt);
  if (edited && !state.findings.some((f) => f.severity === 'critical')) return 'finalize';
  return 'review';
}

export function afterRevise(state: ClinicalCaseStateValue): 'decompose' | typeof END {
  return state.status === 'escalated' ? END : 'decompose';
}
