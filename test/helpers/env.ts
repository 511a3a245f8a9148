import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { stackEnv } from '../support/stack.js';

export const redisUrl = (): string => inject('redisUrl');
export const databaseUrl = (): string => inject('databaseUrl');

/** A unique key prefix per suite, so suites never see each other's queues or records. */
export function uniquePrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

export const TEST_TOKEN = 'test-service-token-0123456789abcdef';
export const OTHER_TOKEN = 'other-service-token-0123456789abcdef';

/** A suite's environment on the test Redis: two services (TEST_TOKEN, OTHER_TOKEN), its own prefix and data folder. */
export function testEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return stackEnv({
    redisUrl: redisUrl(),
    keyPrefix: prefix,
    dataDir: `.data/test-${prefix}`,
    services: { 'ehr-gateway': TEST_TOKEN, 'other-service': OTHER_TOKEN },
    // Literature from the shared corpus is on by default; suites that test it opt in.
    env: { NODE_ENV: 'test', LOG_LEVEL: 'silent', LITERATURE_LOCAL: 'off', ...extra },
  });
}

export function testConfig(prefix: string, extra: Record<string, string> = {}): Config {
  return loadConfig(testEnv(prefix, extra));
}

/** Delete every key a suite wrote under its prefix. */
export async function deletePrefix(prefix: string): Promise<number> {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 3 });
  let deleted = 0;
  try {
    for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) deleted += await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
  return deleted;
}

export async function waitUntil<T>(
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
