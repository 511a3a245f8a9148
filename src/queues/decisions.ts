/**
 * Review decisions by case and revision: a Redis hash per case (`<prefix>:decisions:{<caseId>}`,
 * field `r<revision>`), written with HSETNX so the first recorded decision for a revision wins
 * and can never be replaced. The review queue records here (in the API, after authenticating the
 * reviewer) before it hands the decision to the case workers, so a crash in between cannot lose
 * or duplicate it.
 *
 * The recorded decision is the only one a case worker applies (never the decision a `resume` job
 * carries). With DECISION_SIGNING_KEY set, each record is stored with an HMAC-SHA256 over its
 * exact stored text, keyed by a secret the API and the workers hold and Redis does not: a
 * process that can write to Redis but does not hold the key cannot record a decision a worker
 * will apply (`verified` says why one is refused).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { DecisionRecord } from '../domain/review.js';
import { decisionsKey } from '../infra/redis-keys.js';

/** What is stored: the record's JSON text, and its signature when a key is configured. */
const Stored = z.object({ record: z.string(), sig: z.string().nullable() });

export type VerifiedDecision =
  | { ok: true; record: DecisionRecord; signed: boolean }
  | { ok: false; reason: 'not_recorded' | 'unsigned' | 'bad_signature' | 'malformed' };

export class DecisionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    /** DECISION_SIGNING_KEY: sign what is recorded, and accept only signed records. */
    private readonly signingKey: string | null = null,
  ) {}

  private sign(text: string): string | null {
    return this.signingKey ? createHmac('sha256', this.signingKey).update(text).digest('hex') : null;
  }

  private parse(raw: string): { record: DecisionRecord; text: string; sig: string | null } {
    const json: unknown = JSON.parse(raw);
    // Records stored before signing existed are the bare record.
    const stored = Stored.safeParse(json);
    const text = stored.success ? stored.data.record : raw;
    return { record: DecisionRecord.parse(JSON.parse(text)), text, sig: stored.success ? stored.data.sig : null };
  }

  /** Record a decision unless one exists for the revision; returns the stored one either way. */
  async record(record: DecisionRecord): Promise<{ created: boolean; record: DecisionRecord }> {
    const key = decisionsKey(this.keyPrefix, record.caseId);
    const text = JSON.stringify(DecisionRecord.parse(record));
    const created =
      (await this.redis.hsetnx(key, `r${record.revision}`, JSON.stringify({ record: text, sig: this.sign(text) }))) ===
      1;
    if (created) return { created, record };
    return { created, record: (await this.get(record.caseId, record.revision))! };
  }

  async get(caseId: string, revision: number): Promise<DecisionRecord | null> {
    const raw = await this.redis.hget(decisionsKey(this.keyPrefix, caseId), `r${revision}`);
    return raw === null ? null : this.parse(raw).record;
  }

  /**
   * The recorded decision as a case worker may apply it: present, well formed and, with a
   * signing key, signed with it.
   */
  async verified(caseId: string, revision: number): Promise<VerifiedDecision> {
    const raw = await this.redis.hget(decisionsKey(this.keyPrefix, caseId), `r${revision}`);
    if (raw === null) return { ok: false, reason: 'not_recorded' };
    let parsed;
    try {
      parsed = this.parse(raw);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (parsed.record.caseId !== caseId || parsed.record.revision !== revision)
      return { ok: false, reason: 'malformed' };
    if (!this.signingKey) return { ok: true, record: parsed.record, signed: false };
    if (!parsed.sig) return { ok: false, reason: 'unsigned' };
    const expected = Buffer.from(this.sign(parsed.text)!, 'hex');
    const given = Buffer.from(parsed.sig, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'bad_signature' };
    return { ok: true, record: parsed.record, signed: true };
  }

  /** Every decision of the case, by revision. */
  async list(caseId: string): Promise<DecisionRecord[]> {
    const all = await this.redis.hgetall(decisionsKey(this.keyPrefix, caseId));
    return Object.values(all)
      .map((raw) => this.parse(raw).record)
      .sort((a, b) => a.revision - b.revision);
  }
}
