/**
 * LangChain tool wrappers, so a tool-calling model (or any LangChain agent) can use the
 * knowledge base: `kb_lookup` (terms → canonical entities and their facts) and
 * `kb_safety_check` (one check kind over a medication list). Both return JSON with fact ids
 * to cite as `kb:<id>`; failures come back as a coded error object, never as prose.
 */
import { tool } from '@langchain/core/tools';
import { toolJson } from '../common.js';
import { KbLookupInput, SafetyCheckInput, type KnowledgeBaseClient } from './schema.js';

export function knowledgeBaseTools(client: KnowledgeBaseClient) {
  return [
    tool(async (input) => toolJson((signal) => client.lookup(input, signal)), {
      name: 'kb_lookup',
      description:
        'Map drug, condition and allergen names (brand, generic, Chinese or lay terms) to knowledge-base entities, with their guideline, monitoring and indication facts. Unknown terms come back with entity null.',
      schema: KbLookupInput,
    }),
    tool(async (input) => toolJson((signal) => client.check(input, signal)), {
      name: 'kb_safety_check',
      description:
        'Run one drug-safety check (interaction, allergy, dose, contraindication, duplicate_therapy) over a medication list. Findings carry severity and the fact ids they rest on.',
      schema: SafetyCheckInput,
    }),
  ] as const;
}
