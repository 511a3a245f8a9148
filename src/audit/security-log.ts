/**
 * The security log: one hash-chained Redis Stream (see ./chain.ts) of sign-ins, failed and
 * rate-limited sign-ins, sign-outs, account changes and refused requests. Written by the API;
 * an append that fails fails the request, so no sign-in or admin change goes unrecorded.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SecurityEvent, type SecurityEntry } from '../domain/security-event.js';
import { securityAuditKeys } from '../infra/redis-keys.js';
import { ChainWriter, fromFields, toFields, type ChainBreak, type ChainKeys } from './chain.js';

/** The security log's name in hashes and the archive: `:` cannot start a case id, so it cannot collide with one. */
export const SECURITY_STREAM = ':security';

export class SecurityLog {
  private readonly chain: ChainWriter;
  readonly keys: ChainKeys;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    chainKey: string | null = null,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.chain = new ChainWriter(redis, chainKey);
    this.keys = { name: SECURITY_STREAM, ...securityAuditKeys(keyPrefix) };
  }

  async append(entry: SecurityEntry): Promise<string> {
    const fields = toFields({
      event: entry.event,
      actor: entry.actor,
      at: entry.at ?? this.now().toISOString(),
      address: entry.address ?? '',
      detail: JSON.stringify(entry.detail),
      actorType: entry.actorType,
    });
    return (await this.chain.append(this.keys, fields))!;
  }

  /** Append unless an entry with the same `throttle` key was appended in the last `seconds`; returns whether it wrote. */
  async appendThrottled(entry: SecurityEntry, throttle: string, seconds: number): Promise<boolean> {
    const key = `${this.keys.once}:${entry.event}:${createHash('sha256').update(throttle).digest('hex')}`;
    if ((await this.redis.set(key, '1', 'EX', seconds, 'NX')) === null) return false;
    await this.append(entry);
    return true;
  }

  /** Entries in order, after a stream id, at most `limit`. */
  async list(options: { after?: string; limit?: number } = {}): Promise<SecurityEvent[]> {
    const rows = await this.chain.read(this.keys, { limit: 1000, ...options });
    return rows.map((row) => {
      const f = fromFields(row.fields);
      return SecurityEvent.parse({
        id: row.id,
        event: f.event,
        actor: f.actor,
        ...(f.actorType ? { actorType: f.actorType } : {}),
        at: f.at,
        address: f.address || null,
        detail: JSON.parse(f.detail ?? '{}') as unknown,
        seq: row.seq,
        hash: row.hash,
      });
    });
  }

  verify(): Promise<{ entries: number; break: ChainBreak | null }> {
    return this.chain.verify(this.keys);
  }
}
