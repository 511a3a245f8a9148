/**
 * `npm run bench:literature`: the local literature index on generated abstracts (not real
 * records; test/helpers/generated-abstracts.ts).
 *
 * - Index build time and memory for BENCH_LIT_DOCS documents (default 200,000) of abstract
 *   size, persisted-index save and load time, and query latency p50/p99 for the queries the
 *   graph sends (two tagged concepts, humans, date range) through LiteratureIndex.search.
 *   Targets: build under 60 s, query p99 under 20 ms.
 * - Baselines in the same run, on the first BENCH_LIT_BASELINE_DOCS documents (default 50,000):
 *   the same queries through MiniSearch (test/helpers/minisearch-reference.ts, identical
 *   rankings) against this index on the same documents, and a plain scan with no index.
 *
 * JSON on stdout, progress on stderr. Run with `node --expose-gc` (the npm script does) for
 * steadier memory figures.
 */
import os from 'node:os';
import { buildPubmedQuery } from '../src/tools/literature/query.js';
import { Bm25Index } from '../services/literature/bm25.js';
import { LiteratureIndex, stderrProgress } from '../services/literature/search-index.js';
import { generateAbstracts, generateQueryTerms } from '../test/helpers/generated-abstracts.js';
import { MiniSearchReference } from '../test/helpers/minisearch-reference.js';
import { settledMemory } from './common.js';

const DOCS = Number(process.env.BENCH_LIT_DOCS ?? 200_000);
const BASELINE_DOCS = Math.min(DOCS, Number(process.env.BENCH_LIT_BASELINE_DOCS ?? 50_000));
const QUERIES = Number(process.env.BENCH_LIT_QUERIES ?? 500);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 1000) / 1000;
};
const round1 = (x: number) => Math.round(x * 10) / 10;
const memory = async () => {
  const m = await settledMemory();
  return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
};
const mb = (bytes: number) => Math.round(bytes / 1e6);

const now = new Date('2026-11-25T00:00:00Z');
const queries = generateQueryTerms(QUERIES).map((terms) => ({
  terms,
  query: buildPubmedQuery({ intent: 'bench', terms }, now),
}));

function timeQueries(search: (q: string) => { ids: string[] }, n = queries.length) {
  for (const q of queries.slice(0, 20)) search(q.query); // warm-up
  const times: number[] = [];
  let hits = 0;
  for (const q of queries.slice(0, n)) {
    const s = performance.now();
    hits += search(q.query).ids.length;
    times.push(performance.now() - s);
  }
  return { queries: times.length, p50ms: pct(times, 50), p99ms: pct(times, 99), meanHits: round1(hits / times.length) };
}

function timed<T>(fn: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: Math.round(performance.now() - t0) };
}

async function main() {
  const progress = stderrProgress('bench:literature');
  // The full-size index.
  const before = await memory();
  const built = timed(() => LiteratureIndex.fromRecords(generateAbstracts(DOCS), progress, DOCS));
  const after = await memory();
  const index = built.value;
  const saved = timed(() => index.bm25Index.serialize());
  const loaded = timed(() => Bm25Index.deserialize(saved.value));
  const query = timeQueries((q) => index.search(q, { retmax: 20 }));
  process.stderr.write(`[bench:literature] ${DOCS} documents: build ${built.ms} ms, query p99 ${query.p99ms} ms\n`);

  // Same-run baselines on the first BASELINE_DOCS documents.
  const small = timed(() => LiteratureIndex.fromRecords(generateAbstracts(BASELINE_DOCS)));
  const smallQuery = timeQueries((q) => small.value.search(q, { retmax: 20 }));
  const beforeMini = await memory();
  const mini = timed(() => new MiniSearchReference(generateAbstracts(BASELINE_DOCS)));
  const afterMini = await memory();
  const miniQuery = timeQueries((q) => mini.value.search(q, { retmax: 20 }), Math.min(200, queries.length));
  process.stderr.write(
    `[bench:literature] MiniSearch baseline on ${BASELINE_DOCS}: build ${mini.ms} ms, query p99 ${miniQuery.p99ms} ms\n`,
  );
  const docs = [...small.value.records.values()].map((r) => `${r.title} ${r.abstract ?? ''}`.toLowerCase());
  const scan: number[] = [];
  for (const q of queries.slice(0, 50)) {
    const words = q.terms.join(' ').split(' ');
    const s = performance.now();
    let n = 0;
    for (const d of docs) if (words.every((w) => d.includes(w))) n++;
    scan.push(performance.now() - s);
    if (n < 0) throw new Error('unreachable');
  }

  const result = {
    benchmark: 'literature-index',
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    note: "generated abstract-sized documents (title 11 words, abstract 160 words), not real records; queries of the graph's shape",
    index: {
      documents: DOCS,
      terms: index.bm25Index.terms,
      build: { ms: built.ms, docsPerSecond: Math.round(DOCS / (built.ms / 1000)), targetUnder60s: built.ms < 60_000 },
      memoryMb: {
        heap: mb(after.heap - before.heap),
        typedArrays: mb(after.buffers - before.buffers),
        rssAfter: mb(after.rss),
        includesRecords: true,
      },
      persisted: { bytes: saved.value.length, saveMs: saved.ms, loadMs: loaded.ms },
      query: { ...query, targetP99Under20ms: query.p99ms < 20 },
    },
    baseline: {
      documents: BASELINE_DOCS,
      thisIndex: { buildMs: small.ms, query: smallQuery },
      miniSearch: { buildMs: mini.ms, heapMb: mb(afterMini.heap - beforeMini.heap), query: miniQuery },
      plainScan: { queries: scan.length, p50ms: pct(scan, 50), p99ms: pct(scan, 99) },
      ratios: {
        buildMiniSearchOverThis: round1(mini.ms / small.ms),
        queryP50MiniSearchOverThis: round1(miniQuery.p50ms / smallQuery.p50ms),
        queryP99MiniSearchOverThis: round1(miniQuery.p99ms / smallQuery.p99ms),
        queryP50ScanOverThis: round1(pct(scan, 50) / smallQuery.p50ms),
      },
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
