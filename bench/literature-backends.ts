/**
 * `npm run bench:literature:backends`: the two local literature backends side by side on the
 * same generated abstracts (not real records; test/helpers/generated-abstracts.ts) at each size
 * in BENCH_LIT_SIZES (default 200000,1000000): the in-memory BM25 index and PostgreSQL
 * full-text search (a real server: DATABASE_URL, else a fresh local cluster from the Debian
 * package, fsync off as in the tests).
 *
 * For each: build time, size (memory: heap + typed arrays and the persisted file; PostgreSQL:
 * table and index bytes on disk), and query p50/p99 over BENCH_LIT_QUERIES queries of the
 * graph's shape (two tagged concepts, humans[mh], a date range; top 20 and the count) through
 * the store interface the service uses. The ratios are PostgreSQL over memory in the same run.
 *
 * JSON on stdout, progress on stderr. Run with `node --expose-gc` (the npm script does).
 */
import os from 'node:os';
import { buildPubmedQuery } from '../src/tools/literature/query.js';
import { startLocalPostgres, type LocalPostgres } from '../src/infra/postgres-server.js';
import { PgLiteratureIndex } from '../services/literature/pg-index.js';
import { LiteratureIndex, stderrProgress } from '../services/literature/search-index.js';
import type { LiteratureStore } from '../services/literature/store.js';
import { generateAbstracts, generateQueryTerms } from '../test/helpers/generated-abstracts.js';
import { settledMemory } from './common.js';

const SIZES = (process.env.BENCH_LIT_SIZES ?? '200000,1000000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_LIT_QUERIES ?? 300);

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
};
const mb = (bytes: number) => Math.round(bytes / 1e6);
const round1 = (x: number) => Math.round(x * 10) / 10;
const memory = async () => {
  const m = await settledMemory();
  return m.heapUsed + m.arrayBuffers;
};

const now = new Date('2026-11-25T00:00:00Z');
const queries = generateQueryTerms(QUERIES).map((terms) => buildPubmedQuery({ intent: 'bench', terms }, now));

async function timeQueries(store: LiteratureStore) {
  for (const q of queries.slice(0, 20)) await store.find(q, { retmax: 20 }); // warm-up
  const times: number[] = [];
  let hits = 0;
  for (const q of queries) {
    const s = performance.now();
    hits += (await store.find(q, { retmax: 20 })).count;
    times.push(performance.now() - s);
  }
  return {
    queries: times.length,
    p50ms: pct(times, 50),
    p99ms: pct(times, 99),
    meanMatches: round1(hits / times.length),
  };
}

async function main() {
  let local: LocalPostgres | null = null;
  const url = process.env.DATABASE_URL ?? (local = await startLocalPostgres('literature_bench')).url;
  const results = [];
  try {
    for (const size of SIZES) {
      const progress = stderrProgress(`bench:literature:backends ${size}`);
      const before = await memory();
      let t0 = performance.now();
      const mem = LiteratureIndex.fromRecords(generateAbstracts(size), progress, size);
      const memBuildMs = Math.round(performance.now() - t0);
      const memBytes = (await memory()) - before;
      const persisted = mem.bm25Index.serialize().length;
      const memQuery = await timeQueries(mem);
      process.stderr.write(`[bench] memory ${size}: build ${memBuildMs} ms, p99 ${memQuery.p99ms} ms\n`);

      t0 = performance.now();
      const { index: pgIndex } = await PgLiteratureIndex.openRecords(
        url,
        `bench_${size}_${Date.now().toString(36)}`,
        () => generateAbstracts(size),
        progress,
      );
      const pgBuildMs = Math.round(performance.now() - t0);
      const disk = await pgIndex.diskBytes();
      const pgQuery = await timeQueries(pgIndex);
      process.stderr.write(`[bench] postgres ${size}: build ${pgBuildMs} ms, p99 ${pgQuery.p99ms} ms\n`);
      await pgIndex.close();
      results.push({
        documents: size,
        memory: {
          buildMs: memBuildMs,
          memoryMb: mb(memBytes),
          persistedIndexMb: mb(persisted),
          query: memQuery,
        },
        postgres: {
          buildMs: pgBuildMs,
          tableMb: mb(disk.table),
          indexesMb: mb(disk.indexes),
          query: pgQuery,
        },
        ratiosPostgresOverMemory: {
          build: round1(pgBuildMs / memBuildMs),
          queryP50: round1(pgQuery.p50ms / memQuery.p50ms),
          queryP99: round1(pgQuery.p99ms / memQuery.p99ms),
        },
        sameMatchCounts: memQuery.meanMatches === pgQuery.meanMatches,
      });
    }
  } finally {
    await local?.stop();
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        benchmark: 'literature-backends',
        date: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        note: "generated abstract-sized documents (title 11 words, abstract 160 words), not real records; queries of the graph's shape; PostgreSQL with fsync off",
        results,
      },
      null,
      2,
    )}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
