/**
 * The hash-chained audit on real Redis and a real SQLite records database: concurrent writers
 * keep one unbroken chain; deleting, forging or rewriting an entry is found and named; reads are
 * audited (staff every time, a polling service once per window); the export to the database
 * continues each chain, anchors it after Redis loses its data, and finds edits to either copy;
 * `npm run audit -- verify` exits 0 on a sound audit and 1 on a broken one.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditArchive } from '../../src/audit/archive.js';
import { openRecordsDatabase } from '../../src/records/database.js';
import { AuditLog, VIEW_WINDOW_SECONDS } from '../../src/audit/case-log.js';
import { chainHash } from '../../src/audit/chain.js';
import { SecurityLog } from '../../src/audit/security-log.js';
import type { SqlDatabase } from '../../src/infra/sql.js';
import { deletePrefix, redisUrl, testConfig, testEnv, uniquePrefix } from '../helpers/env.js';

const prefix = uniquePrefix();
const config = testConfig(prefix);
const KEY = config.audit.chainKey!;
let redis: Redis;
let db: SqlDatabase;
const sqlitePath = path.resolve(config.dataDir, 'records.sqlite');

beforeAll(async () => {
  redis = new Redis(redisUrl());
  db = await openRecordsDatabase({ sqlitePath });
});
afterAll(async () => {
  await db?.close();
  await redis?.quit();
  await deletePrefix(prefix);
  await rm(config.dataDir, { recursive: true, force: true });
});

const entry = (caseId: string, n: number) =>
  ({ caseId, event: 'step_finished', actor: 'system:test', revision: 1, detail: { n } }) as const;

describe('the chain in Redis', () => {
  it('stays one unbroken chain under concurrent writers on separate connections', async () => {
    const writers = Array.from({ length: 4 }, () => new Redis(redisUrl()));
    try {
      await Promise.all(
        writers.flatMap((w, i) =>
          Array.from({ length: 25 }, (_, j) => new AuditLog(w, prefix, KEY).append(entry('chain-par', i * 100 + j))),
        ),
      );
      const log = new AuditLog(redis, prefix, KEY);
      const events = await log.list('chain-par');
      expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(new Set(events.map((e) => e.detail.n)).size).toBe(100);
      expect(await log.verify('chain-par')).toEqual({ entries: 100, break: null });
    } finally {
      await Promise.all(writers.map((w) => w.quit()));
    }
  });

  it('writes a milestone once however often it is retried, inside the chain', async () => {
    const log = new AuditLog(redis, prefix, KEY);
    const closed = { caseId: 'chain-once', event: 'closed', actor: 'system:test', revision: 1, detail: {} } as const;
    expect(await log.appendOnce(closed)).not.toBeNull();
    expect(await log.appendOnce(closed)).toBeNull();
    await log.append(entry('chain-once', 1));
    expect((await log.list('chain-once')).map((e) => [e.event, e.seq])).toEqual([
      ['closed', 1],
      ['step_finished', 2],
    ]);
    expect((await log.verify('chain-once')).break).toBeNull();
  });

  it('names the first entry that was deleted, forged or rewritten', async () => {
    const log = new AuditLog(redis, prefix, KEY);
    const ids: string[] = [];
    for (const c of ['chain-del', 'chain-forge', 'chain-rewrite'])
      for (let n = 1; n <= 4; n++) ids.push(await log.append(entry(c, n)));

    // Deleted: the entry after the gap does not follow on.
    await redis.xdel(log.keys('chain-del').stream, ids[1]!);
    expect((await log.verify('chain-del')).break).toEqual({ seq: 3, id: ids[2], reason: 'sequence_gap' });

    // Forged: an entry added with XADD by something that is not the audit writer.
    await redis.xadd(
      log.keys('chain-forge').stream,
      '*',
      'event',
      'decided',
      'actor',
      'mallory',
      'at',
      'x',
      'revision',
      '1',
      'detail',
      '{}',
    );
    expect((await log.verify('chain-forge')).break).toMatchObject({ seq: null, reason: 'unchained' });

    // Rewritten: the whole stream rebuilt with a consistent plain SHA-256 chain and one changed
    // detail. Without AUDIT_CHAIN_KEY the forger cannot make the HMAC, so the first entry fails.
    const keys = log.keys('chain-rewrite');
    const original = await log.list('chain-rewrite');
    await redis.del(keys.stream, keys.head);
    let prev = '0'.repeat(64);
    for (const [i, e] of original.entries()) {
      const fields = [
        'event',
        e.event,
        'actor',
        e.actor,
        'at',
        e.at,
        'revision',
        '1',
        'detail',
        JSON.stringify(i === 2 ? { n: 99 } : e.detail),
        'actorType',
        'system',
      ];
      const hash = chainHash(null, 'chain-rewrite', i + 1, prev, fields);
      await redis.xadd(keys.stream, '*', ...fields, 'seq', String(i + 1), 'prev', prev, 'hash', hash);
      prev = hash;
    }
    await redis.set(keys.head, `${original.length} ${prev}`);
    expect((await log.verify('chain-rewrite')).break).toMatchObject({ seq: 1, reason: 'hash_mismatch' });
    // The same rebuild is found by a verifier without the key only if it differs from the archive (below).
    expect((await new AuditLog(redis, prefix, null).verify('chain-rewrite')).break).toBeNull();
  });

  it('audits reads: every staff view, a polling service once per window', async () => {
    const log = new AuditLog(redis, prefix, KEY);
    const service = { name: 'ehr-gateway', type: 'service' } as const;
    const reviewer = { name: 'dr-read', type: 'staff_session' } as const;
    expect(await log.viewed('chain-view', service, 'api:case')).toBe(true);
    expect(await log.viewed('chain-view', service, 'api:case')).toBe(false);
    expect(await log.viewed('chain-view', reviewer, 'review-ui:case', 1)).toBe(true);
    expect(await log.viewed('chain-view', reviewer, 'review-ui:case', 1)).toBe(true);
    const views = (await log.list('chain-view')).map((e) => [e.actor, e.actorType, e.detail.what]);
    expect(views).toEqual([
      ['ehr-gateway', 'service', 'api:case'],
      ['dr-read', 'staff_session', 'review-ui:case'],
      ['dr-read', 'staff_session', 'review-ui:case'],
    ]);
    const ttl = await redis.ttl(`${prefix}:viewed:{chain-view}:ehr-gateway`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(VIEW_WINDOW_SECONDS);
  });
});

describe('the durable copy', () => {
  it('exports incrementally, keeps the record when Redis loses it, and finds edits to either copy', async () => {
    const own = uniquePrefix();
    const ownDb = await openRecordsDatabase({ sqlitePath: path.resolve(config.dataDir, `records-${own}.sqlite`) });
    try {
      const log = new AuditLog(redis, own, KEY);
      const security = new SecurityLog(redis, own, KEY);
      const archive = new AuditArchive(redis, ownDb, own, KEY);
      for (let n = 1; n <= 3; n++) await log.append(entry('arc-1', n));
      await security.append({ event: 'sign_in', actor: 'dr-arc', address: '127.0.0.1', detail: {} });

      const first = await archive.export();
      expect(first.ok).toBe(true);
      expect(first.streams.map((s) => [s.stream, s.exported])).toEqual([
        [':security', 1],
        ['arc-1', 3],
      ]);
      await log.append(entry('arc-1', 4));
      const second = await archive.export();
      expect(second.streams.map((s) => s.exported)).toEqual([0, 1]);
      expect((await archive.export()).streams.map((s) => s.exported)).toEqual([0, 0]);

      // Redis loses the case's data (a flushed or restored-from-old-AOF instance): the database
      // still has all four entries, in an unbroken chain.
      await redis.del(log.keys('arc-1').stream, log.keys('arc-1').head);
      const lost = await archive.verify('arc-1');
      expect(lost.ok).toBe(true);
      expect(lost.streams[0]).toMatchObject({ redisEntries: 0, archivedEntries: 4, missingInRedis: 4 });
      // A fresh Redis chain for the same case does not continue the archived one: reported, not exported.
      await log.append(entry('arc-1', 5));
      const diverged = await archive.export('arc-1');
      expect(diverged.ok).toBe(false);
      expect(diverged.streams[0]!.break).toMatchObject({ where: 'between', seq: 1, reason: 'hash_mismatch' });
      expect(diverged.streams[0]!.archivedEntries).toBe(4);

      // An edit in the database is found in the archive's own chain.
      await ownDb.run(
        "UPDATE audit_entries SET fields = replace(fields, 'dr-arc', 'dr-other') WHERE stream = ':security'",
      );
      const edited = await archive.verify(':security');
      expect(edited.streams[0]!.break).toMatchObject({ where: 'archive', seq: 1, reason: 'hash_mismatch' });
    } finally {
      await ownDb.close();
      await deletePrefix(own);
    }
  });

  it('npm run audit -- verify: exit 0 when every chain holds, 1 naming the broken one', async () => {
    const own = uniquePrefix();
    const env = { ...process.env, ...testEnv(own, { DATA_DIR: path.resolve(config.dataDir, own) }) };
    const log = new AuditLog(redis, own, KEY);
    // The test config's key is derived from the prefix: use the script's own.
    const ownKey = testConfig(own).audit.chainKey;
    const ownLog = new AuditLog(redis, own, ownKey);
    try {
      for (let n = 1; n <= 3; n++) await ownLog.append(entry('cli-1', n));
      const run = (args: string[]) =>
        promisify(execFile)(path.resolve('node_modules/.bin/tsx'), ['scripts/audit.ts', ...args], { env }).then(
          (r) => ({ code: 0, out: r.stdout }),
          (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
        );
      const exported = await run(['export']);
      expect(exported.code).toBe(0);
      expect(exported.out).toMatch(/cli-1\tredis 3\tarchived 3\texported 3\tok/);
      const ok = await run(['verify', '--json']);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.out)).toMatchObject({ ok: true });
      await redis.xdel(log.keys('cli-1').stream, (await ownLog.list('cli-1'))[0]!.id);
      const broken = await run(['verify', '--case', 'cli-1']);
      expect(broken.code).toBe(1);
      expect(broken.out).toMatch(/cli-1\tredis 2\tarchived 3\tmissing in redis 1\tBROKEN redis seq 2: sequence_gap/);
    } finally {
      await deletePrefix(own);
    }
  });
});
