/**
 * The append-only audit log of a case: one Redis Stream per case (`<prefix>:audit:{<caseId>}`),
 * written with XADD and never trimmed or edited. Each entry names the event, the actor (a
 * service, a staff account or `system:<component>`), the time, the revision and details that
 * are ids, codes, counts and staff names: never patient data.
 *
 * Appends are at-least-once: a job that is redelivered after a crash may append an event again;
 * readers see both, in order.
 */
import type { Redis } from 'ioredis';
import { AuditEvent, type AuditEntry } from '../domain/review.js';
import { auditKey } from './names.js';

export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async append(entry: AuditEntry): Promise<string> {
    const id = await this.redis.xadd(
      auditKey(this.keyPrefix, entry.caseId),
      '*',
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
    );
    return id!;
  }

  /** Append without letting an audit failure fail the caller's work; the failure is reported. */
  async tryAppend(entry: AuditEntry, onError: (err: unknown) => void): Promise<void> {
    await this.append(entry).catch(onError);
  }

  /** The case's events in order, from the start or after a stream id. */
  async list(caseId: string, options: { after?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    const start = options.after ? `(${options.after}` : '-';
    const rows = await this.redis.xrange(auditKey(this.keyPrefix, caseId), start, '+', 'COUNT', options.limit ?? 10_000);
    return rows.map(([id, fields]) => {
      const f: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      return AuditEvent.parse({ id, caseId, event: f.event, actor: f.actor, at: f.at, revision: f.revision ? Number(f.revision) : null, detail: JSON.parse(f.detail ?? '{}') as unknown });
    });
  }
}
