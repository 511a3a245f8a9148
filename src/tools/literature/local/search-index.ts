/**
 * The local literature index: BM25 (MiniSearch) over title, abstract and MeSH, with PubMed-style
 * boolean queries and filters (publication type, publication year). Built once with a progress
 * bar and persisted next to a fingerprint of the corpus, so a restart loads instead of
 * rebuilding.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import MiniSearch, { type Options, type SearchOptions } from 'minisearch';
import type { PubmedRecord } from '../pubmed-xml.js';
import { parsePubmedQuery, type QueryNode } from '../query.js';
import { corpusFiles, corpusFingerprint, readCorpus } from './corpus.js';

interface Doc {
  id: string;
  title: string;
  abstract: string;
  mesh: string;
}

/** Ranking settings. `tuned` is what the service uses; `default` is MiniSearch's own BM25, for comparison. */
export const RANKINGS = {
  tuned: { boost: { title: 2, mesh: 1.5, abstract: 1 }, bm25: { k: 1.2, b: 0.75, d: 0.5 } },
  default: { boost: {}, bm25: undefined },
} as const;
export type RankingName = keyof typeof RANKINGS;

const INDEX_VERSION = 1;
const FIELDS = ['title', 'abstract', 'mesh'] as const;
const options: Options<Doc> = { fields: [...FIELDS], storeFields: [], idField: 'id' };
const toDoc = (r: PubmedRecord): Doc => ({ id: r.pmid, title: r.title, abstract: r.abstract ?? '', mesh: r.mesh.join(' ; ') });

export type Progress = (done: number, total: number | null, phase: string) => void;

/** A progress bar on stderr, redrawn at most once per percent (or every 5,000 records). */
export function stderrProgress(label = 'literature'): Progress {
  let last = -1;
  return (done, total, phase) => {
    const step = total ? Math.floor((done / total) * 100) : Math.floor(done / 5000);
    if (step === last && done !== total) return;
    last = step;
    const bar = total ? `[${'#'.repeat(Math.round((done / total) * 30)).padEnd(30, '.')}] ${Math.floor((done / total) * 100)}%` : '';
    process.stderr.write(`\r[${label}] ${phase} ${done}${total ? `/${total}` : ''} ${bar}${total && done >= total ? '\n' : ''}`);
  };
}

const meshTest = (text: string) => {
  const want = text.toLowerCase();
  return (r: PubmedRecord) => r.mesh.some((m) => m.toLowerCase() === want);
};

export class LiteratureIndex {
  private constructor(
    private readonly mini: MiniSearch<Doc>,
    readonly records: ReadonlyMap<string, PubmedRecord>,
    readonly fingerprint: string,
  ) {}

  get size(): number {
    return this.records.size;
  }

  /** An index over records already in memory (tests, evaluation, benchmarks). */
  static fromRecords(records: Iterable<PubmedRecord>, progress?: Progress, total: number | null = null): LiteratureIndex {
    const map = new Map<string, PubmedRecord>();
    const mini = new MiniSearch<Doc>(options);
    let n = 0;
    for (const r of records) {
      if (map.has(r.pmid)) continue; // a later baseline file may repeat a record; keep the first
      map.set(r.pmid, r);
      mini.add(toDoc(r));
      if (++n % 1000 === 0) progress?.(n, total, 'indexing');
    }
    progress?.(n, total ?? n, 'indexing');
    return new LiteratureIndex(mini, map, 'in-memory');
  }

  /**
   * Open the index for a corpus: load it from `indexDir` when it was built from the same files,
   * otherwise build it (with progress) and persist it atomically.
   */
  static async open(corpus: string, indexDir: string, progress: Progress = () => undefined): Promise<{ index: LiteratureIndex; loaded: boolean }> {
    const files = corpusFiles(corpus);
    const fingerprint = createHash('sha256').update(`v${INDEX_VERSION}|${corpusFingerprint(files)}`).digest('hex').slice(0, 16);
    const indexFile = path.join(indexDir, `literature-${fingerprint}.index.json`);
    const recordsFile = path.join(indexDir, `literature-${fingerprint}.records.jsonl`);
    if (existsSync(indexFile) && existsSync(recordsFile)) {
      progress(0, null, 'loading persisted index');
      const records = new Map<string, PubmedRecord>();
      for (const line of readFileSync(recordsFile, 'utf8').split('\n')) {
        if (!line) continue;
        const r = JSON.parse(line) as PubmedRecord;
        records.set(r.pmid, r);
      }
      const mini = await MiniSearch.loadJSONAsync<Doc>(readFileSync(indexFile, 'utf8'), options);
      return { index: new LiteratureIndex(mini, records, fingerprint), loaded: true };
    }
    const all: PubmedRecord[] = [];
    for await (const r of readCorpus(files, (f, i) => progress(i, files.length, `reading ${path.basename(f)}`))) all.push(r);
    const built = LiteratureIndex.fromRecords(all, progress, all.length);
    mkdirSync(indexDir, { recursive: true });
    const tmp = `${indexFile}.${process.pid}.tmp`;
    writeFileSync(`${recordsFile}.${process.pid}.tmp`, [...built.records.values()].map((r) => JSON.stringify(r)).join('\n') + '\n');
    renameSync(`${recordsFile}.${process.pid}.tmp`, recordsFile);
    writeFileSync(tmp, JSON.stringify(built.mini));
    renameSync(tmp, indexFile);
    return { index: new LiteratureIndex(built.mini, built.records, fingerprint), loaded: false };
  }

  /** Evaluate a PubMed-style query; ids by descending relevance, with the total count. */
  search(query: string, opts: { retstart?: number; retmax?: number; ranking?: RankingName } = {}): { count: number; ids: string[] } {
    const tree = parsePubmedQuery(query);
    const ranking = RANKINGS[opts.ranking ?? 'tuned'];
    const scored = this.evaluate(tree, ranking);
    const set = scored.kind === 'scored' ? scored.scores : this.scan(scored.test);
    const ids = [...set.entries()].sort((a, b) => b[1] - a[1] || Number(b[0]) - Number(a[0])).map(([id]) => id);
    const start = opts.retstart ?? 0;
    return { count: ids.length, ids: ids.slice(start, start + (opts.retmax ?? 20)) };
  }

  private leaf(text: string, fields: readonly string[], ranking: (typeof RANKINGS)[RankingName]): Map<string, number> {
    const o: SearchOptions = { fields: [...fields], combineWith: 'AND', prefix: false, fuzzy: false, boost: { ...ranking.boost }, ...(ranking.bm25 ? { bm25: ranking.bm25 } : {}) };
    return new Map(this.mini.search(text, o).map((r) => [String(r.id), r.score]));
  }

  private scan(test: (r: PubmedRecord) => boolean): Map<string, number> {
    const out = new Map<string, number>();
    for (const [id, r] of this.records) if (test(r)) out.set(id, 0);
    return out;
  }

  private evaluate(node: QueryNode, ranking: (typeof RANKINGS)[RankingName]): { kind: 'scored'; scores: Map<string, number> } | { kind: 'filter'; test: (r: PubmedRecord) => boolean } {
    switch (node.kind) {
      case 'range':
        return { kind: 'filter', test: (r) => r.year !== null && r.year >= node.from && r.year <= node.to };
      case 'term': {
        if (node.field === 'pt') {
          const want = node.text.toLowerCase();
          return { kind: 'filter', test: (r) => r.publicationTypes.some((p) => p.toLowerCase() === want) };
        }
        const fields = node.field === 'ti' ? ['title'] : node.field === 'ab' ? ['abstract'] : node.field === 'mh' ? ['mesh'] : node.field === 'tiab' ? ['title', 'abstract'] : [...FIELDS];
        return { kind: 'scored', scores: this.leaf(node.text, fields, ranking) };
      }
      case 'and': {
        // A MeSH term that must hold (e.g. humans[mh]) filters candidates instead of scoring every tagged record.
        const parts = node.children.map((c) => (c.kind === 'term' && c.field === 'mh' ? { kind: 'filter' as const, test: meshTest(c.text) } : this.evaluate(c, ranking)));
        const tests = parts.flatMap((p) => (p.kind === 'filter' ? [p.test] : []));
        const sets = parts.flatMap((p) => (p.kind === 'scored' ? [p.scores] : []));
        if (!sets.length) return { kind: 'filter', test: (r) => tests.every((t) => t(r)) };
        sets.sort((a, b) => a.size - b.size);
        const out = new Map<string, number>();
        for (const [id, score] of sets[0]!) {
          let total = score;
          let keep = true;
          for (const s of sets.slice(1)) {
            const v = s.get(id);
            if (v === undefined) {
              keep = false;
              break;
            }
            total += v;
          }
          if (keep && tests.every((t) => t(this.records.get(id)!))) out.set(id, total);
        }
        return { kind: 'scored', scores: out };
      }
      case 'or': {
        const parts = node.children.map((c) => this.evaluate(c, ranking));
        if (parts.every((p) => p.kind === 'filter')) return { kind: 'filter', test: (r) => parts.some((p) => (p as { test: (r: PubmedRecord) => boolean }).test(r)) };
        const out = new Map<string, number>();
        for (const p of parts) for (const [id, v] of p.kind === 'scored' ? p.scores : this.scan(p.test)) out.set(id, (out.get(id) ?? 0) + v);
        return { kind: 'scored', scores: out };
      }
      case 'not': {
        const left = this.evaluate(node.left, ranking);
        const right = this.evaluate(node.right, ranking);
        const excluded = (id: string) => (right.kind === 'scored' ? right.scores.has(id) : right.test(this.records.get(id)!));
        if (left.kind === 'filter') return { kind: 'filter', test: (r) => left.test(r) && !excluded(r.pmid) };
        return { kind: 'scored', scores: new Map([...left.scores].filter(([id]) => !excluded(id))) };
      }
    }
  }
}
