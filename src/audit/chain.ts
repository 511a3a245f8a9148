/**
 * A hash-chained, append-only Redis Stream: the storage under the case audit logs and the
 * security log.
 *
 * Each entry carries `seq` (1, 2, 3, … within the stream), `prev` (the previous entry's hash,
 * or 64 zeros for the first) and `hash`: SHA-256, or HMAC-SHA256 when AUDIT_CHAIN_KEY is set,
 * over the stream's name, the sequence number, `prev` and the entry's fields exactly as stored.
 * Editing, removing, reordering or moving an entry to another stream breaks the chain at that
 * point, and `verifyChain` names where. Without the key, a process that can write to Redis can
 * rebuild a consistent chain from scratch; with it, it cannot, and the copy exported to the
 * database (src/audit/archive.ts) anchors what was there before.
 *
 * The chain head (`<seq> <hash>`) lives in its own key, in the stream's hash slot. An append
 * reads the head, computes the next hash and writes the entry and the new head in one Lua
 * script only if the head is still the one it read (compare-and-set); concurrent writers
 * retry. A `once` marker (a field of a hash, also in the slot) makes a milestone write
 * idempotent in the same script.
 */
import { createHash, createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.js';

export const GENESIS = '0'.repeat(64);

/** The keys of one chained stream; all in one Redis Cluster hash slot. */
export interface ChainKeys {
  /** The name bound into every hash (the case id, or `security`). */
  readonly name: string;
  readonly stream: string;
  readonly head: string;
  /** The hash of written `once` markers. */
  readonly once: string;
}

/** KEYS: head, stream, once. ARGV: expected head ('' none), new head, once field ('' none), stream fields… */
const APPEND = `
if ARGV[3] ~= '' and redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then return false end
local head = redis.call('GET', KEYS[1]) or ''
if head ~= ARGV[1] then return 0 end
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 4))
redis.call('SET', KEYS[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[3], ARGV[3], '1') end
return id
`;

/**
 * KEYS: head, stream, once. ARGV: expected head ('' none), new head, entries as JSON
 * [{id, f: [fields…]}], once markers as JSON [names]. Writes the entries with their own ids.
 */
const RESTORE = `
local head = redis.call('GET', KEYS[1]) or ''
if head ~= ARGV[1] then return 0 end
for _, e in ipairs(cjson.decode(ARGV[3])) do redis.call('XADD', KEYS[2], e.id, unpack(e.f)) end
redis.call('SET', KEYS[1], ARGV[2])
for _, m in ipairs(cjson.decode(ARGV[4])) do redis.call('HSET', KEYS[3], m, '1') end
return 1
`;

interface ChainScripts {
  coChainAppend(head: string, stream: string, once: string, ...args: string[]): Promise<string | number | null>;
  coChainRestore(head: string, stream: string, once: string, ...args: string[]): Promise<number>;
}

/** Fields every chained entry carries, after its own. */
export const CHAIN_FIELDS = ['seq', 'prev', 'hash'] as const;

export class AuditChainError extends AppError {
  constructor(message: string) {
    super('AUDIT_WRITE_CONTENDED', message, true);
  }
}

export function chainHash(key: string | null, name: string, seq: number, prev: string, fields: readonly string[]) {
  const text = JSON.stringify([name, seq, prev, ...fields]);
  return (key ? createHmac('sha256', key) : createHash('sha256')).update(text).digest('hex');
}

/**
 * An entry's own fields as stream name/value pairs, in the record's key order; `undefined`
 * values are left out (an optional field such as `actorType` is absent, not empty).
 */
export function toFields(record: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(record).flatMap(([name, value]) => (value === undefined ? [] : [name, value]));
}

/** The inverse of toFields: name/value pairs back into a record. */
export function fromFields(fields: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) record[fields[i]!] = fields[i + 1] ?? '';
  return record;
}

/** One stored entry: its stream id, its own fields (name/value pairs, in order) and the chain fields. */
export interface ChainEntry {
  id: string;
  fields: string[];
  seq: number | null;
  prev: string | null;
  hash: string | null;
}

export function parseEntry(id: string, raw: readonly string[]): ChainEntry {
  const fields: string[] = [];
  let seq: number | null = null;
  let prev: string | null = null;
  let hash: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1] ?? '';
    if (name === 'seq') seq = Number(value);
    else if (name === 'prev') prev = value;
    else if (name === 'hash') hash = value;
    else fields.push(name, value);
  }
  return { id, fields, seq, prev, hash };
}

/** The first break in a chain, where it is and why; null when the chain holds. */
export interface ChainBreak {
  seq: number | null;
  id: string | null;
  reason: 'unchained' | 'sequence_gap' | 'prev_mismatch' | 'hash_mismatch' | 'head_mismatch';
}

/**
 * Check entries in order: each is chained, numbered one after the previous, links to its hash,
 * and its hash is right. `from` continues a chain whose earlier part was checked elsewhere
 * (the last seq and hash before `entries`); `head` is the stored head to compare the end with.
 */
export function verifyChain(
  key: string | null,
  name: string,
  entries: readonly ChainEntry[],
  options: { from?: { seq: number; hash: string }; head?: string | null } = {},
): ChainBreak | null {
  let seq = options.from?.seq ?? 0;
  let prev = options.from?.hash ?? GENESIS;
  for (const e of entries) {
    if (e.seq === null || e.prev === null || e.hash === null) return { seq: e.seq, id: e.id, reason: 'unchained' };
    if (e.seq !== seq + 1) return { seq: e.seq, id: e.id, reason: 'sequence_gap' };
    if (e.prev !== prev) return { seq: e.seq, id: e.id, reason: 'prev_mismatch' };
    if (chainHash(key, name, e.seq, e.prev, e.fields) !== e.hash)
      return { seq: e.seq, id: e.id, reason: 'hash_mismatch' };
    seq = e.seq;
    prev = e.hash;
  }
  if (options.head !== undefined) {
    const expected = seq === 0 ? null : `${seq} ${prev}`;
    if ((options.head ?? null) !== expected) return { seq, id: null, reason: 'head_mismatch' };
  }
  return null;
}

/** Writers racing on one stream retry this often before the append fails (then the caller's work fails and is retried). */
const MAX_ATTEMPTS = 64;

export class ChainWriter {
  private readonly scripts: ChainScripts;

  constructor(
    private readonly redis: Redis,
    /** AUDIT_CHAIN_KEY, or null for plain SHA-256. */
    private readonly key: string | null,
  ) {
    // defineCommand runs the script by SHA (EVALSHA) and reloads it after a Redis restart.
    if (!('coChainAppend' in redis)) redis.defineCommand('coChainAppend', { numberOfKeys: 3, lua: APPEND });
    if (!('coChainRestore' in redis)) redis.defineCommand('coChainRestore', { numberOfKeys: 3, lua: RESTORE });
    this.scripts = redis as unknown as ChainScripts;
  }

  /** Append `fields`; with `once`, only if that marker is not yet written (returns null then). */
  async append(keys: ChainKeys, fields: readonly string[], once = ''): Promise<string | null> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const head = (await this.redis.get(keys.head)) ?? '';
      const [seqText, prevHash] = head ? head.split(' ') : ['0', GENESIS];
      const seq = Number(seqText) + 1;
      const prev = prevHash ?? GENESIS;
      const hash = chainHash(this.key, keys.name, seq, prev, fields);
      const result = await this.scripts.coChainAppend(
        keys.head,
        keys.stream,
        keys.once,
        head,
        `${seq} ${hash}`,
        once,
        ...fields,
        'seq',
        String(seq),
        'prev',
        prev,
        'hash',
        hash,
      );
      if (result === null) return null;
      if (typeof result === 'string') return result;
    }
    throw new AuditChainError(`audit stream ${keys.name}: ${MAX_ATTEMPTS} concurrent appends in a row, giving up`);
  }

  /**
   * Put back entries that continue the stream (from the archive, after Redis lost them), with
   * their own ids and chain fields, and the once markers they had set; only if the head is still
   * `expectedHead` ('' for none). Returns whether it wrote.
   */
  async restore(
    keys: ChainKeys,
    expectedHead: string,
    entries: readonly ChainEntry[],
    onceMarkers: readonly string[],
  ): Promise<boolean> {
    const last = entries.at(-1);
    if (!last) return false;
    const rows = entries.map((e) => ({
      id: e.id,
      f: [...e.fields, 'seq', String(e.seq), 'prev', e.prev ?? GENESIS, 'hash', e.hash ?? ''],
    }));
    const result = await this.scripts.coChainRestore(
      keys.head,
      keys.stream,
      keys.once,
      expectedHead,
      `${last.seq} ${last.hash}`,
      JSON.stringify(rows),
      JSON.stringify(onceMarkers),
    );
    return result === 1;
  }

  /** Every entry of the stream, in order, parsed; pages through long streams. */
  async read(keys: ChainKeys, options: { after?: string; limit?: number } = {}): Promise<ChainEntry[]> {
    const limit = options.limit ?? Infinity;
    const out: ChainEntry[] = [];
    let start = options.after ? `(${options.after}` : '-';
    while (out.length < limit) {
      const page = Math.min(1000, limit - out.length);
      const rows = await this.redis.xrange(keys.stream, start, '+', 'COUNT', page);
      for (const [id, raw] of rows) out.push(parseEntry(id, raw));
      if (rows.length < page) break;
      start = `(${rows.at(-1)![0]}`;
    }
    return out;
  }

  async verify(keys: ChainKeys): Promise<{ entries: number; break: ChainBreak | null }> {
    const entries = await this.read(keys);
    const head = await this.redis.get(keys.head);
    return { entries: entries.length, break: verifyChain(this.key, keys.name, entries, { head }) };
  }
}
