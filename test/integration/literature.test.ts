/**
 * The literature tool end to end over real sockets: the local E-utilities service over a
 * (synthetic, labelled) PubMed XML corpus with a persisted index, and the E-utilities client
 * against it — ranking, filters, snippets, Redis caching — plus the client's behaviour
 * against a misbehaving server: 429 with Retry-After, 5xx, timeouts, bad requests, rate limit.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolError } from '../../src/tools/common.js';
import { EutilsClient } from '../../src/tools/literature/eutils-client.js';
import { CorpusError } from '../../services/literature/corpus.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { buildLiteratureService } from '../../services/literature/server.js';
import { hashToken } from '../../src/server/auth.js';
import { deletePrefix, redisUrl, testConfig, TEST_TOKEN, uniquePrefix } from '../helpers/env.js';
import { startApi } from '../helpers/stack.js';

const CORPUS = path.resolve(import.meta.dirname, '../fixtures/literature/synthetic-pubmed.xml');
const dir = path.resolve('.data', `test-lit-${randomBytes(4).toString('hex')}`);
const prefix = uniquePrefix();
const signal = () => new AbortController().signal;
let redis: Redis;
let app: Awaited<ReturnType<typeof buildLiteratureService>>;
let base: string;

beforeAll(async () => {
  redis = new Redis(redisUrl());
  const { index, loaded } = await LiteratureIndex.open(CORPUS, dir);
  expect(loaded).toBe(false);
  app = buildLiteratureService(index);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/entrez/eutils`;
});
afterAll(async () => {
  await app?.close();
  await deletePrefix(prefix);
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe('local E-utilities service + client', () => {
  it('esearch ranks by BM25 and applies humans, date and type filters; efetch returns PubMed XML', async () => {
    const client = new EutilsClient({ baseUrl: base, rateLimit: 50 });
    const all = await client.esearch('metformin[tiab] AND "chronic kidney disease"[tiab]', 20, signal());
    expect(all.count).toBe(5);
    const humans = await client.esearch('metformin[tiab] AND humans[mh] AND ("2016"[dp] : "3000"[dp])', 20, signal());
    expect(humans.ids.sort()).toEqual(['990000001', '990000002', '990000003']);
    const records = await client.efetch(['990000002', '123', '990000001'], signal());
    expect(records.map((r) => r.pmid)).toEqual(['990000002', '990000001']); // unknown ids are left out, never invented
  });

  it('search: step intent → tagged query → guideline and RCT first, with the matching snippet', async () => {
    const client = new EutilsClient({ baseUrl: base, rateLimit: 50, sourceName: 'local-pubmed' });
    const { data, version } = await client.search(
      { intent: 'manage metformin in CKD', terms: ['chronic kidney disease', 'metformin'], sinceYears: 10 },
      signal(),
    );
    expect(version).toBe('local-pubmed');
    expect(data.query).toContain('humans[mh]');
    expect(data.citations.map((c) => [c.pmid, c.publicationTypes[0]])).toEqual([
      ['990000001', 'Practice Guideline'],
      ['990000002', 'Randomized Controlled Trial'],
      ['990000003', 'Journal Article'],
    ]);
    expect(data.citations[0]!.snippet).toMatch(/Reduce the metformin dose when eGFR falls below 45/);
    // The animal study and the 2001 meta-analysis are filtered out by humans[mh] and the date range.
    expect(data.citations.map((c) => c.pmid)).not.toContain('990000004');
    expect(data.citations.map((c) => c.pmid)).not.toContain('990000005');
  });

  it('widens to the main concept when the combination finds nothing, and finds nothing rather than inventing', async () => {
    const client = new EutilsClient({ baseUrl: base, rateLimit: 50 });
    const wide = await client.search(
      { intent: 'test search', terms: ['warfarin', 'unobtainium'], sinceYears: null },
      signal(),
    );
    expect(wide.data.citations.map((c) => c.pmid)).toEqual(['990000006']);
    expect((await client.search({ intent: 'test search', terms: ['unobtainium'] }, signal())).data.citations).toEqual(
      [],
    );
  });

  it('bad requests are 400 in E-utilities form and not retried', async () => {
    const res = await fetch(`${base}/esearch.fcgi?db=pubmed&retmode=json&term=${encodeURIComponent('(metformin')}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { esearchresult: { ERROR: string } }).esearchresult.ERROR).toMatch(/query syntax/);
    expect((await fetch(`${base}/esearch.fcgi?db=protein&term=x`)).status).toBe(400);
    const client = new EutilsClient({ baseUrl: base, rateLimit: 50 });
    await expect(client.esearch('metformin[bogus]', 5, signal())).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(client.stats.retries).toBe(0);
    const post = await fetch(`${base}/efetch.fcgi`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'db=pubmed&id=990000006',
    });
    expect(await post.text()).toContain('<PMID Version="1">990000006</PMID>');
  });

  it('caches answers in Redis with a TTL', async () => {
    const client = new EutilsClient({ baseUrl: base, rateLimit: 50, redis, keyPrefix: prefix, cacheTtlSeconds: 120 });
    await client.search({ intent: 'test search', terms: ['metformin'] }, signal());
    const requests = client.stats.requests;
    await client.search({ intent: 'test search', terms: ['metformin'] }, signal());
    expect(client.stats.requests).toBe(requests);
    expect(client.stats.cacheHits).toBe(2);
    const keys = await redis.keys(`{${prefix}:eutils}:cache:*`);
    expect(keys.length).toBe(2);
    const ttl = await redis.ttl(keys[0]!);
    expect(ttl).toBeGreaterThan(100);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('a restart loads the persisted index instead of rebuilding it', async () => {
    const again = await LiteratureIndex.open(CORPUS, dir);
    expect(again.loaded).toBe(true);
    expect(again.index.search('metformin[tiab]', { retmax: 10 }).ids).toEqual(
      (await LiteratureIndex.open(CORPUS, dir)).index.search('metformin[tiab]', { retmax: 10 }).ids,
    );
  });

  it('fails clearly without a corpus', async () => {
    await expect(LiteratureIndex.open(path.join(dir, 'missing'), dir)).rejects.toThrow(CorpusError);
    const empty = path.join(dir, 'empty');
    mkdirSync(empty, { recursive: true });
    writeFileSync(path.join(empty, 'notes.txt'), 'nothing');
    await expect(LiteratureIndex.open(empty, dir)).rejects.toThrow(/holds no .xml, .xml.gz or .jsonl files/);
  });
});

describe('POST /v1/literature/search', () => {
  it('serves reviewers through the same client; 503 when not configured; services are refused', async () => {
    const reviewer = 'literature-reviewer-token-0123456789';
    const config = testConfig(prefix, { STAFF_TOKENS: `dr-lit:${hashToken(reviewer)}:reviewer` });
    const body = { intent: 'manage metformin in CKD', terms: ['chronic kidney disease', 'metformin'] };
    const api = await startApi(config, undefined, {
      literature: new EutilsClient({ baseUrl: base, rateLimit: 50, sourceName: 'local-pubmed' }),
    });
    const off = await startApi(config);
    try {
      const res = await api.app.inject({
        method: 'POST',
        url: '/v1/literature/search',
        headers: { authorization: `Bearer ${reviewer}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expect(res.statusCode).toBe(200);
      const out = res.json<{ source: string; citations: Array<{ pmid: string }> }>();
      expect(out.source).toBe('local-pubmed');
      expect(out.citations[0]!.pmid).toBe('990000001');
      const service = await api.app.inject({
        method: 'POST',
        url: '/v1/literature/search',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expect(service.statusCode).toBe(403);
      const bad = await api.app.inject({
        method: 'POST',
        url: '/v1/literature/search',
        headers: { authorization: `Bearer ${reviewer}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ intent: 'x', terms: [] }),
      });
      expect(bad.statusCode).toBe(400);
      const none = await off.app.inject({
        method: 'POST',
        url: '/v1/literature/search',
        headers: { authorization: `Bearer ${reviewer}`, 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
      expect([none.statusCode, none.json<{ code: string }>().code]).toEqual([503, 'LITERATURE_NOT_CONFIGURED']);
    } finally {
      await api.close();
      await off.close();
    }
  });
});

describe('client resilience against a misbehaving E-utilities server', () => {
  let server: Server;
  let url: string;
  const hits: number[] = [];
  let script: Array<(res: ServerResponse) => void> = [];
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits.push(Date.now());
      const next = script.shift();
      if (next) return next(res);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"esearchresult":{"count":"0","retmax":"0","retstart":"0","idlist":[]}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('retries 429 (honouring Retry-After) and 5xx, then succeeds', async () => {
    hits.length = 0;
    script = [
      (res) => {
        res.writeHead(429, { 'retry-after': '1' });
        res.end('slow down');
      },
      (res) => {
        res.writeHead(503);
        res.end('busy');
      },
    ];
    const client = new EutilsClient({ baseUrl: url, rateLimit: 100, backoffMs: 10 });
    expect((await client.esearch('x', 5, signal())).count).toBe(0);
    expect(hits.length).toBe(3);
    expect(hits[1]! - hits[0]!).toBeGreaterThanOrEqual(950); // waited for Retry-After
    expect(client.stats.retries).toBe(2);
  });

  it('gives up after the retries with a retryable UNREACHABLE, and times out hanging requests', async () => {
    script = Array.from({ length: 3 }, () => (res: ServerResponse) => {
      res.writeHead(500);
      res.end();
    });
    const client = new EutilsClient({ baseUrl: url, rateLimit: 100, retries: 2, backoffMs: 5 });
    const err = await client.esearch('x', 5, signal()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolError);
    expect(err).toMatchObject({ code: 'UNREACHABLE', retryable: true });
    script = [() => undefined];
    const slow = new EutilsClient({ baseUrl: url, rateLimit: 100, retries: 0, timeoutMs: 200 });
    await expect(slow.esearch('x', 5, signal())).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('honours the rate limit: never more than 3 requests in any second without an API key', async () => {
    hits.length = 0;
    script = [];
    // The limiter's promise is about when requests leave the client; the server's arrival times
    // add loopback and event-loop jitter that the client cannot control, so dispatch times are
    // recorded where the client sends (its injected fetch), and the server counts the arrivals.
    const sent: number[] = [];
    const client = new EutilsClient({
      baseUrl: url,
      backoffMs: 5,
      fetch: (input, init) => {
        sent.push(Date.now());
        return fetch(input, init);
      },
    });
    await Promise.all(Array.from({ length: 7 }, (_, i) => client.esearch(`q${i}`, 5, signal())));
    expect(hits.length).toBe(7);
    expect(sent.length).toBe(7);
    for (let i = 3; i < sent.length; i++)
      expect(sent[i]! - sent[i - 3]!, `requests ${i - 3}..${i}`).toBeGreaterThanOrEqual(995);
    expect(new EutilsClient({ baseUrl: url, apiKey: 'k' })['rate']).toBe(10);
  });
});
