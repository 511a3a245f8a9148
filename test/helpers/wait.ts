/**
 * Waiting for the thing a test needs instead of for time: a BullMQ queue with no work left, or a
 * Redis key that has expired. Each polls with a deadline (waitUntil) and names what it waited for.
 */
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { waitUntil } from './env.js';

/** Until the queue has no job waiting, prioritized, delayed, or active (a stalled job counts until it is moved back). */
export async function waitForQueueIdle(queue: Queue, timeoutMs = 30_000, what = `the ${queue.name} queue to be idle`) {
  await waitUntil(
    async () => {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'waiting-children');
      return Object.values(counts).every((n) => n === 0);
    },
    timeoutMs,
    what,
  );
}

/** Until Redis no longer holds the key (it expired or was deleted). */
export async function waitForKeyGone(redis: Redis, key: string, timeoutMs = 15_000, what = `${key} to expire`) {
  await waitUntil(async () => (await redis.exists(key)) === 0, timeoutMs, what);
}
