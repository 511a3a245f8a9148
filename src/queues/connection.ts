import { Redis, type RedisOptions } from 'ioredis';

/**
 * A Redis connection suitable for BullMQ. `maxRetriesPerRequest: null` is what BullMQ
 * workers require (blocking commands must wait out a reconnect, not fail); reconnection
 * backs off up to 2 s and never gives up, so a Redis restart needs no manual action.
 */
export function createRedis(url: string, name: string, overrides: RedisOptions = {}): Redis {
  return new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    ...overrides,
  });
}

/**
 * A connection for request paths (HTTP intake, readiness): a command fails after one
 * reconnection attempt instead of waiting for Redis to return, so callers get a 503 rather
 * than a hung request.
 */
export function createFailFastRedis(url: string, name: string): Redis {
  return createRedis(url, name, { maxRetriesPerRequest: 1 });
}

/** Resolves once the connection is ready (or rejects after `timeoutMs`). */
export async function waitForRedis(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}
