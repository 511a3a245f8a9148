/**
 * Starts one real redis-server for the whole test run when REDIS_URL is unset, on a free
 * 127.0.0.1 port with its data under .data/, and stops it afterwards. Suites isolate
 * themselves with unique key prefixes and delete their keys when done.
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startLocalRedis, type LocalRedis } from '../src/infra/redis-server.js';

let redis: LocalRedis | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL;
  if (!url) {
    const dataDir = path.resolve('.data', `test-redis-${process.pid}`);
    redis = await startLocalRedis({ dataDir, appendonly: false });
    url = redis.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  if (redis) {
    await redis.stop();
    rmSync(redis.dataDir, { recursive: true, force: true });
  }
}
