/**
 * Assembles the clinical-case graph for a worker process from the configuration: the durable
 * checkpointer, the tools, and the planner and drafter for the configured mode.
 */
import { knowledgePlanner, templateDrafter } from '../src/agents/knowledge-mode.js';
import type { Config } from '../src/config.js';
import { ConfigError } from '../src/config.js';
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
  if (config.model.mode === 'llm' && !overrides.planner) {
    throw new ConfigError([{ variable: 'OPENAI_MODEL', message: 'LLM planning and drafting are not available yet; unset OPENAI_MODEL to run in knowledge-driven mode' }]);
  }
  const checkpointer = await openCheckpointer(config);
  const deps: GraphDeps = { tools: toolBoxFromConfig(config), planner: knowledgePlanner, drafter: templateDrafter, maxRevisions: config.review.maxRevisions, ...overrides };
  const graph = compileClinicalCaseGraph(deps, checkpointer.saver);
  return { runtime: new ClinicalCaseRuntime(graph), close: () => checkpointer.close() };
}
