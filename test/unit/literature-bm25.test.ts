/**
 * The local literature index against its reference: the same queries through LiteratureIndex
 * (typed-array BM25, sorted-list boolean evaluation) and through MiniSearch with plain Map
 * evaluation must give the same PMIDs in the same order with the same scores. Documents are
 * generated (not real records) plus a few hand-written edge cases.
 */
import { describe, expect, it } from 'vitest';
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';
import { buildPubmedQuery } from '../../src/tools/literature/query.js';
import { Bm25Builder, Bm25Index, difference, intersect, union, type Postings } from '../../services/literature/bm25.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { generateAbstracts, generateQueryTerms, seededRandom } from '../helpers/generated-abstracts.js';
import { MiniSearchReference } from '../helpers/minisearch-reference.js';

const edge = (
  pmid: string,
  title: string,
  abstract: string | null,
  mesh: string[] = [],
  year: number | null = 2020,
  types: string[] = ['Journal Article'],
): PubmedRecord => ({
  pmid,
  title,
  abstract,
  journal: 'Generated Journal',
  year,
  authors: [],
  publicationTypes: types,
  mesh,
});

const EDGE_CASES = [
  edge(
    '990000901',
    'GENERATED Metformin, METFORMIN and metformin: case variants',
    'Repeated metformin metformin metformin (in brackets) — with dashes… and “quotes”.',
    ['Metformin', 'Humans'],
  ),
  edge('990000902', 'GENERATED empty abstract', null, ['Humans']),
  edge(
    '990000903',
    '(GENERATED) leading punctuation',
    'Warfarin; ibuprofen: bleeding!',
    ['Warfarin', 'Anti-Inflammatory Agents, Non-Steroidal'],
    null,
  ),
  edge(
    '990000904',
    'GENERATED 二甲双胍 metformin 慢性肾病',
    'Unicode text: naïve café, Ωmega, metformin+kidney',
    ['Metformin'],
    2001,
    ['Meta-Analysis', 'Review'],
  ),
  edge(
    '990000905',
    'GENERATED kidney kidney',
    'chronic kidney disease and metformin dose',
    ['Renal Insufficiency, Chronic', 'Humans'],
    2024,
    ['Practice Guideline'],
  ),
];

const records = [...generateAbstracts(3000, seededRandom(3)), ...EDGE_CASES];
const index = LiteratureIndex.fromRecords(records);
const reference = new MiniSearchReference(records);
const now = new Date('2026-11-25T00:00:00Z');

const HAND_WRITTEN = [
  'metformin',
  'metformin[tiab]',
  'metformin[ti]',
  'metformin[ab]',
  'metformin[mh]',
  'Metformin[all]',
  '"chronic kidney disease"[tiab]',
  'kidney kidney[tiab]',
  'metformin NOT kidney',
  'warfarin OR ibuprofen OR bleeding',
  '(warfarin OR metformin) AND humans[mh]',
  'humans[mh]',
  'humans[mh] NOT "2020"[dp]',
  '"Meta-Analysis"[pt]',
  '"Practice Guideline"[pt] AND kidney[tiab]',
  'metformin[tiab] AND ("2000"[dp] : "2010"[dp])',
  'unobtainium[tiab]',
  'metformin AND unobtainium',
  '二甲双胍',
  'naïve[tiab]',
  'café',
  'ωmega',
  'metformin+kidney',
  'warfarin OR unobtainium',
  '(stroke OR bleeding) NOT (humans[mh] OR "Review"[pt])',
  'renal[mh] OR chronic[mh]',
  '"2024"[dp]',
];

describe('local literature index', () => {
  it('ranks and scores exactly as the MiniSearch reference, for both rankings', () => {
    const graphQueries = generateQueryTerms(60, seededRandom(11)).map((terms, i) =>
      buildPubmedQuery(
        {
          intent: 'test',
          terms,
          sinceYears: i % 3 === 0 ? null : 10 + i,
          humansOnly: i % 4 !== 0,
          publicationTypes: i % 5 === 0 ? ['Randomized Controlled Trial', 'Meta-Analysis'] : [],
        },
        now,
      ),
    );
    let compared = 0;
    for (const query of [...HAND_WRITTEN, ...graphQueries]) {
      for (const ranking of ['tuned', 'default'] as const) {
        const want = reference.search(query, { retmax: 25, ranking });
        const got = index.search(query, { retmax: 25, ranking });
        expect({ query, ranking, ...got }).toEqual({ query, ranking, ...want });
        compared += want.ids.length;
      }
    }
    // The comparison is not vacuous: most queries find documents.
    expect(compared).toBeGreaterThan(1000);
  });

  it('pages with retstart/retmax over the same order', () => {
    const all = index.search('kidney OR metformin', { retmax: 200 });
    expect(all.count).toBeGreaterThan(200);
    const page = index.search('kidney OR metformin', { retstart: 50, retmax: 30 });
    expect(page).toEqual({ count: all.count, ids: all.ids.slice(50, 80), scores: all.scores.slice(50, 80) });
    expect(index.search('kidney OR metformin', { retstart: all.count + 5 }).ids).toEqual([]);
  });

  it('gives identical scores after serialising and loading the index', () => {
    const b = new Bm25Builder(['title', 'abstract']);
    for (const r of records.slice(0, 500)) b.add([r.title, r.abstract ?? '']);
    const built = b.build();
    const loaded = Bm25Index.deserialize(built.serialize());
    expect(loaded.docCount).toBe(500);
    expect(loaded.terms).toBe(built.terms);
    for (const q of ['metformin', 'kidney disease', 'generated', 'w1 w2']) {
      const x = built.search(q, ['title', 'abstract'], { title: 2 }, { k: 1.2, b: 0.75, d: 0.5 });
      const y = loaded.search(q, ['title', 'abstract'], { title: 2 }, { k: 1.2, b: 0.75, d: 0.5 });
      expect([...y.docs]).toEqual([...x.docs]);
      expect([...y.scores]).toEqual([...x.scores]);
    }
    expect(() => Bm25Index.deserialize(Buffer.from('not an index'))).toThrow(/bad magic/);
    expect(() => Bm25Index.deserialize(built.serialize().subarray(0, 200))).toThrow(/truncated|JSON|offset/i);
  });

  it('set operations agree with plain Set arithmetic on random lists', () => {
    const rand = seededRandom(5);
    const list = (n: number, max: number): Postings => {
      const docs = [...new Set(Array.from({ length: n }, () => Math.floor(rand() * max)))].sort((a, b) => a - b);
      return { docs: Int32Array.from(docs), scores: Float64Array.from(docs, (d) => d / 7) };
    };
    for (let i = 0; i < 50; i++) {
      const a = list(Math.floor(rand() * 300), 1000);
      const b = list(Math.floor(rand() * 30), 1000);
      const inB = new Set(b.docs);
      const inA = new Set(a.docs);
      expect([...intersect(a, b).docs]).toEqual([...a.docs].filter((d) => inB.has(d)));
      expect([...intersect(b, a).scores]).toEqual([...a.docs].filter((d) => inB.has(d)).map((d) => (d / 7) * 2));
      expect([...union(a, b).docs]).toEqual([...new Set([...a.docs, ...b.docs])].sort((x, y) => x - y));
      expect([...difference(a, b).docs]).toEqual([...a.docs].filter((d) => !inB.has(d)));
      expect([...difference(b, a).docs]).toEqual([...b.docs].filter((d) => !inA.has(d)));
    }
  });
});
