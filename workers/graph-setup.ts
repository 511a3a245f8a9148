/**
 * Assembles the clinical-case graph for a worker process from the configuration: the durable
 * checkpointer, the tools, and the planner and drafter for the configured mode.
 */
import { knowledgePlanner, templateDrafter } from '../src/agents/knowledge-mode.js';
import { llmDrafter } from '../src/agents/llm-drafter.js';
import { llmPlanner } from '../src/agents/llm-planner.js';
import { createChatModel } from '../src/agents/models.js';
import type { Config } from '../src/config.js';
import type { GraphDeps } from '../src/graphs/clinical-case/deps.js';
import type { ToolBox } from '../src/graphs/clinical-case/executor.js';
import { compileClinicalCaseGraph } from '../src/graphs/clinical-case/graph.js';
import { ClinicalCaseRuntime } from '../src/graphs/clinical-case/runtime.js';
import { openCheckpointer } from '../src/infra/checkpointer.js';

/** Tools come from their own issues; until a tool is configured, its steps report "not configured". */
export function toolBoxFromConfig(_config: Config): ToolBox {
  return { knowledgeBase: null, literature: null, imaging: null };
}

export async function openCaseRuntime(config: Config, overrides: Partial<GraphDeps> = {}): Promise<{ runtime: ClinicalCaseRuntime; close: () => Promise<void> }> {
  const checkpointer = await openCheckpointer(config);
  const agents =
    config.model.mode === 'llm'
      ? (() => {
          const model = createChatModel(config.model);
          return { planner: llmPlanner(model), drafter: llmDrafter(model, config.model.model) };
        })()
      : { planner: knowledgePlanner, drafter: templateDrafter };
  const deps: GraphDeps = { tools: toolBoxFromConfig(config), ...agents, maxRevisions: config.review.maxRevisions, ...overrides };
  const graph = compileClinicalCaseGraph(deps, checkpointer.saver);
  return { runtime: new ClinicalCaseRuntime(graph), close: () => checkpointer.close() };
}
