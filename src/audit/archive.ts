/**
 * The durable copy of the audit: `co audit export` copies every chained stream (each case's
 * log and the security log) from Redis into the `audit_entries` table of the records database
 * (SQLite `clinical-orchestrator.sqlite` under DATA_DIR, or Postgres at DATABASE_URL), entry by
 * entry with its chain fields, and `co audit verify` checks both copies.
 *
 * Export is incremental and idempotent: a stream continues from the last exported entry, and
 * only when the Redis entries link to it; a stream whose Redis copy no longer continues the
 * exported one (rewritten, or lost and restarted) is reported `diverged` and not exported, so
 * the database keeps what it had.
 */
import type { Redis } from 'ioredis';
import { text, type SqlDatabase } from '../infra/sql.js';
import { auditKey } from '../infra/redis-keys.js';
import { ChainWriter, fromFields, verifyChain, type ChainBreak, type ChainEntry, type ChainKeys } from './chain.js';
import { AuditLog, onceKey } from './case-log.js';
import { SECURITY_STREAM, SecurityLog } from './security-log.js';

export interface StreamReport {
  stream: string;
  /** Entries in Redis. */
  redisEntries: number;
  /** Entries in the database after the run. */
  archivedEntries: number;
  exported: number;
  /** The first break in the Redis chain, or in the archived chain, or between them; null when all hold. */
  break: (ChainBreak & { where: 'redis' | 'archive' | 'between' }) | null;
  /** Archived entries that Redis no longer has (after Redis data loss, the database is the record). */
  missingInRedis: number;
}

/** What `restore` did to one stream. */
export interface RestoreReport {
  stream: string;
  /** Archived entries put back into Redis. */
  restored: number;
  /** Why nothing was put back although entries were missing: Redis holds entries the archive does not (it moved on), or a writer raced the restore. */
  skipped: 'diverged' | 'contended' | null;
}

export interface AuditReport {
  streams: StreamReport[];
  ok: boolean;
}

interface ArchivedRow {
  seq: number;
  stream_id: string;
  fields: string;
  prev: string;
  hash: string;
}

function fromArchive(row: ArchivedRow): ChainEntry {
  return {
    id: text(row.stream_id),
    fields: JSON.parse(text(row.fields)) as string[],
    seq: Number(row.seq),
    prev: text(row.prev),
    hash: text(row.hash),
  };
}

export class AuditArchive {
  private readonly chain: ChainWriter;

  constructor(
    private readonly redis: Redis,
    private readonly db: SqlDatabase,
    private readonly keyPrefix: string,
    private readonly chainKey: string | null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.chain = new ChainWriter(redis, chainKey);
  }

  /** Every chained stream in Redis and in the archive: the security log, then cases by id. */
  async streams(only?: string): Promise<ChainKeys[]> {
    const cases = new AuditLog(this.redis, this.keyPrefix, this.chainKey);
    const security = new SecurityLog(this.redis, this.keyPrefix, this.chainKey).keys;
    if (only !== undefined) return [only === security.name ? security : cases.keys(only)];
    const names = new Set<string>();
    // auditKey(prefix, '') is `<prefix>:audit:{}`: case streams are `<prefix>:audit:{<caseId>}`.
    const open = auditKey(this.keyPrefix, '').slice(0, -1);
    for await (const batch of this.redis.scanStream({ match: `${open}*}`, count: 500 }) as AsyncIterable<string[]>) {
      for (const key of batch) names.add(key.slice(open.length, -1));
    }
    for (const row of await this.db.query('SELECT DISTINCT stream FROM audit_entries')) names.add(text(row.stream));
    names.delete(security.name);
    return [security, ...[...names].sort().map((n) => cases.keys(n))];
  }

  private async archived(stream: string): Promise<ChainEntry[]> {
    const rows = await this.db.query<ArchivedRow & Record<string, unknown>>(
      'SELECT seq, stream_id, fields, prev, hash FROM audit_entries WHERE stream = ? ORDER BY seq',
      [stream],
    );
    return rows.map(fromArchive);
  }

  /** Compare one stream's two copies; with `write`, append the Redis entries that continue the archive. */
  private async check(keys: ChainKeys, write: boolean): Promise<StreamReport> {
    const redisEntries = await this.chain.read(keys);
    const head = await this.redis.get(keys.head);
    const archived = await this.archived(keys.name);
    const report: StreamReport = {
      stream: keys.name,
      redisEntries: redisEntries.length,
      archivedEntries: archived.length,
      exported: 0,
      break: null,
      missingInRedis: 0,
    };
    const archiveBreak = verifyChain(this.chainKey, keys.name, archived);
    if (archiveBreak) report.break = { ...archiveBreak, where: 'archive' };
    const redisBreak = redisEntries.length ? verifyChain(this.chainKey, keys.name, redisEntries, { head }) : null;
    if (!report.break && redisBreak) report.break = { ...redisBreak, where: 'redis' };

    const bySeq = new Map(redisEntries.map((e) => [e.seq, e]));
    for (const a of archived) {
      const r = bySeq.get(a.seq);
      if (!r) report.missingInRedis++;
      else if (!report.break && r.hash !== a.hash)
        report.break = { seq: a.seq, id: r.id, reason: 'hash_mismatch', where: 'between' };
    }
    if (report.break || !write) return report;

    const last = archived.at(-1);
    const fresh = redisEntries.filter((e) => e.seq! > (last?.seq ?? 0));
    if (fresh.length === 0) return report;
    // The entries to add must continue the archived chain (a Redis that lost data and started over does not).
    const link = verifyChain(
      this.chainKey,
      keys.name,
      fresh,
      last ? { from: { seq: last.seq!, hash: last.hash! } } : {},
    );
    if (link) {
      report.break = { ...link, where: 'between' };
      return report;
    }
    const at = this.now().toISOString();
    await this.db.insertMany(
      'audit_entries',
      ['stream', 'seq', 'stream_id', 'fields', 'prev', 'hash', 'exported_at'],
      fresh.map((e) => [keys.name, e.seq!, e.id, JSON.stringify(e.fields), e.prev!, e.hash!, at]),
      'ON CONFLICT (stream, seq) DO NOTHING',
    );
    report.exported = fresh.length;
    report.archivedEntries += fresh.length;
    return report;
  }

  /** Copy what is new into the database (streams whose copies disagree are reported, not copied). */
  async export(only?: string, onStream?: (r: StreamReport) => void): Promise<AuditReport> {
    return this.run(true, only, onStream);
  }

  /** Check every chain in Redis and in the database, and that the two agree. */
  async verify(only?: string, onStream?: (r: StreamReport) => void): Promise<AuditReport> {
    return this.run(false, only, onStream);
  }

  /**
   * After Redis lost data: put back the archived entries a stream is missing, with their ids
   * and chain fields (and the milestone markers they set), so the chain in Redis is whole again
   * and verifies. Only where the two copies agree on the entries they both hold; a stream that
   * moved on without the archived entries is reported `diverged` and left alone. Entries written after the last
   * export are not in the archive and cannot come back.
   */
  async restore(only?: string, onStream?: (r: RestoreReport) => void): Promise<RestoreReport[]> {
    const reports: RestoreReport[] = [];
    for (const keys of await this.streams(only)) {
      const archived = await this.archived(keys.name);
      if (archived.length === 0) continue;
      const inRedis = await this.chain.read(keys);
      const head = (await this.redis.get(keys.head)) ?? '';
      const lastInRedis = inRedis.at(-1);
      // The two agree on what they both hold (Redis may also hold entries not yet exported).
      const agree =
        inRedis.slice(0, archived.length).every((e, i) => e.seq === archived[i]!.seq && e.hash === archived[i]!.hash) &&
        head === (lastInRedis ? `${lastInRedis.seq} ${lastInRedis.hash}` : '');
      const missing = archived.slice(inRedis.length);
      const report: RestoreReport = { stream: keys.name, restored: 0, skipped: null };
      if (!agree) report.skipped = 'diverged';
      else if (missing.length > 0) {
        const markers =
          keys.name === SECURITY_STREAM
            ? []
            : missing.map((e) => {
                const f = fromFields(e.fields);
                return onceKey({ event: f.event ?? '', revision: f.revision ? Number(f.revision) : null });
              });
        if (await this.chain.restore(keys, head, missing, markers)) report.restored = missing.length;
        else report.skipped = 'contended';
      }
      reports.push(report);
      onStream?.(report);
    }
    return reports;
  }

  private async run(write: boolean, only: string | undefined, onStream?: (r: StreamReport) => void) {
    const streams: StreamReport[] = [];
    for (const keys of await this.streams(only)) {
      const report = await this.check(keys, write);
      streams.push(report);
      onStream?.(report);
    }
    return { streams, ok: streams.every((s) => s.break === null) };
  }
}
