/**
 * `npm run bench:literature`: the local literature index on generated abstracts (not real
 * records). Index build time and memory for BENCH_LIT_DOCS documents (default 200,000) of
 * abstract size, and query latency p50/p99 for the queries the graph sends (tagged concepts,
 * humans, date range), through LiteratureIndex.search. Targets: build under 60 s, query p99
 * under 20 ms. The baseline in the same run is a plain scan over the same documents (substring
 * match of every query word), i.e. what the service would cost without an inverted index.
 * JSON on stdout, progress on stderr.
 */
import os from 'node:os';
import type { PubmedRecord } from '../src/tools/literature/pubmed-xml.js';
import { buildPubmedQuery } from '../src/tools/literature/query.js';
import { LiteratureIndex, stderrProgress } from '../src/tools/literature/local/search-index.js';

const DOCS = Number(process.env.BENCH_LIT_DOCS ?? 200_000);
const QUERIES = Number(process.env.BENCH_LIT_QUERIES ?? 500);

// A deterministic generator: clinical-sounding vocabulary, Zipf-like word frequencies.
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const VOCAB = [
  'metformin', 'warfarin', 'kidney', 'chronic', 'disease', 'diabetes', 'heart', 'failure', 'hypertension', 'pneumonia', 'amoxicillin', 'penicillin', 'allergy', 'bleeding',
  'anticoagulant', 'nsaid', 'ibuprofen', 'gout', 'allopurinol', 'statin', 'atrial', 'fibrillation', 'stroke', 'dose', 'renal', 'impairment', 'elderly', 'trial', 'cohort',
  'outcome', 'mortality', 'risk', 'safety', 'efficacy', 'patients', 'treatment', 'therapy', 'guideline', 'randomized', 'placebo', 'adverse', 'events', 'hospital', 'admission',
];
const FILLER = Array.from({ length: 30_000 }, (_, i) => `w${i.toString(36)}`);
// Clinical words are rare, as in real abstracts: each appears in a few per cent of documents.
const word = () => (rand() < 0.02 ? VOCAB[Math.floor(rand() * VOCAB.length)]! : FILLER[Math.floor(rand() ** 3 * FILLER.length)]!);
const sentence = (n: number) => Array.from({ length: n }, word).join(' ');
const TYPES = ['Journal Article', 'Randomized Controlled Trial', 'Meta-Analysis', 'Practice Guideline', 'Review', 'Observational Study'];

function* generate(n: number): Generator<PubmedRecord> {
  for (let i = 0; i < n; i++) {
    yield {
      pmid: String(900_000_000 + i),
      title: `GENERATED ${sentence(10)}`,
      abstract: Array.from({ length: 8 }, () => `${sentence(20)}.`).join(' '),
      journal: 'Generated Journal',
      year: 1990 + Math.floor(rand() * 36),
      authors: ['Generated A'],
      publicationTypes: [TYPES[Math.floor(rand() * TYPES.length)]!],
      mesh: rand() < 0.8 ? ['Humans', VOCAB[Math.floor(rand() * VOCAB.length)]!] : ['Animals'],
    };
  }
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 1000) / 1000;
};

function main() {
  const progress = stderrProgress('bench:literature');
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const index = LiteratureIndex.fromRecords(generate(DOCS), progress, DOCS);
  const buildMs = performance.now() - t0;
  global.gc?.();
  const mem = process.memoryUsage();
  const now = new Date('2026-11-25T00:00:00Z');
  const queries = Array.from({ length: QUERIES }, () => {
    const a = VOCAB[Math.floor(rand() * VOCAB.length)]!;
    const b = VOCAB[Math.floor(rand() * VOCAB.length)]!;
    const c = VOCAB[Math.floor(rand() * VOCAB.length)]!;
    return { terms: [`${a} ${b}`, c], query: buildPubmedQuery({ intent: 'bench', terms: [`${a} ${b}`, c] }, now) };
  });
  for (const q of queries.slice(0, 20)) index.search(q.query, { retmax: 20 }); // warm-up
  const times: number[] = [];
  let hits = 0;
  for (const q of queries) {
    const s = performance.now();
    hits += index.search(q.query, { retmax: 20 }).ids.length;
    times.push(performance.now() - s);
  }
  // Baseline: a scan of every document for the query words (no index), on 50 queries.
  const docs = [...index.records.values()].map((r) => `${r.title} ${r.abstract ?? ''}`.toLowerCase());
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
    documents: DOCS,
    note: 'generated abstract-sized documents (title 10 words, abstract 160 words), not real records',
    build: { ms: Math.round(buildMs), docsPerSecond: Math.round(DOCS / (buildMs / 1000)), heapUsedMb: Math.round((mem.heapUsed - heapBefore) / 1e6), rssMb: Math.round(mem.rss / 1e6), targetUnder60s: buildMs < 60_000 },
    query: { queries: QUERIES, p50ms: pct(times, 50), p99ms: pct(times, 99), meanHits: Math.round(hits / QUERIES), targetP99Under20ms: pct(times, 99) < 20 },
    baselineScan: { queries: scan.length, p50ms: pct(scan, 50), p99ms: pct(scan, 99), ratioP50: Math.round((pct(scan, 50) / pct(times, 50)) * 10) / 10 },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
