/**
 * The local literature index: BM25 over title, abstract and MeSH (`bm25.ts`, MiniSearch's
 * scoring on typed-array postings), with PubMed-style boolean queries and filters (MeSH heading,
 * publication type, publication year) evaluated on sorted document lists. Built once with a
 * progress bar and persisted next to a fingerprint of the corpus, so a restart loads instead of
 * rebuilding.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';
import { parsePubmedQuery, type QueryNode } from '../../src/tools/literature/query.js';
import {
  Bm25Builder,
  Bm25Index,
  difference,
  EMPTY,
  intersect,
  keep,
  union,
  type Bm25Params,
  type Postings,
} from './bm25.js';
import { corpusFiles, corpusFingerprint, readCorpus } from './corpus.js';
import type { LiteratureStore, StoreSearch } from './store.js';

/**
 * Ranking settings. `tuned` is what the service uses; `default` is MiniSearch's own BM25
 * defaults (every field weighted 1; k 1.2, b 0.7, d 0.5), for comparison.
 */
export const RANKINGS: Record<'tuned' | 'default', { boost: Readonly<Record<string, number>>; bm25: Bm25Params }> = {
  tuned: { boost: { title: 2, mesh: 1.5, abstract: 1 }, bm25: { k: 1.2, b: 0.75, d: 0.5 } },
  default: { boost: {}, bm25: { k: 1.2, b: 0.7, d: 0.5 } },
};
export type RankingName = keyof typeof RANKINGS;
type Ranking = (typeof RANKINGS)[RankingName];

const INDEX_VERSION = 2;
const FIELDS = ['title', 'abstract', 'mesh'] as const;
const fieldTexts = (r: PubmedRecord) => [r.title, r.abstract ?? '', r.mesh.join(' ; ')];

export type Progress = (done: number, total: number | null, phase: string) => void;

/** A progress bar on stderr, redrawn at most once per percent (or every 5,000 records). */
export function stderrProgress(label = 'literature'): Progress {
  let last = -1;
  return (done, total, phase) => {
    const step = total ? Math.floor((done / total) * 100) : Math.floor(done / 5000);
    if (step === last && done !== total) return;
    last = step;
    const bar = total
      ? `[${'#'.repeat(Math.round((done / total) * 30)).padEnd(30, '.')}] ${Math.floor((done / total) * 100)}%`
      : '';
    process.stderr.write(
      `\r[${label}] ${phase} ${done}${total ? `/${total}` : ''} ${bar}${total && done >= total ? '\n' : ''}`,
    );
  };
}

/** Names an index built from these corpus files (their names, sizes and times) by this index version. */
export function indexFingerprint(files: readonly string[]): string {
  return createHash('sha256')
    .update(`v${INDEX_VERSION}|${corpusFingerprint(files)}`)
    .digest('hex')
    .slice(0, 16);
}

/** Per-document labels (MeSH headings, publication types) as interned ids in one flat list. */
class Labels {
  private readonly ids = new Map<string, number>();
  private readonly offsets: number[] = [0];
  private readonly flat: number[] = [];
  add(labels: readonly string[]): void {
    for (const l of labels) {
      const key = l.toLowerCase();
      let id = this.ids.get(key);
      if (id === undefined) this.ids.set(key, (id = this.ids.size));
      this.flat.push(id);
    }
    this.offsets.push(this.flat.length);
  }
  /** A test for "document carries this label" (never true for a label no document carries). */
  has(label: string): (doc: number) => boolean {
    const id = this.ids.get(label.toLowerCase());
    if (id === undefined) return () => false;
    return (doc) => {
      for (let i = this.offsets[doc]!; i < this.offsets[doc + 1]!; i++) if (this.flat[i] === id) return true;
      return false;
    };
  }
}

type Evaluated = { kind: 'scored'; postings: Postings } | { kind: 'filter'; test: (doc: number) => boolean };

export class LiteratureIndex implements LiteratureStore {
  readonly backend = 'memory' as const;
  private readonly pmids: string[] = [];
  private readonly years: Int32Array;
  private readonly mesh = new Labels();
  private readonly types = new Labels();

  private constructor(
    private readonly bm25: Bm25Index,
    /** Records by PMID, in document order. */
    readonly records: ReadonlyMap<string, PubmedRecord>,
    readonly fingerprint: string,
  ) {
    this.years = new Int32Array(records.size);
    for (const r of records.values()) {
      this.years[this.pmids.length] = r.year ?? -1;
      this.pmids.push(r.pmid);
      this.mesh.add(r.mesh);
      this.types.add(r.publicationTypes);
    }
    if (bm25.docCount !== this.pmids.length)
      throw new Error(`index holds ${bm25.docCount} documents but ${this.pmids.length} records were given`);
  }

  get size(): number {
    return this.records.size;
  }

  /** The BM25 part, for persisting and benchmarks. */
  get bm25Index(): Bm25Index {
    return this.bm25;
  }

  /** An index over records already in memory (tests, evaluation, benchmarks). */
  static fromRecords(
    records: Iterable<PubmedRecord>,
    progress?: Progress,
    total: number | null = null,
  ): LiteratureIndex {
    const map = new Map<string, PubmedRecord>();
    const builder = new Bm25Builder(FIELDS);
    let n = 0;
    for (const r of records) {
      if (map.has(r.pmid)) continue; // a later baseline file may repeat a record; keep the first
      map.set(r.pmid, r);
      builder.add(fieldTexts(r));
      if (++n % 1000 === 0) progress?.(n, total, 'indexing');
    }
    progress?.(n, total ?? n, 'indexing');
    return new LiteratureIndex(builder.build(), map, 'in-memory');
  }

  /**
   * Open the index for a corpus: load it from `indexDir` when it was built from the same files,
   * otherwise build it (with progress) and persist it atomically.
   */
  static async open(
    corpus: string,
    indexDir: string,
    progress: Progress = () => undefined,
  ): Promise<{ index: LiteratureIndex; loaded: boolean }> {
    const files = corpusFiles(corpus);
    const fingerprint = indexFingerprint(files);
    const indexFile = path.join(indexDir, `literature-${fingerprint}.bm25`);
    const recordsFile = path.join(indexDir, `literature-${fingerprint}.records.jsonl`);
    if (existsSync(indexFile) && existsSync(recordsFile)) {
      progress(0, null, 'loading persisted index');
      const records = new Map<string, PubmedRecord>();
      for (const line of readFileSync(recordsFile, 'utf8').split('\n')) {
        if (!line) continue;
        const r = JSON.parse(line) as PubmedRecord;
        records.set(r.pmid, r);
      }
      return {
        index: new LiteratureIndex(Bm25Index.deserialize(readFileSync(indexFile)), records, fingerprint),
        loaded: true,
      };
    }
    const all: PubmedRecord[] = [];
    for await (const r of readCorpus(files, (f, i) => progress(i, files.length, `reading ${path.basename(f)}`)))
      all.push(r);
    const built = LiteratureIndex.fromRecords(all, progress, all.length);
    mkdirSync(indexDir, { recursive: true });
    const write = (file: string, data: string | Buffer) => {
      writeFileSync(`${file}.${process.pid}.tmp`, data);
      renameSync(`${file}.${process.pid}.tmp`, file);
    };
    write(recordsFile, [...built.records.values()].map((r) => JSON.stringify(r)).join('\n') + '\n');
    write(indexFile, built.bm25.serialize());
    return { index: new LiteratureIndex(built.bm25, built.records, fingerprint), loaded: false };
  }

  /**
   * Evaluate a PubMed-style query: PMIDs by descending relevance (ties: newest PMID first) with
   * their BM25 scores (0 for documents matched by filters only), and the total count.
   */
  search(
    query: string,
    opts: { retstart?: number; retmax?: number; ranking?: RankingName } = {},
  ): { count: number; ids: string[]; scores: number[] } {
    const evaluated = this.evaluate(parsePubmedQuery(query), RANKINGS[opts.ranking ?? 'tuned']);
    const hits = evaluated.kind === 'scored' ? evaluated.postings : this.scan(evaluated.test);
    const start = opts.retstart ?? 0;
    const page = this.top(hits, start + (opts.retmax ?? 20)).slice(start);
    return {
      count: hits.docs.length,
      ids: page.map((i) => this.pmids[hits.docs[i]!]!),
      scores: page.map((i) => hits.scores[i]!),
    };
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async so a query syntax error rejects
  async find(query: string, opts: { retstart?: number; retmax?: number } = {}): Promise<StoreSearch> {
    return this.search(query, opts);
  }

  fetch(pmids: readonly string[]): Promise<PubmedRecord[]> {
    return Promise.resolve(pmids.map((id) => this.records.get(id)).filter((r): r is PubmedRecord => r !== undefined));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Positions of the best `k` hits, ordered; only the candidates at or above the k-th best score are sorted with a comparator. */
  private top({ docs, scores }: Postings, k: number): number[] {
    if (!docs.length || k <= 0) return [];
    let threshold = -Infinity;
    if (docs.length > k) {
      const sorted = Float64Array.from(scores).sort();
      threshold = sorted[sorted.length - k]!;
    }
    const candidates: number[] = [];
    for (let i = 0; i < docs.length; i++) if (scores[i]! >= threshold) candidates.push(i);
    const pmidNumber = (i: number) => Number(this.pmids[docs[i]!]);
    candidates.sort((a, b) => scores[b]! - scores[a]! || pmidNumber(b) - pmidNumber(a));
    return candidates.slice(0, k);
  }

  private scan(test: (doc: number) => boolean): Postings {
    const all = new Int32Array(this.pmids.length);
    for (let d = 0; d < all.length; d++) all[d] = d;
    return keep({ docs: all, scores: new Float64Array(all.length) }, test);
  }

  private evaluate(node: QueryNode, ranking: Ranking): Evaluated {
    switch (node.kind) {
      case 'range':
        return { kind: 'filter', test: (d) => this.years[d]! >= node.from && this.years[d]! <= node.to };
      case 'term': {
        if (node.field === 'pt') return { kind: 'filter', test: this.types.has(node.text) };
        const fields =
          node.field === 'ti'
            ? ['title']
            : node.field === 'ab'
              ? ['abstract']
              : node.field === 'mh'
                ? ['mesh']
                : node.field === 'tiab'
                  ? ['title', 'abstract']
                  : [...FIELDS];
        return { kind: 'scored', postings: this.bm25.search(node.text, fields, ranking.boost, ranking.bm25) };
      }
      case 'and': {
        // A MeSH term that must hold (e.g. humans[mh]) filters candidates instead of scoring every tagged record.
        const parts = node.children.map((c): Evaluated =>
          c.kind === 'term' && c.field === 'mh'
            ? { kind: 'filter', test: this.mesh.has(c.text) }
            : this.evaluate(c, ranking),
        );
        const tests = parts.flatMap((p) => (p.kind === 'filter' ? [p.test] : []));
        const sets = parts.flatMap((p) => (p.kind === 'scored' ? [p.postings] : []));
        if (!sets.length) return { kind: 'filter', test: (d) => tests.every((t) => t(d)) };
        let acc = sets.reduce((a, b) => intersect(a, b));
        if (tests.length) acc = keep(acc, (d) => tests.every((t) => t(d)));
        return { kind: 'scored', postings: acc };
      }
      case 'or': {
        const parts = node.children.map((c) => this.evaluate(c, ranking));
        if (parts.every((p) => p.kind === 'filter'))
          return { kind: 'filter', test: (d) => parts.some((p) => (p as { test: (d: number) => boolean }).test(d)) };
        return {
          kind: 'scored',
          postings: parts.reduce(
            (acc: Postings, p) => union(acc, p.kind === 'scored' ? p.postings : this.scan(p.test)),
            EMPTY,
          ),
        };
      }
      case 'not': {
        const left = this.evaluate(node.left, ranking);
        const right = this.evaluate(node.right, ranking);
        if (right.kind === 'filter') {
          const excluded = right.test;
          return left.kind === 'filter'
            ? { kind: 'filter', test: (d) => left.test(d) && !excluded(d) }
            : { kind: 'scored', postings: keep(left.postings, (d) => !excluded(d)) };
        }
        return {
          kind: 'scored',
          postings: difference(left.kind === 'scored' ? left.postings : this.scan(left.test), right.postings),
        };
      }
    }
  }
}
