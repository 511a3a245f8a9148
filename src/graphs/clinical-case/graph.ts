/**
 * The clinical-case graph: wiring only. One thread per case (`thread_id` = case id).
 *
 *   normalise → decompose ⇉ execute_step (parallel via Send, dependency waves through collect)
 *     → draft → verify → review (interrupt)
 *       approve → finalize
 *       edit → apply_edit → verify → finalize (or review again on critical findings)
 *       request_changes → revise → decompose … (or escalate when revisions run out)
 *       reject → close
 */
import { END, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import type { GraphDeps } from './deps.js';
import { applyEditNode } from './nodes/apply-edit.js';
import { closeNode } from './nodes/close.js';
import { collectNode } from './nodes/collect.js';
import { draftNode } from './nodes/draft.js';
import { executeStepNode } from './nodes/execute-step.js';
import { finalizeNode } from './nodes/finalize.js';
import { normaliseNode } from './nodes/normalise.js';
import { planNode } from './nodes/plan.js';
import { reviewNode } from './nodes/review.js';
import { reviseNode } from './nodes/revise.js';
import { verifyNode } from './nodes/verify.js';
import { afterReview, afterRevise, afterVerify, dispatchSteps } from './routing.js';
import { ClinicalCaseState } from './state.js';

export function buildClinicalCaseGraph(deps: GraphDeps) {
  return new StateGraph(ClinicalCaseState)
    .addNode('normalise', normaliseNode)
    .addNode('decompose', planNode(deps))
    .addNode('execute_step', executeStepNode(deps))
    .addNode('collect', collectNode)
    .addNode('draft', draftNode(deps))
    .addNode('verify', verifyNode(deps))
    .addNode('review', reviewNode)
    .addNode('apply_edit', applyEditNode)
    .addNode('revise', reviseNode(deps))
    .addNode('finalize', finalizeNode)
    .addNode('close', closeNode)
    .addEdge(START, 'normalise')
    .addEdge('normalise', 'decompose')
    .addConditionalEdges('decompose', dispatchSteps, ['execute_step', 'draft'])
    .addEdge('execute_step', 'collect')
    .addConditionalEdges('collect', dispatchSteps, ['execute_step', 'draft'])
    .addEdge('draft', 'verify')
    .addConditionalEdges('verify', afterVerify, ['finalize', 'review'])
    .addConditionalEdges('review', afterReview, ['finalize', 'apply_edit', 'revise', 'close', 'review'])
    .addEdge('apply_edit', 'verify')
    .addConditionalEdges('revise', afterRevise, ['decompose', END])
    .addEdge('finalize', END)
    .addEdge('close', END);
}

export function compileClinicalCaseGraph(deps: GraphDeps, checkpointer: BaseCheckpointSaver) {
  return buildClinicalCaseGraph(deps).compile({ checkpointer, name: 'clinical-case' });
}

export type ClinicalCaseGraph = ReturnType<typeof compileClinicalCaseGraph>;
