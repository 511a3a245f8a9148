/**
 * Sign-in rate limiting, counted in Redis (one set of counters for every API process and for
 * both sign-in routes, the JSON API and the review UI's form), in fixed windows:
 *
 * - per client address and account name: `max` attempts (LOGIN_RATE_MAX);
 * - per account name, from any address: `perAccount` (LOGIN_RATE_MAX_PER_ACCOUNT), against
 *   guessing one account's password from many addresses;
 * - per client address, over any names: `perAddress` (LOGIN_RATE_MAX_PER_ADDRESS), against
 *   spraying one password over many account names.
 *
 * Every attempt is counted atomically (one script increments all three) **before** its password
 * is checked, so parallel guesses cannot all pass a check that has not yet seen the others; a
 * successful sign-in clears its address-and-name counter only. The client address is Fastify's
 * `request.ip`, which honours X-Forwarded-For only from the proxies TRUST_PROXY lists.
 */
import type { Redis } from 'ioredis';

// Increment each key (setting its window on first use); refuse when any is over its limit, and
// say how long until the longest-blocking window ends.
const ATTEMPT = `
local blockedFor = -1
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  if n > tonumber(ARGV[i + 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl > blockedFor then blockedFor = ttl end
  end
end
return blockedFor`;

export interface LoginLimits {
  /** Attempts per client address and account name in a window. */
  max: number;
  /** Attempts per account name from any address in a window. */
  perAccount: number;
  /** Attempts per client address over any account names in a window. */
  perAddress: number;
  windowMs: number;
}

export class LoginLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    readonly limits: LoginLimits,
  ) {}

  private keys(address: string, name: string): [string, string, string] {
    const base = `{${this.keyPrefix}:ratelimit}:login`;
    const account = name.trim().toLowerCase().slice(0, 64);
    return [`${base}:${address}:${account}`, `${base}:account:${account}`, `${base}:address:${address}`];
  }

  /** Count an attempt before its password is checked: null to go on, or how long to wait. */
  async attempt(address: string, name: string): Promise<{ retryAfterMs: number } | null> {
    const { max, perAccount, perAddress, windowMs } = this.limits;
    const blocked = Number(
      await this.redis.eval(ATTEMPT, 3, ...this.keys(address, name), windowMs, max, perAccount, perAddress),
    );
    return blocked >= 0 ? { retryAfterMs: blocked } : null;
  }

  /** A successful sign-in: its address-and-name counter starts again (the wider ones keep counting). */
  async succeeded(address: string, name: string): Promise<void> {
    await this.redis.del(this.keys(address, name)[0]);
  }
}
