import type { GraphDeps } from '../deps.js';
import type { ClinicalCaseStateValue, ClinicalCaseUpdate } from '../state.js';

/** Record the reviewer's comments and open the next revision, or escalate when revisions run out. */
export function reviseNode(deps: Pick<GraphDeps, 'maxRevisions'>) {
  return (state: ClinicalCaseStateValue): ClinicalCaseUpdate => {
    const decision = state.decisions.at(-1);
    if (decision?.action !== 'request_changes') throw new Error('revise reached without a request for changes');
    const comments = [
      { revision: state.revision, reviewer: decision.reviewer, comments: decision.comments, at: decision.decidedAt },
    ];
    if (state.revision >= deps.maxRevisions + 1) {
      return {
        reviewerComments: comments,
        status: 'escalated',
        closedReason: `changes were requested ${state.revision} times (limit ${deps.maxRevisions}); escalated for senior review`,
      };
    }
    return { reviewerComments: comments, previousPlan: state.plan, revision: state.revision + 1, status: 'drafting' };
  };
}
