/**
 * Review decisions by case and revision: a Redis hash per case (`<prefix>:decisions:{<caseId>}`,
 * field `r<revision>`), written with HSETNX so the first recorded decision for a revision wins
 * and can never be replaced. The review queue records here before it hands the decision to the
 * case workers, so a crash in between cannot lose or duplicate it.
 */
import type { Redis } from 'ioredis';
import { DecisionRecord } from '../domain/review.js';
import { decisionsKey } from '../infra/redis-keys.js';

export class DecisionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  /** Record a decision unless one exists for the revision; returns the stored one either way. */
  async record(record: DecisionRecord): Promise<{ created: boolean; record: DecisionRecord }> {
    const key = decisionsKey(this.keyPrefix, record.caseId);
    const created =
      (await this.redis.hsetnx(key, `r${record.revision}`, JSON.stringify(DecisionRecord.parse(record)))) === 1;
    if (created) return { created, record };
    return { created, record: (await this.get(record.caseId, record.revision))! };
  }

  async get(caseId: string, revision: number): Promise<DecisionRecord | null> {
    const raw = await this.redis.hget(decisionsKey(this.keyPrefix, caseId), `r${revision}`);
    return raw === null ? null : DecisionRecord.parse(JSON.parse(raw));
  }

  /** Every decision of the case, by revision. */
  async list(caseId: string): Promise<DecisionRecord[]> {
    const all = await this.redis.hgetall(decisionsKey(this.keyPrefix, caseId));
    return Object.values(all)
      .map((raw) => DecisionRecord.parse(JSON.parse(raw)))
      .sort((a, b) => a.revision - b.revision);
  }
}
