/**
 * A small SQL adapter over the two supported databases: SQLite (better-sqlite3, the embedded
 * default) and Postgres (pg, when DATABASE_URL is set). Statements are written once with `?`
 * placeholders and portable SQL; the Postgres side numbers the placeholders. Transactions are
 * serialised per process on SQLite (one connection) and use a pooled client on Postgres.
 * Migrations are numbered and applied once, under a lock on both backends.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface SqlExecutor {
  readonly kind: 'sqlite' | 'postgres';
  query<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Insert many rows of one shape: `INSERT INTO table (cols) VALUES (...), (...)`, in chunks. */
  insertMany(
    table: string,
    columns: readonly string[],
    rows: readonly SqlValue[][],
    onConflict?: string,
  ): Promise<void>;
}

export interface SqlDatabase extends SqlExecutor {
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

/** `?` → `$1, $2, …`, ignoring question marks inside single-quoted literals. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const ch of sql) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

const chunk = <T>(items: readonly T[], size: number): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
};

function insertSql(table: string, columns: readonly string[], rowCount: number, onConflict: string): string {
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rowCount }, () => tuple).join(', ')}${onConflict ? ` ${onConflict}` : ''}`;
}

/** Rows per multi-row INSERT: both backends cap bound parameters (SQLite 32766, Postgres 65535). */
const rowsPerInsert = (columns: number) => Math.max(1, Math.floor(30_000 / columns));

// ---------------------------------------------------------------------------------------------
// SQLite

class SqliteExecutor implements SqlExecutor {
  readonly kind = 'sqlite' as const;
  constructor(protected readonly db: Database.Database) {}

  query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return Promise.resolve(this.db.prepare(sql).all(...params) as T[]);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return Promise.resolve({ changes: this.db.prepare(sql).run(...params).changes });
  }

  insertMany(table: string, columns: readonly string[], rows: readonly SqlValue[][], onConflict = ''): Promise<void> {
    const size = rowsPerInsert(columns.length);
    const full = this.db.prepare(insertSql(table, columns, size, onConflict));
    for (const part of chunk(rows, size)) {
      const stmt = part.length === size ? full : this.db.prepare(insertSql(table, columns, part.length, onConflict));
      stmt.run(...part.flat());
    }
    return Promise.resolve();
  }
}

class SqliteDatabase extends SqliteExecutor implements SqlDatabase {
  /** better-sqlite3 has one connection: transactions in this process run one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private active = false;

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  override query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.active ? this.serialised(() => super.query<T>(sql, params)) : super.query<T>(sql, params);
  }

  override run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    return this.active ? this.serialised(() => super.run(sql, params)) : super.run(sql, params);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.serialised(async () => {
      this.active = true;
      this.db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(new SqliteExecutor(this.db));
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      } finally {
        this.active = false;
      }
    });
  }

  close(): Promise<void> {
    return this.queue.then(() => void this.db.close());
  }
}

export function openSqlite(file: string): SqlDatabase {
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return new SqliteDatabase(db);
}

// ---------------------------------------------------------------------------------------------
// Postgres

type Queryable = pg.Pool | pg.PoolClient;

class PostgresExecutor implements SqlExecutor {
  readonly kind = 'postgres' as const;
  constructor(protected readonly client: Queryable) {}

  async query<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const result = await this.client.query(numberPlaceholders(sql), params as SqlValue[]);
    return result.rows as T[];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const result = await this.client.query(numberPlaceholders(sql), params as SqlValue[]);
    return { changes: result.rowCount ?? 0 };
  }

  async insertMany(
    table: string,
    columns: readonly string[],
    rows: readonly SqlValue[][],
    onConflict = '',
  ): Promise<void> {
    for (const part of chunk(rows, rowsPerInsert(columns.length))) {
      await this.client.query(numberPlaceholders(insertSql(table, columns, part.length, onConflict)), part.flat());
    }
  }
}

class PostgresDatabase extends PostgresExecutor implements SqlDatabase {
  constructor(private readonly pool: pg.Pool) {
    super(pool);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(new PostgresExecutor(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

// BIGINT counts come back as strings by default; the values here stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function openPostgres(url: string, max = 10): SqlDatabase {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  return new PostgresDatabase(pool);
}

// ---------------------------------------------------------------------------------------------
// Migrations

/**
 * Apply the migrations not yet recorded in `<scope>_migrations`, in order, each in its own
 * transaction. Concurrent starters (several workers) are serialised: SQLite by BEGIN
 * IMMEDIATE, Postgres by a transaction-scoped advisory lock.
 */
export async function migrate(db: SqlDatabase, scope: string, migrations: readonly Migration[]): Promise<number[]> {
  const table = `${scope}_migrations`;
  await db
    .run(`CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
    .catch(async (err: unknown) => {
      // Two Postgres processes racing on CREATE TABLE IF NOT EXISTS can collide on the catalog.
      if (db.kind !== 'postgres') throw err;
      await db.query(`SELECT 1 FROM ${table} LIMIT 1`);
    });
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
    const done = await db.transaction(async (tx) => {
      if (tx.kind === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(hashtext(?))', [table]);
      const seen = await tx.query(`SELECT id FROM ${table} WHERE id = ?`, [m.id]);
      if (seen.length) return false;
      for (const statement of m.sql
        .split(/;\s*(?:\n|$)/)
        .map((s) => s.trim())
        .filter(Boolean))
        await tx.run(statement);
      await tx.run(`INSERT INTO ${table} (id, name, applied_at) VALUES (?, ?, ?)`, [
        m.id,
        m.name,
        new Date().toISOString(),
      ]);
      return true;
    });
    if (done) applied.push(m.id);
  }
  return applied;
}

/**
 * Open Postgres (when `databaseUrl` is set) or the SQLite file, and apply `scope`'s migrations;
 * the connection is closed again if they fail.
 */
export async function openMigrated(
  options: { databaseUrl?: string | undefined; sqlitePath: string },
  scope: string,
  migrations: readonly Migration[],
  poolSize = 4,
): Promise<SqlDatabase> {
  const db = options.databaseUrl ? openPostgres(options.databaseUrl, poolSize) : openSqlite(options.sqlitePath);
  try {
    await migrate(db, scope, migrations);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/** A column value as text: strings and numbers as they are, anything else as JSON (never "[object Object]"). */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return v === null || v === undefined ? '' : JSON.stringify(v);
}
