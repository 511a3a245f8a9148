/**
 * The reference the local literature index is checked against: the same PubMed query semantics
 * evaluated the plain way (scored nodes as Maps of PMID → score, filters as predicates over
 * records) with MiniSearch scoring each term. This was the service's own engine before the
 * typed-array index replaced it. Used by the equivalence test and by `bench:literature` as
 * the library baseline.
 */
import MiniSearch from 'minisearch';
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';
import { parsePubmedQuery, type QueryNode } from '../../src/tools/literature/query.js';
import { RANKINGS, type RankingName } from '../../services/literature/search-index.js';

type Scores = Map<string, number>;
type Test = (r: PubmedRecord) => boolean;
const FIELD_SETS: Record<string, string[]> = {
  ti: ['title'],
  ab: ['abstract'],
  mh: ['mesh'],
  tiab: ['title', 'abstract'],
  all: ['title', 'abstract', 'mesh'],
};

export class MiniSearchReference {
  private readonly mini = new MiniSearch<{ id: string; title: string; abstract: string; mesh: string }>({
    fields: ['title', 'abstract', 'mesh'],
    storeFields: [],
  });
  private readonly records: PubmedRecord[] = [];
  private readonly byId = new Map<string, PubmedRecord>();

  constructor(records: Iterable<PubmedRecord>) {
    const seen = new Set<string>();
    for (const r of records) {
      if (seen.has(r.pmid)) continue;
      seen.add(r.pmid);
      this.records.push(r);
      this.byId.set(r.pmid, r);
      this.mini.add({ id: r.pmid, title: r.title, abstract: r.abstract ?? '', mesh: r.mesh.join(' ; ') });
    }
  }

  search(
    query: string,
    opts: { retmax?: number; ranking?: RankingName } = {},
  ): { count: number; ids: string[]; scores: number[] } {
    const node = this.evaluate(parsePubmedQuery(query), opts.ranking ?? 'tuned');
    const all = node instanceof Map ? node : this.scan(node);
    const ranked = [...all].sort((a, b) => b[1] - a[1] || Number(b[0]) - Number(a[0])).slice(0, opts.retmax ?? 20);
    return { count: all.size, ids: ranked.map(([id]) => id), scores: ranked.map(([, s]) => s) };
  }

  private scan(test: Test): Scores {
    return new Map(this.records.filter(test).map((r) => [r.pmid, 0]));
  }

  /** A scored node is a Map of PMID → score; a filter (date, type, MeSH heading inside AND) is a predicate. */
  private evaluate(node: QueryNode, ranking: RankingName): Scores | Test {
    const { boost, bm25 } = RANKINGS[ranking];
    const lower = (s: string) => s.toLowerCase();
    switch (node.kind) {
      case 'range':
        return (r) => r.year !== null && r.year >= node.from && r.year <= node.to;
      case 'term':
        if (node.field === 'pt') return (r) => r.publicationTypes.map(lower).includes(lower(node.text));
        if (node.field === 'dp') throw new Error('unreachable');
        return new Map(
          this.mini
            .search(node.text, {
              fields: FIELD_SETS[node.field]!,
              combineWith: 'AND',
              prefix: false,
              fuzzy: false,
              boost: { ...boost },
              bm25,
            })
            .map((r) => [String(r.id), r.score]),
        );
      case 'and': {
        const parts = node.children.map((c) =>
          c.kind === 'term' && c.field === 'mh'
            ? (r: PubmedRecord) => r.mesh.map(lower).includes(lower(c.text))
            : this.evaluate(c, ranking),
        );
        const tests = parts.filter((p): p is Test => !(p instanceof Map));
        const maps = parts.filter((p): p is Scores => p instanceof Map);
        if (!maps.length) return (r) => tests.every((t) => t(r));
        const out: Scores = new Map();
        for (const [id, first] of maps[0]!) {
          let score = first;
          if (!maps.slice(1).every((m) => m.has(id) && ((score += m.get(id)!), true))) continue;
          if (tests.every((t) => t(this.byId.get(id)!))) out.set(id, score);
        }
        return out;
      }
      case 'or': {
        const parts = node.children.map((c) => this.evaluate(c, ranking));
        if (parts.every((p) => !(p instanceof Map))) return (r) => parts.some((t) => (t as Test)(r));
        const out: Scores = new Map();
        for (const p of parts)
          for (const [id, s] of p instanceof Map ? p : this.scan(p)) out.set(id, (out.get(id) ?? 0) + s);
        return out;
      }
      case 'not': {
        const left = this.evaluate(node.left, ranking);
        const right = this.evaluate(node.right, ranking);
        const excluded = (id: string) => (right instanceof Map ? right.has(id) : right(this.byId.get(id)!));
        if (!(left instanceof Map)) return (r) => left(r) && !excluded(r.pmid);
        return new Map([...left].filter(([id]) => !excluded(id)));
      }
    }
  }
}
