/**
 * The append-only audit log of a case: one hash-chained Redis Stream per case
 * (`<prefix>:audit:{<caseId>}`, see ./chain.ts), never trimmed or edited. Each entry names the
 * event, the actor (a service, a staff account or `system:<component>`) and how it
 * authenticated (`actorType`: service, staff_session, staff_token, system), the time, the
 * revision and details that are ids, codes, counts and staff names: never patient data.
 *
 * Every append either lands or throws: the caller's work fails with it (a worker's job is
 * retried, an API request answers 500), so nothing happens unaudited. Progress events (steps
 * started and finished) are at-least-once: a job that is redelivered after a crash may append
 * them again; readers see both, in order. Milestones (enqueued, review_enqueued, decided,
 * closed, delivered) are written with `appendOnce`: a marker and the entry in one script, so
 * the step that writes them can be retried after a crash without losing or doubling the event.
 *
 * Reads are audited too (`viewed`): every staff view of a case, and a service's reads at most
 * once per actor and case per VIEW_WINDOW_SECONDS, so polling does not flood the log.
 */
import type { Redis } from 'ioredis';
import { AuditEvent, type Actor, type AuditEntry } from '../domain/review.js';
import { auditHeadKey, auditKey, auditOnceKey, viewedKey } from '../infra/redis-keys.js';
import { ChainWriter, fromFields, toFields, type ChainBreak, type ChainKeys } from './chain.js';

/** A service's repeated reads of one case are audited once per this window. */
export const VIEW_WINDOW_SECONDS = 300;

const actorType = (entry: AuditEntry) => entry.actorType ?? (entry.actor.startsWith('system:') ? 'system' : undefined);

/** The marker that makes a milestone once per case: the event, per revision when it has one (`decided:r2`). */
export function onceKey(entry: { event: string; revision: number | null }): string {
  return entry.revision === null ? entry.event : `${entry.event}:r${entry.revision}`;
}

export class AuditLog {
  private readonly chain: ChainWriter;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    /** AUDIT_CHAIN_KEY: entries are chained with HMAC-SHA256 under it; null: SHA-256. */
    chainKey: string | null = null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.chain = new ChainWriter(redis, chainKey);
  }

  keys(caseId: string): ChainKeys {
    return {
      name: caseId,
      stream: auditKey(this.keyPrefix, caseId),
      head: auditHeadKey(this.keyPrefix, caseId),
      once: auditOnceKey(this.keyPrefix, caseId),
    };
  }

  private fields(entry: AuditEntry): string[] {
    return toFields({
      event: entry.event,
      actor: entry.actor,
      at: entry.at ?? this.now().toISOString(),
      revision: entry.revision === null ? '' : String(entry.revision),
      detail: JSON.stringify(entry.detail),
      actorType: actorType(entry),
    });
  }

  async append(entry: AuditEntry): Promise<string> {
    return (await this.chain.append(this.keys(entry.caseId), this.fields(entry)))!;
  }

  /**
   * Append a milestone once per case and `once` key (e.g. `closed`, `decided:r2`): a retry
   * after a crash writes it if it is missing and does nothing if it is there. Returns the
   * stream id, or null when it had been written before.
   */
  async appendOnce(entry: AuditEntry, once: string = onceKey(entry)): Promise<string | null> {
    return this.chain.append(this.keys(entry.caseId), this.fields(entry), once);
  }

  /**
   * Audit that `actor` read the case (`what`: the route or page). Staff views are written every
   * time; a service's at most once per VIEW_WINDOW_SECONDS per case. Returns whether it wrote.
   */
  async viewed(caseId: string, actor: Required<Actor>, what: string, revision: number | null = null): Promise<boolean> {
    if (actor.type === 'service') {
      const fresh = await this.redis.set(
        viewedKey(this.keyPrefix, caseId, actor.name),
        '1',
        'EX',
        VIEW_WINDOW_SECONDS,
        'NX',
      );
      if (fresh === null) return false;
    }
    await this.append({
      caseId,
      event: 'viewed',
      actor: actor.name,
      actorType: actor.type,
      revision,
      detail: { what },
    });
    return true;
  }

  /** The case's events in order, from the start or after a stream id. */
  async list(caseId: string, options: { after?: string; limit?: number } = {}): Promise<AuditEvent[]> {
    const rows = await this.chain.read(this.keys(caseId), { limit: 10_000, ...options });
    return rows.map((row) => {
      const f = fromFields(row.fields);
      return AuditEvent.parse({
        id: row.id,
        caseId,
        event: f.event,
        actor: f.actor,
        ...(f.actorType ? { actorType: f.actorType } : {}),
        at: f.at,
        revision: f.revision ? Number(f.revision) : null,
        detail: JSON.parse(f.detail ?? '{}') as unknown,
        ...(row.seq !== null && row.hash !== null ? { seq: row.seq, hash: row.hash } : {}),
      });
    });
  }

  /** Check the case's chain: entries counted, and the first break, or null. */
  verify(caseId: string): Promise<{ entries: number; break: ChainBreak | null }> {
    return this.chain.verify(this.keys(caseId));
  }
}
