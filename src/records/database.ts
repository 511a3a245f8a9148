/**
 * The records database: what must outlive Redis. SQLite `clinical-orchestrator.sqlite` under
 * DATA_DIR by default; Postgres at DATABASE_URL, the same database as the graph checkpoints.
 *
 *   audit_entries      the exported audit chains (src/audit/archive.ts)
 *   review_decisions   every human decision, first write wins (./decisions.ts)
 *   case_ledger        each case's intake, close and delivery (./case-ledger.ts)
 *
 * Redis holds the working copy (queues, case records, leases); after Redis loses data,
 * `npm run recover` rebuilds it from here and the checkpoints (workers/recovery.ts).
 */
import { openMigrated, type Migration, type SqlDatabase } from '../infra/sql.js';

const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'audit entries',
    sql: `CREATE TABLE audit_entries (
      stream TEXT NOT NULL,
      seq INTEGER NOT NULL,
      stream_id TEXT NOT NULL,
      fields TEXT NOT NULL,
      prev TEXT NOT NULL,
      hash TEXT NOT NULL,
      exported_at TEXT NOT NULL,
      PRIMARY KEY (stream, seq)
    )`,
  },
  {
    id: 2,
    name: 'review decisions',
    sql: `CREATE TABLE review_decisions (
      case_id TEXT NOT NULL,
      revision INTEGER NOT NULL,
      record TEXT NOT NULL,
      sig TEXT,
      recorded_at TEXT NOT NULL,
      PRIMARY KEY (case_id, revision)
    )`,
  },
  {
    id: 3,
    name: 'case ledger',
    sql: `CREATE TABLE case_ledger (
      case_id TEXT PRIMARY KEY,
      submitted_by TEXT NOT NULL,
      priority TEXT NOT NULL,
      input_digest TEXT NOT NULL,
      mode TEXT NOT NULL,
      callback_url TEXT,
      summary TEXT,
      created_at TEXT NOT NULL,
      status TEXT,
      revision INTEGER,
      plan TEXT,
      closed_reason TEXT,
      decided_by TEXT,
      decided_at TEXT,
      completed_at TEXT,
      delivery TEXT,
      updated_at TEXT NOT NULL
    )`,
  },
];

export type RecordsDatabase = SqlDatabase;

/** Open the records database and apply its migrations. */
export function openRecordsDatabase(options: {
  databaseUrl?: string | undefined;
  sqlitePath: string;
}): Promise<RecordsDatabase> {
  return openMigrated(options, 'records', MIGRATIONS);
}
