/** Runs one synthetic case through the knowledge-driven graph (memory checkpointer) to its review interrupt. */
import { MemorySaver } from '@langchain/langgraph';
import { knowledgePlanner, templateDrafter } from '../../src/agents/knowledge-mode.js';
import type { ReviewRequest } from '../../src/domain/plan.js';
import type { ToolBox } from '../../src/graphs/clinical-case/executor.js';
import { compileClinicalCaseGraph } from '../../src/graphs/clinical-case/graph.js';
import type { ClinicalCaseStateValue } from '../../src/graphs/clinical-case/state.js';
import { parseSubmission } from '../../src/queues/producer.js';
import type { ExampleCase } from './cases.js';

export async function runToReview(
  example: ExampleCase,
  tools: ToolBox,
): Promise<{ request: ReviewRequest; state: ClinicalCaseStateValue }> {
  const graph = compileClinicalCaseGraph(
    { tools, planner: knowledgePlanner, drafter: templateDrafter, maxRevisions: 2 },
    new MemorySaver(),
  );
  const submission = parseSubmission(example.submission, []);
  const config = { configurable: { thread_id: submission.caseId } };
  const out = await graph.invoke(
    { caseId: submission.caseId, submission, receivedAt: '2026-11-24T12:00:00.000Z' },
    config,
  );
  const request = (out as { __interrupt__?: Array<{ value: ReviewRequest }> }).__interrupt__![0]!.value;
  const state = (await graph.getState(config)).values as ClinicalCaseStateValue;
  return { request, state };
}
