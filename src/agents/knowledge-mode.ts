/** Knowledge-driven mode (no model configured): the deterministic planner and the templated drafter. */
import type { Drafter, Planner } from '../domain/agents.js';
import { knowledgeDrivenPlan } from './knowledge-planner.js';
import { templateDraft } from './template-drafter.js';

export const knowledgePlanner: Planner = {
  kind: 'knowledge-driven',
  plan: (view) => Promise.resolve({ steps: knowledgeDrivenPlan(view), planner: 'knowledge-driven', note: null }),
};

export const templateDrafter: Drafter = {
  kind: 'knowledge-driven',
  draft: (input) => Promise.resolve(templateDraft(input)),
};
