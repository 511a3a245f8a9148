/**
 * Entry for LangGraph Studio / the LangGraph CLI (see langgraph.json): the clinical-case graph
 * compiled without a checkpointer (the platform supplies one), in the mode the environment
 * configures. Tools that are not configured report "unavailable".
 */
import { knowledgePlanner, templateDrafter } from '../../agents/knowledge-mode.js';
import { llmDrafter } from '../../agents/llm-drafter.js';
import { llmPlanner } from '../../agents/llm-planner.js';
import { createChatModel } from '../../agents/models.js';
import { loadConfig } from '../../config.js';
import { buildClinicalCaseGraph } from './graph.js';

const config = loadConfig(process.env);
const agents =
  config.model.mode === 'llm'
    ? {
        planner: llmPlanner(createChatModel(config.model)),
        drafter: llmDrafter(createChatModel(config.model), config.model.model),
      }
    : { planner: knowledgePlanner, drafter: templateDrafter };

export const graph = buildClinicalCaseGraph({
  tools: { knowledgeBase: null, literature: null, imaging: null },
  ...agents,
  maxRevisions: config.review.maxRevisions,
}).compile({ name: 'clinical-case' });
