/**
 * Retrieval evaluation on a question set with gold PMIDs (PubMedQA's `ori_pqal.json` format:
 * `{ "<pmid>": { "QUESTION": "...", "CONTEXTS": ["..."], "MESHES": ["..."], "YEAR": "2015" } }`).
 * Every context becomes one document; each question is searched and the rank of its own PMID
 * is recorded: recall@1, @5, @10 and MRR, for a ranking setting.
 */
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';
import { LiteratureIndex, type RankingName } from './search-index.js';

export interface QaItem {
  pmid: string;
  question: string;
  contexts: string[];
  mesh: string[];
  year: number | null;
}

export function parsePubmedQa(json: unknown): QaItem[] {
  if (!json || typeof json !== 'object') throw new Error('expected an object keyed by PMID');
  return Object.entries(json as Record<string, Record<string, unknown>>).map(([pmid, v]) => ({
    pmid,
    question: typeof v.QUESTION === 'string' ? v.QUESTION : '',
    contexts: Array.isArray(v.CONTEXTS) ? v.CONTEXTS.map(String) : [],
    mesh: Array.isArray(v.MESHES) ? v.MESHES.map(String) : [],
    year: Number(v.YEAR) || null,
  }));
}

const STOP = new Set(
  'a an and are as at be by can do does for from has have in is it of on or the to was were what when which who why with without whether than that this these those there their not no'.split(
    ' ',
  ),
);

/** A natural-language question as an OR of its content words over title/abstract. */
export function questionQuery(question: string): string {
  const words = [
    ...new Set(
      question
        .toLowerCase()
        .split(/[^\p{L}\p{N}-]+/u)
        .filter((w) => w.length > 2 && !STOP.has(w)),
    ),
  ];
  return words.length ? words.map((w) => `"${w}"[tiab]`).join(' OR ') : '"none"[tiab]';
}

/** One document per question: its contexts as the abstract, under its own PMID. */
export function qaIndex(items: readonly QaItem[]): LiteratureIndex {
  return LiteratureIndex.fromRecords(
    items.map((q): PubmedRecord => ({
      pmid: q.pmid,
      title: '',
      abstract: q.contexts.join(' '),
      journal: '',
      year: q.year,
      authors: [],
      publicationTypes: [],
      mesh: q.mesh,
    })),
  );
}

export function evaluateRetrieval(
  items: readonly QaItem[],
  ranking: RankingName,
  index: LiteratureIndex = qaIndex(items),
) {
  let r1 = 0;
  let r5 = 0;
  let r10 = 0;
  let mrr = 0;
  for (const q of items) {
    const { ids } = index.search(questionQuery(q.question), { retmax: 10, ranking });
    const rank = ids.indexOf(q.pmid) + 1;
    if (rank === 1) r1++;
    if (rank >= 1 && rank <= 5) r5++;
    if (rank >= 1) r10++;
    if (rank >= 1) mrr += 1 / rank;
  }
  const n = items.length || 1;
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  return {
    ranking,
    questions: items.length,
    recallAt1: round(r1 / n),
    recallAt5: round(r5 / n),
    recallAt10: round(r10 / n),
    mrr: round(mrr / n),
  };
}
