/**
 * Knowledge bases for tests: a fresh SQLite file, or a fresh database on the test run's real
 * PostgreSQL, seeded from the starter content (or not). Each is dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openKnowledgeBase } from '../../src/knowledge/open.js';
import type { KbSnapshot } from '../../src/knowledge/snapshot.js';
import type { KnowledgeBaseStore } from '../../src/knowledge/store.js';
import { databaseUrl } from './env.js';

export type Backend = 'sqlite' | 'postgres';

export interface TestKb {
  store: KnowledgeBaseStore;
  /** The database URL (Postgres) or file (SQLite) the store uses. */
  location: string;
  drop: () => Promise<void>;
}

/** A database of its own on the shared test PostgreSQL. */
export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `kbtest_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: databaseUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function openTestKb(backend: Backend, seed: string | null = 'starter'): Promise<TestKb> {
  if (backend === 'postgres') {
    const db = await createTestDatabase();
    const store = await openKnowledgeBase({ databaseUrl: db.url, sqlitePath: '', seed });
    return {
      store,
      location: db.url,
      drop: async () => {
        await store.close();
        await db.drop();
      },
    };
  }
  const dir = path.resolve('.data', `test-kb-${randomBytes(5).toString('hex')}`);
  const file = path.join(dir, 'kb.sqlite');
  const store = await openKnowledgeBase({ sqlitePath: file, seed });
  return {
    store,
    location: file,
    drop: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * For a test file: a starter-seeded SQLite knowledge base opened before the tests and dropped
 * after them. Returns getters, valid inside tests.
 */
export function useStarterKb(): { snapshot: () => KbSnapshot; kb: () => TestKb } {
  let kb: TestKb | undefined;
  let snap: KbSnapshot | undefined;
  beforeAll(async () => {
    kb = await openTestKb('sqlite');
    snap = await kb.store.snapshot();
  });
  afterAll(() => kb?.drop());
  return { snapshot: () => snap!, kb: () => kb! };
}
