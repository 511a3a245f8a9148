/** LangChain tool wrapper: `literature_search` returns JSON citations (real PMIDs only) or a coded error object. */
import { tool } from '@langchain/core/tools';
import { toolJson } from '../common.js';
import { LiteratureQuery, type LiteratureClient } from './schema.js';

export function literatureTool(client: LiteratureClient) {
  return tool(async (input) => toolJson((signal) => client.search(input, signal), AbortSignal.timeout(30_000)), {
    name: 'literature_search',
    description:
      'Search PubMed (or the local PubMed-compatible corpus) for evidence. Give the intent and the concepts (main concept first). Returns citations with PMID, title, journal, year, publication types, MeSH and the matching snippet; guidelines, meta-analyses and RCTs first. Cite as pmid:<id>.',
    schema: LiteratureQuery,
  });
}
