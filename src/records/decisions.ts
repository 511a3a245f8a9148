/**
 * Review decisions by case and revision, in the records database (`review_decisions`, see
 * ./database.ts): durable on disk (SQLite) or in the same Postgres as the graph checkpoints, so
 * losing Redis data cannot lose a decision or let a second, contrary one be recorded.
 *
 * First write wins: a revision's row is inserted once (`ON CONFLICT DO NOTHING`) and never
 * updated. The review queue records here (in the API, after authenticating the reviewer) before
 * it hands the decision to the case workers, so the decision is on disk before anything in
 * Redis says it exists; a crash in between cannot lose or duplicate it, and recovery after
 * Redis data loss re-issues the hand-over from here (workers/recovery.ts).
 *
 * The recorded decision is the only one a case worker applies (never the decision a `resume` job
 * carries). With DECISION_SIGNING_KEY set, each row holds an HMAC-SHA256 over its exact stored
 * text, keyed by a secret the API and the workers hold and neither Redis nor the database
 * does: a process that can write to Redis or to the table but does not hold the key cannot
 * record a decision a worker will apply (`verified` says why one is refused).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DecisionRecord } from '../domain/review.js';
import { text, type SqlDatabase } from '../infra/sql.js';

export type VerifiedDecision =
  | { ok: true; record: DecisionRecord; signed: boolean }
  | { ok: false; reason: 'not_recorded' | 'unsigned' | 'bad_signature' | 'malformed' };

interface Row {
  record: string;
  sig: string | null;
}

export class DecisionStore {
  constructor(
    private readonly db: SqlDatabase,
    /** DECISION_SIGNING_KEY: sign what is recorded, and accept only signed records. */
    private readonly signingKey: string | null = null,
  ) {}

  private sign(body: string): string | null {
    return this.signingKey ? createHmac('sha256', this.signingKey).update(body).digest('hex') : null;
  }

  private async row(caseId: string, revision: number): Promise<Row | null> {
    const [row] = await this.db.query('SELECT record, sig FROM review_decisions WHERE case_id = ? AND revision = ?', [
      caseId,
      revision,
    ]);
    return row ? { record: text(row.record), sig: row.sig === null ? null : text(row.sig) } : null;
  }

  /** Record a decision unless one exists for the revision; returns the stored one either way. */
  async record(record: DecisionRecord): Promise<{ created: boolean; record: DecisionRecord }> {
    const body = JSON.stringify(DecisionRecord.parse(record));
    const { changes } = await this.db.run(
      `INSERT INTO review_decisions (case_id, revision, record, sig, recorded_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (case_id, revision) DO NOTHING`,
      [record.caseId, record.revision, body, this.sign(body), record.recordedAt],
    );
    if (changes === 1) return { created: true, record };
    return { created: false, record: (await this.get(record.caseId, record.revision))! };
  }

  async get(caseId: string, revision: number): Promise<DecisionRecord | null> {
    const row = await this.row(caseId, revision);
    return row ? DecisionRecord.parse(JSON.parse(row.record)) : null;
  }

  /**
   * The recorded decision as a case worker may apply it: present, well formed and, with a
   * signing key, signed with it.
   */
  async verified(caseId: string, revision: number): Promise<VerifiedDecision> {
    const row = await this.row(caseId, revision);
    if (!row) return { ok: false, reason: 'not_recorded' };
    let record: DecisionRecord;
    try {
      record = DecisionRecord.parse(JSON.parse(row.record));
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (record.caseId !== caseId || record.revision !== revision) return { ok: false, reason: 'malformed' };
    if (!this.signingKey) return { ok: true, record, signed: false };
    if (!row.sig) return { ok: false, reason: 'unsigned' };
    const expected = Buffer.from(this.sign(row.record)!, 'hex');
    const given = Buffer.from(row.sig, 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'bad_signature' };
    return { ok: true, record, signed: true };
  }

  /** Every decision of the case, by revision. */
  async list(caseId: string): Promise<DecisionRecord[]> {
    const rows = await this.db.query('SELECT record FROM review_decisions WHERE case_id = ? ORDER BY revision', [
      caseId,
    ]);
    return rows.map((row) => DecisionRecord.parse(JSON.parse(text(row.record))));
  }
}
