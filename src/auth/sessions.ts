/**
 * Browser sessions for staff: a random 32-byte token in an HttpOnly, SameSite=Strict session
 * cookie (no Max-Age: it ends when the browser closes); Redis keeps only its SHA-256
 * (`<prefix>:session:<sha256>`) with the account name. The CSRF token is HMAC-SHA256(session
 * token, "csrf"): the server derives it from the cookie, the page sends it back in a header or
 * form field on every state change.
 *
 * A session ends at the first of: its absolute lifetime (`SESSION_TTL_SECONDS`), or
 * `SESSION_IDLE_SECONDS` without activity (HIPAA §164.312(a)(2)(iii), automatic logoff).
 * Activity is a request the person made: background requests (the review UI's lease renewal
 * and follow-up polling, marked `x-co-background: 1`) do not keep a session alive. The Redis key
 * expires with whichever comes first, so an idle session leaves nothing behind.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

const SessionRecord = z.object({
  account: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** The last activity; sessions written before idle timeouts existed count from their creation. */
  lastSeenAt: z.string().optional(),
});

export interface Session {
  account: string;
  createdAt: string;
  /** The absolute end. */
  expiresAt: string;
  lastSeenAt: string;
  /** When the session ends without further activity: the earlier of the idle and absolute ends. */
  idleExpiresAt: string;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('csrf').digest('hex');
}

export function csrfMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented || !/^[0-9a-f]{64}$/.test(presented)) return false;
  return timingSafeEqual(Buffer.from(csrfTokenFor(sessionToken), 'hex'), Buffer.from(presented, 'hex'));
}

export interface SessionTimes {
  /** Absolute lifetime. */
  ttlSeconds: number;
  /** Inactivity allowed; capped at the lifetime. */
  idleSeconds: number;
}

export class SessionStore {
  readonly ttlSeconds: number;
  readonly idleSeconds: number;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    times: SessionTimes,
    private readonly now: () => number = Date.now,
  ) {
    this.ttlSeconds = times.ttlSeconds;
    this.idleSeconds = Math.min(times.idleSeconds, times.ttlSeconds);
  }

  private key(token: string) {
    return `${this.keyPrefix}:session:${sha256(token)}`;
  }

  private view(record: z.infer<typeof SessionRecord>): Session {
    const lastSeenAt = record.lastSeenAt ?? record.createdAt;
    const idleEnd = Math.min(Date.parse(lastSeenAt) + this.idleSeconds * 1000, Date.parse(record.expiresAt));
    return { ...record, lastSeenAt, idleExpiresAt: new Date(idleEnd).toISOString() };
  }

  /** Seconds the Redis key should live from `at`: to the idle end or the absolute end, whichever is first. */
  private keySeconds(session: Session, at: number): number {
    return Math.max(1, Math.ceil((Date.parse(session.idleExpiresAt) - at) / 1000));
  }

  async create(account: string): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    const at = new Date(now).toISOString();
    const session = this.view({
      account,
      createdAt: at,
      expiresAt: new Date(now + this.ttlSeconds * 1000).toISOString(),
      lastSeenAt: at,
    });
    await this.redis.set(this.key(token), JSON.stringify(record(session)), 'EX', this.keySeconds(session, now));
    return { token, session };
  }

  /**
   * The live session for a cookie value, or null (unknown, expired, idle too long or malformed).
   * `activity` (the default) counts the request as the person's own and restarts the idle clock.
   */
  async get(token: string | undefined, options: { activity?: boolean } = {}): Promise<Session | null> {
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const key = this.key(token);
    const raw = await this.redis.get(key);
    if (!raw) return null;
    let parsed: z.infer<typeof SessionRecord>;
    try {
      parsed = SessionRecord.parse(JSON.parse(raw));
    } catch {
      return null;
    }
    const now = this.now();
    const session = this.view(parsed);
    if (Date.parse(session.idleExpiresAt) <= now) {
      await this.redis.del(key);
      return null;
    }
    if (options.activity === false) return session;
    const touched = this.view({ ...parsed, lastSeenAt: new Date(now).toISOString() });
    // XX: a session ended meanwhile (sign-out, password change) is not brought back.
    await this.redis.set(key, JSON.stringify(record(touched)), 'EX', this.keySeconds(touched, now), 'XX');
    return touched;
  }

  async destroy(token: string | undefined): Promise<void> {
    if (token) await this.redis.del(this.key(token));
  }

  /** End every session of an account (password change, disabling). */
  async destroyAll(account: string): Promise<number> {
    let cursor = '0';
    let removed = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.keyPrefix}:session:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const raw = await this.redis.get(key);
        if (raw && (JSON.parse(raw) as Session).account === account) removed += await this.redis.del(key);
      }
    } while (cursor !== '0');
    return removed;
  }
}

function record(session: Session): z.infer<typeof SessionRecord> {
  return {
    account: session.account,
    createdAt: session.createdAt,
    expiresAt: session.expiresAt,
    lastSeenAt: session.lastSeenAt,
  };
}
