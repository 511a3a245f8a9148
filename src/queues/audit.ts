/**
 * The append-only audit log of a case: one Redis Stream per case (`<prefix>:audit:{<caseId>}`),
 * written with XADD and never trimmed or edited. Each entry names the event, the actor (a
 * service, a staff account or `system:<component>`) and how it authenticated (`actorType`:
 * service, staff_session, staff_token, system), the time, the revision and details that
 * are ids, codes, counts and staff names: never patient data.
 *
 * Progress events (steps started and finished) are at-least-once: a job that is redelivered
 * after a crash may append them again; readers see both, in order. Milestones (enqueued,
 * review_enqueued, decided, closed, delivered) are written with `appendOnce`: a marker and the
 * stream entry in one Lua script, so the step that writes them can be retried after a crash
 * without losing or doubling the event.
 */
import type { Redis } from 'ioredis';
import { AuditEvent, type AuditEntry } from '../domain/review.js';
import { auditKey, auditOnceKey } from '../infra/redis-keys.js';

/** KEYS[1] the marker hash, KEYS[2] the stream; ARGV[1] the marker field, then the stream fields. Same hash slot. */
const APPEND_ONCE = `
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return false end
return redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
`;

const actorType = (entry: AuditEntry) => entry.actorType ?? (entry.actor.startsWith('system:') ? 'system' : undefined);

interface AuditScripts {
  coAuditOnce(marker: string, stream: string, field: string, ...fields: string[]): Promise<string | null>;
}

export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    // defineCommand runs the script by SHA (EVALSHA) and reloads it after a Redis restart.
    if (!('coAuditOnce' in redis)) redis.defineCommand('coAuditOnce', { numberOfKeys: 2, lua: APPEND_ONCE });
  }

  private fields(entry: AuditEntry): string[] {
    const type = actorType(entry);
    return [
      'event',
      entry.event,
      'actor',
      entry.actor,
      'at',
      entry.at ?? this.now().toISOString(),
      'revision',
      entry.revision === null ? '' : String(entry.revision),
      'detail',
      JSON.stringify(entry.detail),
      ...(type ? ['actorType', type] : []),
    ];
  }

  async append(entry: AuditEntry): Promise<string> {
    const id = await this.redis.xadd(auditKey(this.keyPrefix, entry.caseId), '*', ...this.fields(entry));
    return id!;
  }

  /**
   * Append a milestone once per case and `once` key (e.g. `closed`, `decided:r2`): a retry
   * after a crash writes it if it is missing and does nothing if it is there. Returns the
   * stream id, or null when it had been written before.
   */
  async appendOnce(
    entry: AuditEntry,
    once: string = entry.revision === null ? entry.event : `${entry.event}:r${entry.revision}`,
  ): Promise<string | null> {
    const scripts = this.redis as unknown as AuditScripts;
    return scripts.coAuditOnce(
      auditOnceKey(this.keyPrefix, entry.caseId),
      auditKey(this.keyPrefix, entry.caseId),
      once,
      ...this.fields(entry),
    );
  }

  /** Append without letting an audit failure fail the caller's work; the failure is reported. */
  async tryAppend(entry: AuditEntry, onError: (err: unknown) => void): Promise<void> {
    await this.append(entry).catch(onError);
  }

  /** The case's events in order, from the start or after a stream id. */
  async list(caseId: string, options: { after?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    const start = options.after ? `(${options.after}` : '-';
    const rows = await this.redis.xrange(
      auditKey(this.keyPrefix, caseId),
      start,
      '+',
      'COUNT',
      options.limit ?? 10_000,
    );
    return rows.map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return AuditEvent.parse({
        id,
        caseId,
        event: f.event,
        actor: f.actor,
        ...(f.actorType ? { actorType: f.actorType } : {}),
        at: f.at,
        revision: f.revision ? Number(f.revision) : null,
        detail: JSON.parse(f.detail ?? '{}') as unknown,
      });
    });
  }
}
