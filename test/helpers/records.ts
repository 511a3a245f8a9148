/** The records database of a suite: SQLite under the suite's DATA_DIR (decisions, the case ledger, the audit archive). */
import type { Config } from '../../src/config.js';
import { openRecordsDatabase, type RecordsDatabase } from '../../src/records/database.js';

export function openTestRecords(config: Config): Promise<RecordsDatabase> {
  return openRecordsDatabase({ databaseUrl: undefined, sqlitePath: config.database.sqlitePath });
}
