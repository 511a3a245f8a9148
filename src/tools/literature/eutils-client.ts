/**
 * A client for the PubMed E-utilities subset the graph needs: esearch (ids for a query) then
 * efetch (full records as XML). The same client talks to NCBI or to the local service: only
 * the base URL differs.
 *
 * - NCBI's rate limits: 3 requests/s without an API key, 10 with. Requests are limited within
 *   the process (a sliding one-second window over real dispatch times), and across processes through a per-second counter in Redis when one is given.
 * - Retries on 429 and 5xx with exponential backoff (honouring Retry-After), a timeout per
 *   request, and the caller's abort signal.
 * - Responses are cached in Redis with a TTL (keyed by the request without the API key).
 * - Errors are coded ToolErrors: bad queries are not retried, outages are.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { serviceBreaker, ToolError, type BreakerOptions } from '../common.js';
import { parseEsearch, parsePubmedXml, PubmedFormatError, type PubmedRecord } from './pubmed-xml.js';
import { buildPubmedQuery } from './query.js';
import type { EvidenceLevel } from '../../domain/literature.js';
import { evidenceLevel, LEVEL_ORDER, supportingQuote } from './evidence.js';
import {
  LiteratureLookup,
  LiteratureQuery,
  type Citation,
  type LiteratureClient,
  type LiteratureResult,
} from './schema.js';

export interface EutilsOptions {
  /** e.g. https://eutils.ncbi.nlm.nih.gov/entrez/eutils or http://127.0.0.1:8790/entrez/eutils */
  baseUrl: string;
  apiKey?: string | undefined;
  /** NCBI asks for `tool` and `email` on every request. */
  tool?: string;
  email?: string | undefined;
  /** Requests per second; default 3, or 10 with an API key. */
  rateLimit?: number;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  redis?: Redis | null;
  /** Redis key prefix for cache and rate counters (Cluster-safe: one hash tag). */
  keyPrefix?: string;
  cacheTtlSeconds?: number;
  /** A name for provenance: "pubmed" or "local-pubmed". */
  sourceName?: string;
  /** A circuit breaker over the requests (each with its retries); none when unset. */
  breaker?: BreakerOptions;
  fetch?: typeof fetch;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new ToolError('TIMEOUT', 'cancelled', true));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new ToolError('TIMEOUT', 'cancelled', true));
      },
      { once: true },
    );
  });

/** Parse an answer; a malformed one is a non-retryable BAD_RESPONSE. */
function parsed<T>(parse: (body: string) => T, body: string): T {
  try {
    return parse(body);
  } catch (err) {
    if (err instanceof PubmedFormatError) throw new ToolError('BAD_RESPONSE', err.message, false);
    throw err;
  }
}

export class EutilsClient implements LiteratureClient {
  private readonly rate: number;
  /** When the last `rate` requests left, oldest first. */
  private readonly dispatched: number[] = [];
  private turns: Promise<void> = Promise.resolve();
  private readonly base: string;
  readonly stats = { requests: 0, cacheHits: 0, retries: 0, breakerOpened: 0 };
  readonly breaker;

  constructor(private readonly o: EutilsOptions) {
    this.rate = o.rateLimit ?? (o.apiKey ? 10 : 3);
    this.base = o.baseUrl.replace(/\/+$/, '');
    this.breaker = o.breaker ? serviceBreaker('literature service', o.breaker) : null;
    this.breaker?.policy.onBreak(() => this.stats.breakerOpened++);
  }

  private key(kind: string, id: string) {
    return `{${this.o.keyPrefix ?? 'co'}:eutils}:${kind}:${id}`;
  }

  private async takeTurn(signal: AbortSignal): Promise<void> {
    for (;;) {
      if (this.dispatched.length < this.rate) break;
      // A timer can fire early against the wall clock (libuv schedules from its cached loop
      // time, which lags when the loop is busy), so the window is re-checked after each sleep.
      const wait = this.dispatched[0]! + 1000 - Date.now();
      if (wait <= 0) this.dispatched.shift();
      else await sleep(Math.ceil(wait), signal);
    }
    this.dispatched.push(Date.now());
  }

  /**
   * Wait for a slot: at most `rate` requests in any 1000 ms window of this process, measured on
   * the times requests really left (a sliding window over the last `rate` dispatches, taken in
   * turn), then (with Redis) a shared per-second budget across processes.
   */
  private async slot(signal: AbortSignal): Promise<void> {
    const turn = this.turns.then(() => this.takeTurn(signal));
    this.turns = turn.catch(() => undefined);
    await turn;
    const redis = this.o.redis;
    if (!redis) return;
    for (;;) {
      const second = Math.floor(Date.now() / 1000);
      const k = this.key('rate', String(second));
      const n = await redis.incr(k);
      if (n === 1) await redis.pexpire(k, 2000);
      if (n <= this.rate) return;
      await sleep(1000 - (Date.now() % 1000) + 5, signal);
    }
  }

  private async get(
    path: 'esearch.fcgi' | 'efetch.fcgi',
    params: Record<string, string>,
    signal: AbortSignal,
  ): Promise<string> {
    const query = new URLSearchParams({
      db: 'pubmed',
      ...params,
      tool: this.o.tool ?? 'clinical-orchestrator',
      ...(this.o.email ? { email: this.o.email } : {}),
    });
    const cacheKey = this.key(
      'cache',
      createHash('sha256').update(`${this.base}/${path}?${query.toString()}`).digest('hex'),
    );
    if (this.o.redis) {
      const hit = await this.o.redis.get(cacheKey).catch(() => null);
      if (hit !== null) {
        this.stats.cacheHits++;
        return hit;
      }
    }
    if (this.o.apiKey) query.set('api_key', this.o.apiKey);
    const url = `${this.base}/${path}?${query.toString()}`;
    const exchange = () => this.exchange(url, path, cacheKey, signal);
    return this.breaker ? this.breaker.run(exchange) : exchange();
  }

  /** One request with its retries (429/5xx honouring Retry-After, network errors, timeouts). */
  private async exchange(url: string, path: string, cacheKey: string, signal: AbortSignal): Promise<string> {
    const retries = this.o.retries ?? 3;
    let lastError: ToolError | null = null;
    let retryAfterMs: number | null = null;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await sleep(retryAfterMs ?? (this.o.backoffMs ?? 500) * 2 ** (attempt - 1), signal);
        retryAfterMs = null;
      }
      await this.slot(signal);
      this.stats.requests++;
      const timeout = AbortSignal.timeout(this.o.timeoutMs ?? 10_000);
      let res: Response;
      try {
        res = await (this.o.fetch ?? fetch)(url, {
          signal: AbortSignal.any([signal, timeout]),
          headers: { accept: 'application/xml, application/json' },
        });
      } catch (err) {
        if (signal.aborted) throw new ToolError('TIMEOUT', 'cancelled', true);
        lastError = new ToolError(
          timeout.aborted ? 'TIMEOUT' : 'UNREACHABLE',
          `${path}: ${timeout.aborted ? 'timed out' : err instanceof Error ? err.message : String(err)}`,
          true,
          { cause: err },
        );
        continue;
      }
      const body = await res.text();
      if (res.status === 429 || res.status >= 500) {
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) retryAfterMs = Math.min(retryAfter * 1000, 30_000);
        lastError = new ToolError('UNREACHABLE', `${path}: HTTP ${res.status}`, true);
        continue;
      }
      if (!res.ok)
        throw new ToolError(
          res.status === 400 ? 'INVALID_INPUT' : 'BAD_RESPONSE',
          `${path}: HTTP ${res.status}: ${body.slice(0, 200)}`,
          false,
        );
      if (this.o.redis)
        await this.o.redis.set(cacheKey, body, 'EX', this.o.cacheTtlSeconds ?? 86_400).catch(() => undefined);
      return body;
    }
    throw lastError ?? new ToolError('UNREACHABLE', `${path}: no answer`, true);
  }

  async esearch(term: string, retmax: number, signal: AbortSignal) {
    return parsed(
      parseEsearch,
      await this.get('esearch.fcgi', { term, retmax: String(retmax), retmode: 'json', sort: 'relevance' }, signal),
    );
  }

  async efetch(ids: readonly string[], signal: AbortSignal): Promise<PubmedRecord[]> {
    if (!ids.length) return [];
    return parsed(
      parsePubmedXml,
      await this.get('efetch.fcgi', { id: ids.join(','), retmode: 'xml', rettype: 'abstract' }, signal),
    );
  }

  /** Step intent → query → ids → records, guidelines, meta-analyses and RCTs first, with the matching snippet. */
  async search(
    input: LiteratureQuery,
    signal: AbortSignal,
  ): Promise<{ data: LiteratureResult; version: string | null }> {
    const parsed = LiteratureQuery.safeParse(input);
    if (!parsed.success)
      throw new ToolError(
        'INVALID_INPUT',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        false,
      );
    const q = parsed.data;
    let query = buildPubmedQuery(q);
    let found = await this.esearch(query, Math.min(q.topK * 4, 100), signal);
    if (!found.ids.length && q.terms.length > 1) {
      // Nothing for the main concept with the others: widen to the main concept alone.
      query = buildPubmedQuery(q, new Date(), { mainOnly: true });
      found = await this.esearch(query, Math.min(q.topK * 4, 100), signal);
    }
    if (!found.ids.length && q.sinceYears !== null) {
      // Still nothing in the date window: any year (each citation shows its year; a reader judges its age).
      query = buildPubmedQuery({ ...q, sinceYears: null }, new Date(), { mainOnly: true });
      found = await this.esearch(query, Math.min(q.topK * 4, 100), signal);
    }
    const records = await this.efetch(found.ids, signal);
    const byId = new Map(records.map((r) => [r.pmid, r]));
    const ordered = found.ids.map((id) => byId.get(id)).filter((r): r is PubmedRecord => r !== undefined);
    const citations = rankCitations(ordered, q.terms).slice(0, q.topK);
    return { data: { query, citations }, version: this.o.sourceName ?? 'pubmed' };
  }

  async lookup(input: LiteratureLookup, signal: AbortSignal): Promise<{ data: Citation[]; version: string | null }> {
    const parsed = LiteratureLookup.safeParse(input);
    if (!parsed.success)
      throw new ToolError(
        'INVALID_INPUT',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        false,
      );
    const { pmids, about } = parsed.data;
    const byId = new Map((await this.efetch([...new Set(pmids)], signal)).map((r) => [r.pmid, r]));
    const data = pmids
      .map((id) => byId.get(id))
      .filter((r): r is PubmedRecord => r !== undefined)
      .map((r) => asCitation(r, about, evidenceLevel(r.publicationTypes, r.mesh)));
    return { data, version: this.o.sourceName ?? 'pubmed' };
  }
}

/**
 * Strongest evidence first (practice guideline, systematic review or meta-analysis, randomised
 * trial, cohort or case-control, case report, other); within a level the search engine's
 * relevance order is kept. Each citation carries its level and its supporting quote.
 */
export function rankCitations(records: readonly PubmedRecord[], terms: readonly string[]): Citation[] {
  return records
    .map((r, i) => ({ r, i, level: evidenceLevel(r.publicationTypes, r.mesh) }))
    .sort((a, b) => LEVEL_ORDER.indexOf(a.level) - LEVEL_ORDER.indexOf(b.level) || a.i - b.i)
    .map(({ r, level }) => asCitation(r, terms, level));
}

/** A record as a citation: its supporting quote for these terms, and its evidence level. */
function asCitation(r: PubmedRecord, terms: readonly string[], level: EvidenceLevel): Citation {
  const quote = supportingQuote(r, terms);
  return { ...r, snippet: quote?.text ?? null, quote, evidenceLevel: level };
}
