/**
 * The planner and drafter for the configured mode: knowledge-driven when no model is configured,
 * the LLM planner and drafter (sharing one chat model) when one is.
 */
import type { Config } from '../config.js';
import type { Drafter, Planner } from '../domain/agents.js';
import { knowledgePlanner, templateDrafter } from './knowledge-mode.js';
import { llmDrafter } from './llm-drafter.js';
import { llmPlanner } from './llm-planner.js';
import { createChatModel } from './models.js';

export function createAgents(config: Pick<Config, 'model'>): { planner: Planner; drafter: Drafter } {
  if (config.model.mode !== 'llm') return { planner: knowledgePlanner, drafter: templateDrafter };
  const model = createChatModel(config.model);
  return { planner: llmPlanner(model, config.model.model), drafter: llmDrafter(model, config.model.model) };
}
