/** LangChain tool wrapper: `literature_search` returns JSON citations (real PMIDs only) or a coded error object. */
import { tool } from '@langchain/core/tools';
import { ToolError } from '../common.js';
import { LiteratureQuery, type LiteratureClient } from './schema.js';

export function literatureTool(client: LiteratureClient) {
  return tool(
    async (input) => {
      try {
        const { data, version } = await client.search(input, AbortSignal.timeout(30_000));
        return JSON.stringify({ status: 'ok', version, data });
      } catch (err) {
        const e = err instanceof ToolError ? err : new ToolError('INTERNAL', err instanceof Error ? err.message : String(err), false);
        return JSON.stringify({ status: 'error', code: e.code, message: e.message });
      }
    },
    {
      name: 'literature_search',
      description: 'Search PubMed (or the local PubMed-compatible corpus) for evidence. Give the intent and the concepts (main concept first). Returns citations with PMID, title, journal, year, publication types, MeSH and the matching snippet; guidelines, meta-analyses and RCTs first. Cite as pmid:<id>.',
      schema: LiteratureQuery,
    },
  );
}
