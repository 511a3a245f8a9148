/**
 * The literature index on PostgreSQL full-text search, for corpora past one process's memory
 * (LITERATURE_BACKEND=postgres). Same PubMed-style queries and records as the in-memory BM25
 * index; PostgreSQL does the matching and ranking.
 *
 * - One table per corpus fingerprint, `literature_<fingerprint>`: pmid, year, lower-cased MeSH
 *   headings and publication types (text[] with GIN indexes, for [mh] filters and [pt]), the
 *   record as JSONB (what efetch returns), and a `tsvector` with the title at weight A, MeSH at
 *   B and the abstract at C (the `english` configuration: stemming and stop words), GIN-indexed.
 * - Built with progress in batches, indexed after loading, then made current in one
 *   transaction (`literature_current`), so a crash mid-build leaves the previous index serving
 *   and the next start rebuilds; an advisory lock keeps two processes from building at once.
 * - A query compiles to one WHERE clause (tsqueries for terms, with weight labels for field
 *   tags: [ti] A, [ab] C, [tiab] AC; array containment for [mh] inside AND, as the memory index
 *   filters; [pt]; year ranges) and one ranking tsquery (the OR of the scored terms) ranked by
 *   `ts_rank_cd` with weights A 1.0, B 0.75, C 0.5 (the memory index's field boosts 2 : 1.5 : 1)
 *   and length normalisation 1. Words reach PostgreSQL only as bind parameters, reduced to
 *   letters and digits, so no query text is ever SQL or tsquery syntax.
 */
import pg from 'pg';
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';
import { parsePubmedQuery, type QueryNode } from '../../src/tools/literature/query.js';
import { tokenize } from './bm25.js';
import { corpusFiles, readCorpus } from './corpus.js';
import type { Progress } from './search-index.js';
import { indexFingerprint } from './search-index.js';
import type { LiteratureStore, StoreSearch } from './store.js';

const BATCH = 2000;
/** Arbitrary constant for pg_advisory_lock: "literature index build". */
const BUILD_LOCK = 7_310_021;
const WEIGHTS = { all: '', ti: 'A', ab: 'C', tiab: 'AC', mh: 'B' } as const;

/** The words of a term as tsquery operands: letters and digits only, lower-cased. */
function operands(text: string, weight: string): string | null {
  const words = tokenize(text)
    .map((t) => t.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ''))
    .filter(Boolean);
  if (!words.length) return null;
  return words.map((w) => (weight ? `${w}:${weight}` : w)).join(' & ');
}

/** A query compiled to SQL: the WHERE clause, the ranking tsquery (or none), and parameters. */
export interface CompiledQuery {
  where: string;
  rank: string | null;
  params: unknown[];
}

export function compileQuery(node: QueryNode): CompiledQuery {
  const params: unknown[] = [];
  const param = (v: unknown) => `$${params.push(v)}`;
  const ranked: string[] = [];
  const walk = (n: QueryNode, inAnd: boolean): string => {
    switch (n.kind) {
      case 'range':
        return `(year BETWEEN ${param(n.from)} AND ${param(n.to)})`;
      case 'term': {
        if (n.field === 'pt') return `(types @> ARRAY[${param(n.text.toLowerCase())}]::text[])`;
        if (n.field === 'mh' && inAnd) return `(mesh @> ARRAY[${param(n.text.toLowerCase())}]::text[])`;
        const field = n.field === 'dp' ? 'all' : n.field;
        const q = operands(n.text, WEIGHTS[field]);
        if (!q) return 'FALSE';
        const tsq = `to_tsquery('english', ${param(q)})`;
        ranked.push(tsq);
        return `(tsv @@ ${tsq})`;
      }
      case 'and':
        return `(${n.children.map((c) => walk(c, true)).join(' AND ')})`;
      case 'or':
        return `(${n.children.map((c) => walk(c, false)).join(' OR ')})`;
      case 'not': {
        const left = walk(n.left, inAnd);
        const before = ranked.length;
        const right = walk(n.right, false);
        ranked.length = before; // excluded words do not rank
        return `(${left} AND NOT ${right})`;
      }
    }
  };
  const where = walk(node, false);
  return { where, rank: ranked.length ? ranked.join(' || ') : null, params };
}

const current = (client: pg.ClientBase) =>
  client
    .query<{ name: string; fingerprint: string; records: number }>(
      `SELECT name, fingerprint, records FROM literature_current WHERE id = 1`,
    )
    .then((r) => r.rows[0] ?? null);

export class PgLiteratureIndex implements LiteratureStore {
  readonly backend = 'postgres' as const;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: string,
    readonly fingerprint: string,
    readonly size: number,
  ) {}

  /**
   * Open the index for a corpus on the database at `url`: use the current table when it was
   * built from the same files, otherwise build one (with progress) and make it current.
   */
  static async open(
    url: string,
    corpus: string,
    progress: Progress = () => undefined,
  ): Promise<{ index: PgLiteratureIndex; loaded: boolean }> {
    const files = corpusFiles(corpus);
    return PgLiteratureIndex.openRecords(
      url,
      indexFingerprint(files),
      () => readCorpus(files, (f, i) => progress(i, files.length, `reading ${f.split('/').pop()}`)),
      progress,
    );
  }

  /**
   * Open the index named `fingerprint`, building it from `records` when it is not the current
   * one (benchmarks pass generated records; `open` passes the corpus files' records).
   */
  static async openRecords(
    url: string,
    fingerprint: string,
    records: () => AsyncIterable<PubmedRecord> | Iterable<PubmedRecord>,
    progress: Progress = () => undefined,
  ): Promise<{ index: PgLiteratureIndex; loaded: boolean }> {
    if (!/^[0-9a-z_]{1,40}$/.test(fingerprint)) throw new Error(`not an index name: ${fingerprint}`);
    const table = `literature_${fingerprint}`;
    const pool = new pg.Pool({ connectionString: url, max: 4 });
    try {
      const client = await pool.connect();
      try {
        await client.query(`SELECT pg_advisory_lock(${BUILD_LOCK})`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS literature_current (id int PRIMARY KEY CHECK (id = 1), name text NOT NULL, fingerprint text NOT NULL, records int NOT NULL, built_at timestamptz NOT NULL DEFAULT now())`,
        );
        const cur = await current(client);
        if (cur?.fingerprint === fingerprint) {
          progress(0, null, 'using the PostgreSQL index');
          return { index: new PgLiteratureIndex(pool, cur.name, fingerprint, cur.records), loaded: true };
        }
        const count = await PgLiteratureIndex.build(client, table, records(), progress);
        await client.query('BEGIN');
        await client.query(
          `INSERT INTO literature_current (id, name, fingerprint, records) VALUES (1, $1, $2, $3)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, fingerprint = excluded.fingerprint, records = excluded.records, built_at = now()`,
          [table, fingerprint, count],
        );
        if (cur && cur.name !== table) await client.query(`DROP TABLE IF EXISTS ${cur.name}`);
        await client.query('COMMIT');
        return { index: new PgLiteratureIndex(pool, table, fingerprint, count), loaded: false };
      } finally {
        await client.query(`SELECT pg_advisory_unlock(${BUILD_LOCK})`).catch(() => undefined);
        client.release();
      }
    } catch (err) {
      await pool.end();
      throw err;
    }
  }

  private static async build(
    client: pg.ClientBase,
    table: string,
    records: AsyncIterable<PubmedRecord> | Iterable<PubmedRecord>,
    progress: Progress,
  ): Promise<number> {
    // A table left by a build that crashed is not current: start it again.
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.query(
      `CREATE TABLE ${table} (pmid bigint PRIMARY KEY, year int, mesh text[] NOT NULL, types text[] NOT NULL, record jsonb NOT NULL, tsv tsvector NOT NULL)`,
    );
    let n = 0;
    let batch: PubmedRecord[] = [];
    const flush = async () => {
      if (!batch.length) return;
      const cols = {
        pmid: batch.map((r) => r.pmid),
        year: batch.map((r) => r.year),
        title: batch.map((r) => r.title),
        abstract: batch.map((r) => r.abstract ?? ''),
        meshText: batch.map((r) => r.mesh.join(' ; ')),
        mesh: batch.map((r) => JSON.stringify(r.mesh.map((m) => m.toLowerCase()))),
        types: batch.map((r) => JSON.stringify(r.publicationTypes.map((t) => t.toLowerCase()))),
        record: batch.map((r) => JSON.stringify(r)),
      };
      // A repeated PMID keeps its first record, as the memory index does.
      await client.query(
        `INSERT INTO ${table} (pmid, year, mesh, types, record, tsv)
         SELECT u.pmid, u.year,
                ARRAY(SELECT jsonb_array_elements_text(u.mesh::jsonb)),
                ARRAY(SELECT jsonb_array_elements_text(u.types::jsonb)),
                u.record::jsonb,
                setweight(to_tsvector('english', u.title), 'A') ||
                setweight(to_tsvector('english', u.mesh_text), 'B') ||
                setweight(to_tsvector('english', u.abstract), 'C')
         FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
              AS u(pmid, year, title, abstract, mesh_text, mesh, types, record)
         ON CONFLICT (pmid) DO NOTHING`,
        [cols.pmid, cols.year, cols.title, cols.abstract, cols.meshText, cols.mesh, cols.types, cols.record],
      );
      n += batch.length;
      batch = [];
      progress(n, null, 'loading into PostgreSQL');
    };
    for await (const r of records) {
      batch.push(r);
      if (batch.length >= BATCH) await flush();
    }
    await flush();
    progress(0, 3, 'indexing (GIN)');
    await client.query(`CREATE INDEX ${table}_tsv ON ${table} USING gin (tsv)`);
    progress(1, 3, 'indexing (GIN)');
    await client.query(`CREATE INDEX ${table}_mesh ON ${table} USING gin (mesh)`);
    await client.query(`CREATE INDEX ${table}_types ON ${table} USING gin (types)`);
    await client.query(`ANALYZE ${table}`);
    progress(3, 3, 'indexing (GIN)');
    const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    return Number(rows[0]!.n);
  }

  async find(query: string, opts: { retstart?: number; retmax?: number } = {}): Promise<StoreSearch> {
    const { where, rank, params } = compileQuery(parsePubmedQuery(query));
    const start = opts.retstart ?? 0;
    const max = opts.retmax ?? 20;
    const score = rank ? `ts_rank_cd('{0.1, 0.5, 0.75, 1.0}', tsv, ${rank}, 1)` : '0';
    const limit = `$${params.length + 1}`;
    const offset = `$${params.length + 2}`;
    // The page and the count run side by side on two pooled connections.
    const [page, total] = await Promise.all([
      max > 0
        ? this.pool.query<{ pmid: string; score: number }>(
            `SELECT pmid::text AS pmid, ${score}::float8 AS score FROM ${this.table} WHERE ${where}
             ORDER BY score DESC, pmid DESC LIMIT ${limit} OFFSET ${offset}`,
            [...params, max, start],
          )
        : Promise.resolve({ rows: [] as { pmid: string; score: number }[] }),
      this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.table} WHERE ${where}`, params),
    ]);
    return {
      count: Number(total.rows[0]!.n),
      ids: page.rows.map((r) => r.pmid),
      scores: page.rows.map((r) => r.score),
    };
  }

  async fetch(pmids: readonly string[]): Promise<PubmedRecord[]> {
    if (!pmids.length) return [];
    const { rows } = await this.pool.query<{ pmid: string; record: PubmedRecord }>(
      `SELECT pmid::text AS pmid, record FROM ${this.table} WHERE pmid = ANY($1::bigint[])`,
      [pmids],
    );
    const byId = new Map(rows.map((r) => [r.pmid, r.record]));
    return pmids.map((id) => byId.get(String(Number(id)))).filter((r): r is PubmedRecord => r !== undefined);
  }

  /** Table and index sizes on disk, for the benchmarks. */
  async diskBytes(): Promise<{ table: number; indexes: number }> {
    const { rows } = await this.pool.query<{ t: string; i: string }>(
      `SELECT pg_table_size($1) AS t, pg_indexes_size($1) AS i`,
      [this.table],
    );
    return { table: Number(rows[0]!.t), indexes: Number(rows[0]!.i) };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
