import { detectHiddenCharacters, detectInjections } from '../../../clinical/injection.js';
import { normaliseCase } from '../../../clinical/normalise.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/** Parse the bundle into the PHI-minimised view, flag hidden characters and embedded instructions, and drop the raw submission from state. */
export function normaliseNode(state: ClinicalCaseStateValue): ClinicalCaseUpdate {
  if (!state.submission) {
    if (state.view) return {};
    throw new Error(`case ${state.caseId} has neither a submission nor a view`);
  }
  const { view, refs } = normaliseCase(state.submission, new Date(state.receivedAt));
  return {
    view,
    language: state.submission.language ?? null,
    imageSources: refs.imaging,
    injections: [...detectHiddenCharacters(state.submission), ...detectInjections(view)],
    submission: null,
    status: 'drafting',
  };
}
