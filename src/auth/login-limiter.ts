/**
 * Sign-in rate limiting: failed attempts per client address and account name in a fixed window,
 * counted in Redis (one counter for every API process and for both sign-in routes, the JSON API
 * and the review UI's form). Once the limit is reached, attempts are refused before any password
 * is checked, until the window ends.
 */
import type { Redis } from 'ioredis';

const INCR = `local n = redis.call('INCR', KEYS[1]) if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return {n, redis.call('PTTL', KEYS[1])}`;

export class LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    readonly max: number,
    readonly windowMs: number,
  ) {}

  private key(address: string, name: string) {
    return `{${this.keyPrefix}:ratelimit}:login:${address}:${name.trim().toLowerCase().slice(0, 64)}`;
  }

  /** Before checking a password: how long to wait when the limit is reached, else null. */
  async blocked(address: string, name: string): Promise<{ retryAfterMs: number } | null> {
    const key = this.key(address, name);
    const [count, ttl] = await Promise.all([this.redis.get(key), this.redis.pttl(key)]);
    return Number(count ?? 0) >= this.max ? { retryAfterMs: Math.max(ttl, 0) } : null;
  }

  /** Count a failed attempt. */
  async failed(address: string, name: string): Promise<void> {
    await this.redis.eval(INCR, 1, this.key(address, name), this.windowMs);
  }
}
