/**
 * Both local literature backends behind the same E-utilities service and client, over real
 * sockets: the in-memory BM25 index and PostgreSQL full-text search (the test run's real
 * PostgreSQL, a database of its own). Same corpus (the synthetic, labelled PubMed XML fixture),
 * same queries, same answers; then what only the PostgreSQL backend has to get right: reuse by
 * corpus fingerprint, a failed build leaving the previous index serving, query text that is
 * tsquery or SQL syntax, and the same matches as the memory index on generated abstracts.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPubmedQuery } from '../../src/tools/literature/query.js';
import { EutilsClient } from '../../src/tools/literature/eutils-client.js';
import { PgLiteratureIndex } from '../../services/literature/pg-index.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { buildLiteratureService } from '../../services/literature/server.js';
import type { LiteratureStore } from '../../services/literature/store.js';
import { generateAbstracts, generateQueryTerms } from '../helpers/generated-abstracts.js';
import { createTestDatabase } from '../helpers/kb.js';

const CORPUS = path.resolve(import.meta.dirname, '../fixtures/literature/synthetic-pubmed.xml');
const dir = path.resolve('.data', `test-lit-backends-${randomBytes(4).toString('hex')}`);
const signal = () => new AbortController().signal;
let db: { url: string; drop: () => Promise<void> };

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['memory', 'postgres'] as const)('the %s backend behind the E-utilities service', (backend) => {
  let store: LiteratureStore;
  let app: ReturnType<typeof buildLiteratureService>;
  let client: EutilsClient;
  beforeAll(async () => {
    store =
      backend === 'postgres'
        ? (await PgLiteratureIndex.open(db.url, CORPUS)).index
        : (await LiteratureIndex.open(CORPUS, path.join(dir, 'memory'))).index;
    app = buildLiteratureService(store);
    await app.listen({ host: '127.0.0.1', port: 0 });
    client = new EutilsClient({
      baseUrl: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/entrez/eutils`,
      rateLimit: 100,
    });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
  });

  it('answers boolean queries with field tags, MeSH and type filters and date ranges', async () => {
    expect(store.backend).toBe(backend);
    expect(store.size).toBe(6);
    expect((await client.esearch('metformin[tiab] AND "chronic kidney disease"[tiab]', 20, signal())).count).toBe(5);
    const humans = await client.esearch('metformin[tiab] AND humans[mh] AND ("2016"[dp] : "3000"[dp])', 20, signal());
    expect(humans.ids.sort()).toEqual(['990000001', '990000002', '990000003']);
    const guideline = await client.esearch('metformin[tiab] AND "Practice Guideline"[pt]', 20, signal());
    expect(guideline.ids).toEqual(['990000001']);
    const without = await client.esearch('metformin[tiab] NOT humans[mh]', 20, signal());
    expect(without.ids.sort()).toEqual(['990000004']);
    const either = await client.esearch('warfarin[tiab] OR "Practice Guideline"[pt]', 20, signal());
    expect(either.ids.sort()).toEqual(['990000001', '990000006']);
    expect((await client.esearch('unobtainium', 20, signal())).count).toBe(0);
  });

  it('pages, and efetch gives records in the order asked, leaving unknown ids out', async () => {
    const first = await client.esearch('metformin[tiab]', 2, signal());
    const all = await client.esearch('metformin[tiab]', 20, signal());
    expect(first.ids).toEqual(all.ids.slice(0, 2));
    const records = await client.efetch(['990000002', '123', '990000001'], signal());
    expect(records.map((r) => r.pmid)).toEqual(['990000002', '990000001']);
    expect(records[1]!.publicationTypes).toContain('Practice Guideline');
    expect(records[1]!.mesh.length).toBeGreaterThan(0);
  });

  it("a step's search cites the guideline and the trial first, with the supporting sentence", async () => {
    const { data } = await client.search(
      { intent: 'manage metformin in CKD', terms: ['chronic kidney disease', 'metformin'], sinceYears: 10 },
      signal(),
    );
    expect(data.citations.map((c) => [c.pmid, c.publicationTypes[0]])).toEqual([
      ['990000001', 'Practice Guideline'],
      ['990000002', 'Randomized Controlled Trial'],
      ['990000003', 'Journal Article'],
    ]);
    expect(data.citations[0]!.snippet).toMatch(/Reduce the metformin dose when eGFR falls below 45/);
  });

  it('query text is data: tsquery and SQL syntax find nothing or a 400, never an error or a change', async () => {
    for (const term of ["metformin' OR 1=1 --", 'metformin:* | !warfarin', "x'); DROP TABLE literature_current; --"]) {
      const res = await client.esearch(term, 20, signal()).catch((e: unknown) => e as Error);
      if (res instanceof Error) expect(res).toMatchObject({ code: 'INVALID_INPUT' });
      else expect(res.count).toBeLessThanOrEqual(6);
    }
    expect((await client.esearch('metformin[tiab]', 20, signal())).count).toBe(5);
  });
});

describe('the PostgreSQL backend on its own', () => {
  it('reuses the index built from the same files and rebuilds when they change', async () => {
    const again = await PgLiteratureIndex.open(db.url, CORPUS);
    expect(again.loaded).toBe(true);
    await again.index.close();
    const copy = path.join(dir, 'changed', 'corpus.xml');
    mkdirSync(path.dirname(copy), { recursive: true });
    copyFileSync(CORPUS, copy);
    writeFileSync(copy, '\n', { flag: 'a' }); // another size: another fingerprint
    const rebuilt = await PgLiteratureIndex.open(db.url, copy);
    expect(rebuilt.loaded).toBe(false);
    expect(rebuilt.index.fingerprint).not.toBe(again.index.fingerprint);
    await rebuilt.index.close();
    // The previous table is dropped once the new one is current: one index table remains.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const tables = await c.query(`SELECT tablename FROM pg_tables WHERE tablename ~ '^literature_[0-9a-f]{16}$'`);
    await c.end();
    expect(tables.rows).toHaveLength(1);
  });

  it('a build that fails part-way leaves the previous index current and serving', async () => {
    const good = path.join(dir, 'good', 'corpus.jsonl');
    mkdirSync(path.dirname(good), { recursive: true });
    const records = [...generateAbstracts(50)];
    writeFileSync(good, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const first = await PgLiteratureIndex.open(db.url, good);
    await first.index.close();
    writeFileSync(good, records.map((r) => JSON.stringify(r)).join('\n') + '\n{"pmid": "not a record"\n');
    await expect(PgLiteratureIndex.open(db.url, good)).rejects.toThrow();
    writeFileSync(good, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    // Rewriting the same content gives another modification time, hence another fingerprint:
    // what matters is that the database still had the first index current after the failure.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const cur = await c.query<{ fingerprint: string; records: number }>(
      'SELECT fingerprint, records FROM literature_current',
    );
    await c.end();
    expect(cur.rows).toEqual([{ fingerprint: first.index.fingerprint, records: 50 }]);
  });

  it('matches the same documents as the memory index for the graph-shaped queries on generated abstracts', async () => {
    const docs = [...generateAbstracts(3000)];
    const file = path.join(dir, 'generated', 'corpus.jsonl');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, docs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const memory = LiteratureIndex.fromRecords(docs);
    const { index: postgres } = await PgLiteratureIndex.open(db.url, file);
    try {
      const now = new Date('2026-11-25T00:00:00Z');
      let compared = 0;
      for (const terms of generateQueryTerms(40)) {
        const query = buildPubmedQuery({ intent: 'parity', terms }, now);
        const a = memory.search(query, { retmax: 10_000 });
        const b = await postgres.find(query, { retmax: 10_000 });
        expect(new Set(b.ids), query).toEqual(new Set(a.ids));
        if (a.count) compared++;
      }
      expect(compared).toBeGreaterThan(10); // the comparison covered queries that match something
    } finally {
      await postgres.close();
    }
  });
});
