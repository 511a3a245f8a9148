/**
 * Starts one real redis-server for the whole test run when REDIS_URL is unset (free 127.0.0.1
 * port, data under .data/), and one real PostgreSQL when DATABASE_URL is unset (a fresh cluster
 * in a temporary folder); stops both afterwards. Suites isolate themselves with unique key
 * prefixes and thread ids, and delete what they wrote.
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { startLocalPostgres, type LocalPostgres } from '../src/infra/postgres-server.js';
import { startLocalRedis, type LocalRedis } from '../src/infra/redis-server.js';

let redis: LocalRedis | undefined;
let postgres: LocalPostgres | undefined;

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    databaseUrl: string;
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

  // A real PostgreSQL (Debian package) for the Postgres checkpointer suites, unless DATABASE_URL is set.
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    postgres = await startLocalPostgres();
    databaseUrl = postgres.url;
  }
  project.provide('databaseUrl', databaseUrl);
}

export async function teardown(): Promise<void> {
  await postgres?.stop();
  if (redis) {
    await redis.stop();
    rmSync(redis.dataDir, { recursive: true, force: true });
  }
}
