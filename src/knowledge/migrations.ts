/**
 * Knowledge-base schema, identical on SQLite and Postgres (portable types; JSON kept as TEXT).
 * Applied on start by `migrate()`; add new migrations at the end, never edit applied ones.
 */
import type { Migration } from '../infra/sql.js';

/** The provenance and versioning columns entities and facts share (part of migration 1: never change). */
const VERSIONED = `  attrs TEXT NOT NULL,
  source TEXT NOT NULL,
  added_by TEXT NOT NULL,
  added_at TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  edit_id TEXT`;

export const KB_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'knowledge graph, history, edits, revision',
    sql: `
CREATE TABLE kb_entities (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  name TEXT NOT NULL,
${VERSIONED}
);
CREATE TABLE kb_facts (
  id TEXT PRIMARY KEY,
  relation TEXT NOT NULL,
  subject TEXT NOT NULL REFERENCES kb_entities (id),
  object TEXT REFERENCES kb_entities (id),
${VERSIONED}
);
CREATE INDEX kb_facts_subject ON kb_facts (subject, relation);
CREATE INDEX kb_facts_object ON kb_facts (object, relation);
CREATE INDEX kb_facts_status ON kb_facts (status);
CREATE TABLE kb_history (
  target_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  target_kind TEXT NOT NULL,
  change TEXT NOT NULL,
  record TEXT NOT NULL,
  changed_by TEXT NOT NULL,
  changed_at TEXT NOT NULL,
  edit_id TEXT,
  revision INTEGER NOT NULL,
  PRIMARY KEY (target_id, version)
);
CREATE TABLE kb_edits (
  id TEXT PRIMARY KEY,
  operation TEXT NOT NULL,
  reason TEXT NOT NULL,
  origin TEXT NOT NULL,
  status TEXT NOT NULL,
  base_version INTEGER,
  target_id TEXT NOT NULL,
  proposed_by TEXT NOT NULL,
  proposed_at TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  decision_comment TEXT
);
CREATE INDEX kb_edits_status ON kb_edits (status, proposed_at);
CREATE INDEX kb_edits_target ON kb_edits (target_id);
CREATE TABLE kb_revision (
  id INTEGER PRIMARY KEY,
  revision INTEGER NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO kb_revision (id, revision, updated_at) VALUES (1, 0, '1970-01-01T00:00:00.000Z');
CREATE TABLE kb_imports (
  id TEXT PRIMARY KEY,
  source TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  revision INTEGER NOT NULL,
  report TEXT NOT NULL
)`,
  },
  {
    id: 2,
    name: 'history by revision (incremental snapshots)',
    sql: 'CREATE INDEX kb_history_revision ON kb_history (revision)',
  },
];
