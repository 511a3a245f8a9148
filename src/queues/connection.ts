import { CONNECTION_CLOSED_ERROR_MSG, ConnectionClosedError } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
// ioredis's own error classes; its package index exports only ReplyError (answers from the server).
import { MaxRetriesPerRequestError } from 'ioredis/built/errors/index.js';

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

/**
 * Whether `err` says Redis could not be reached, as opposed to a command Redis refused:
 *
 * - ioredis's MaxRetriesPerRequestError: a fail-fast connection (createFailFastRedis) gave up
 *   on a command while reconnecting. This is what request paths get while Redis is down.
 * - BullMQ's ConnectionClosedError, and ioredis's error for a command on a connection that has
 *   ended (after quit or disconnect). ioredis gives that one no class or code, only its
 *   CONNECTION_CLOSED_ERROR_MSG, which BullMQ exports and compares the same way: an exact
 *   constant, not a pattern.
 * - A socket that could not connect (`code` ECONNREFUSED).
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (err instanceof MaxRetriesPerRequestError || err instanceof ConnectionClosedError) return true;
  if (!(err instanceof Error)) return false;
  return err.message === CONNECTION_CLOSED_ERROR_MSG || (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
}
