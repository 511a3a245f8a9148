/**
 * Open the knowledge base for a process: SQLite under the data folder by default, Postgres
 * when a database URL is given. Tables are created or migrated on open. An empty knowledge
 * base is seeded from the starter content (kb/starter), through the documented importer.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPostgres, openSqlite } from '../infra/sql.js';
import { importKnowledge } from './importer.js';
import { KnowledgeBaseStore, type ImportReport } from './store.js';

export const STARTER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../kb/starter');

export interface KnowledgeBaseOptions {
  databaseUrl?: string | undefined;
  sqlitePath: string;
  /** Folder or JSON file loaded when the knowledge base is empty (`starter` or undefined = kb/starter); null = never seed. */
  seed?: string | null;
  onSeed?: (report: ImportReport) => void;
}

export async function openKnowledgeBase(options: KnowledgeBaseOptions): Promise<KnowledgeBaseStore> {
  const db = options.databaseUrl ? openPostgres(options.databaseUrl) : openSqlite(options.sqlitePath);
  try {
    const store = await KnowledgeBaseStore.open(db);
    const seed = options.seed === undefined || options.seed === 'starter' ? STARTER_DIR : options.seed;
    if (seed && (await store.revision()) === 0) {
      // Two processes starting together: the importer's transaction serialises them and the second import changes nothing.
      const report = await importKnowledge(store, seed, { by: 'starter-content' });
      options.onSeed?.(report);
    }
    return store;
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
}
