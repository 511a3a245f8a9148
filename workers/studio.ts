/**
 * Entry for LangGraph Studio / the LangGraph CLI (see langgraph.json): the clinical-case graph
 * compiled without a checkpointer (the platform supplies one), assembled as a worker assembles
 * it (openToolBox, createAgents): the knowledge base (SQLite under the data folder, or Postgres
 * with DATABASE_URL; an empty one is seeded as KB_SEED says, kb/starter by default), the other
 * tools the environment configures, and the planner and drafter for the configured mode.
 * Literature and imaging steps report "unavailable" when their service is not configured.
 */
import { createAgents } from '../src/agents/index.js';
import { loadConfig } from '../src/config.js';
import { buildClinicalCaseGraph } from '../src/graphs/clinical-case/graph.js';
import { openToolBox } from './graph-setup.js';

const config = loadConfig(process.env);
// Open for the life of the Studio process, which gives a graph module no shutdown hook.
const { tools } = await openToolBox(config);

export const graph = buildClinicalCaseGraph({
  tools,
  ...createAgents(config),
  maxRevisions: config.review.maxRevisions,
}).compile({ name: 'clinical-case' });
