/**
 * Browser sessions for staff: a random 32-byte token in an HttpOnly, SameSite=Strict cookie;
 * Redis keeps only its SHA-256 (`<prefix>:session:<sha256>`) with the account name, expiring
 * with the session. The CSRF token is HMAC-SHA256(session token, "csrf"): the server derives it
 * from the cookie, the page sends it back in a header or form field on every state change.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface Session {
  account: string;
  createdAt: string;
  expiresAt: string;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('csrf').digest('hex');
}

export function csrfMatches(sessionToken: string, presented: string | undefined): boolean {
  if (!presented || !/^[0-9a-f]{64}$/.test(presented)) return false;
  return timingSafeEqual(Buffer.from(csrfTokenFor(sessionToken), 'hex'), Buffer.from(presented, 'hex'));
}

export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    readonly ttlSeconds: number,
  ) {}

  private key(token: string) {
    return `${this.keyPrefix}:session:${sha256(token)}`;
  }

  async create(account: string): Promise<{ token: string; session: Session }> {
    const token = randomBytes(32).toString('base64url');
    const now = Date.now();
    const session: Session = {
      account,
      createdAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.ttlSeconds * 1000).toISOString(),
    };
    await this.redis.set(this.key(token), JSON.stringify(session), 'EX', this.ttlSeconds);
    return { token, session };
  }

  /** The live session for a cookie value, or null (unknown, expired or malformed). */
  async get(token: string | undefined): Promise<Session | null> {
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const raw = await this.redis.get(this.key(token));
    if (!raw) return null;
    const session = JSON.parse(raw) as Session;
    return Date.parse(session.expiresAt) > Date.now() ? session : null;
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
