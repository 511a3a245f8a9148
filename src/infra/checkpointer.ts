/**
 * The durable LangGraph checkpointer: SQLite under DATA_DIR by default (WAL, so several worker
 * processes on one machine can share it); Postgres when DATABASE_URL is set (workers on many
 * machines). Tables are created on first use.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import Database from 'better-sqlite3';
import type { Config } from '../config.js';

export interface Checkpointer {
  saver: BaseCheckpointSaver;
  kind: 'sqlite' | 'postgres';
  close(): Promise<void>;
}

export function openSqliteCheckpointer(file: string): Checkpointer {
  mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  return { saver: new SqliteSaver(db), kind: 'sqlite', close: () => Promise.resolve(void db.close()) };
}

export async function openPostgresCheckpointer(url: string): Promise<Checkpointer> {
  const saver = PostgresSaver.fromConnString(url);
  await saver.setup();
  return { saver, kind: 'postgres', close: () => saver.end() };
}

export function openCheckpointer(config: Config): Promise<Checkpointer> {
  if (config.database.url) return openPostgresCheckpointer(config.database.url);
  return Promise.resolve(openSqliteCheckpointer(path.join(config.dataDir, 'checkpoints.sqlite')));
}
