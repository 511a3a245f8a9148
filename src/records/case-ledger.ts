/**
 * The case ledger (`case_ledger` in the records database, see ./database.ts): the durable part
 * of each case record. A row is written when a worker first starts the case (who submitted it,
 * priority, input digest, mode, callback URL), completed when the case closes (status,
 * revision, the approved plan, the decision behind it) and when its result is delivered.
 *
 * The Redis case record stays the working copy that the API and the workers read; the ledger is
 * written before the Redis record moves at each of those points (write-ahead), so after Redis
 * loses data the ledger and the graph checkpoints say where every case had got to and
 * `npm run recover` rebuilds the Redis records from them. Like the Redis record, it holds ids,
 * states and the reviewed plan, never the raw submission.
 */
import { z } from 'zod';
import { CaseStatus } from '../domain/case-status.js';
import { CasePriority, CaseSummaryCounts, DeliveryState } from '../domain/case.js';
import { text, type SqlDatabase, type SqlValue } from '../infra/sql.js';

const nullableText = z.unknown().transform((v) => (v === null || v === undefined ? null : text(v)));
const jsonText = <T extends z.ZodType>(schema: T) =>
  z
    .unknown()
    .transform((v) => (v === null || v === undefined ? null : (JSON.parse(text(v)) as unknown)))
    .pipe(schema.nullable());

/** A ledger row, parsed. */
export const LedgerEntry = z.object({
  caseId: z.unknown().transform(text),
  submittedBy: z.unknown().transform(text),
  priority: z.unknown().transform(text).pipe(CasePriority),
  inputDigest: z.unknown().transform(text),
  mode: z
    .unknown()
    .transform(text)
    .pipe(z.enum(['knowledge-driven', 'llm'])),
  callbackUrl: nullableText,
  /** What the submission held, in counts (no PHI); null when the intake row was written without it. */
  summary: jsonText(CaseSummaryCounts),
  createdAt: z.unknown().transform(text),
  /** Set when the case closed: approved, rejected or escalated. */
  status: nullableText.pipe(CaseStatus.nullable()),
  revision: z.unknown().transform((v) => (v === null || v === undefined ? null : Number(v))),
  plan: jsonText(z.unknown()),
  closedReason: nullableText,
  decidedBy: nullableText,
  decidedAt: nullableText,
  completedAt: nullableText,
  delivery: jsonText(DeliveryState),
  updatedAt: z.unknown().transform(text),
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

const COLUMNS = `case_id AS "caseId", submitted_by AS "submittedBy", priority, input_digest AS "inputDigest", mode,
  callback_url AS "callbackUrl", summary, created_at AS "createdAt", status, revision, plan, closed_reason AS "closedReason",
  decided_by AS "decidedBy", decided_at AS "decidedAt", completed_at AS "completedAt", delivery, updated_at AS "updatedAt"`;

export interface LedgerIntake {
  caseId: string;
  submittedBy: string;
  priority: string;
  inputDigest: string;
  mode: string;
  callbackUrl: string | null;
  createdAt: string;
  summary?: z.infer<typeof CaseSummaryCounts> | null;
}

/** The intake of a Redis case record. */
export function intakeOf(record: LedgerIntake): LedgerIntake {
  const { caseId, submittedBy, priority, inputDigest, mode, callbackUrl, createdAt, summary } = record;
  return { caseId, submittedBy, priority, inputDigest, mode, callbackUrl, createdAt, summary: summary ?? null };
}

export interface LedgerClose {
  status: 'approved' | 'rejected' | 'escalated';
  revision: number;
  plan: unknown;
  closedReason: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  completedAt: string;
  delivery: DeliveryState;
}

export class CaseLedger {
  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The case's intake, once (a restarted job writes nothing new). */
  async recordIntake(c: LedgerIntake): Promise<void> {
    await this.db.run(
      `INSERT INTO case_ledger (case_id, submitted_by, priority, input_digest, mode, callback_url, summary, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (case_id) DO NOTHING`,
      [
        c.caseId,
        c.submittedBy,
        c.priority,
        c.inputDigest,
        c.mode,
        c.callbackUrl,
        c.summary ? JSON.stringify(c.summary) : null,
        c.createdAt,
        c.createdAt,
      ],
    );
  }

  /** The case closed. Written again after a crash, it writes the same values (the graph's outcome is fixed). */
  async recordClose(caseId: string, c: LedgerClose): Promise<void> {
    const params: SqlValue[] = [
      c.status,
      c.revision,
      c.status === 'approved' ? JSON.stringify(c.plan ?? null) : null,
      c.closedReason,
      c.decidedBy,
      c.decidedAt,
      c.completedAt,
      JSON.stringify(c.delivery),
      this.now().toISOString(),
      caseId,
    ];
    // The delivery state is kept when the close is written again after the case was delivered.
    const { changes } = await this.db.run(
      `UPDATE case_ledger SET status = ?, revision = ?, plan = ?, closed_reason = ?, decided_by = ?, decided_at = ?,
         completed_at = COALESCE(completed_at, ?), delivery = COALESCE(delivery, ?), updated_at = ? WHERE case_id = ?`,
      params,
    );
    if (changes === 0) throw new Error(`case ${caseId} has no ledger row to close`);
  }

  /** A delivery attempt's outcome for the closed revision. */
  async recordDelivery(caseId: string, revision: number, delivery: DeliveryState): Promise<void> {
    await this.db.run('UPDATE case_ledger SET delivery = ?, updated_at = ? WHERE case_id = ? AND revision = ?', [
      JSON.stringify(delivery),
      this.now().toISOString(),
      caseId,
      revision,
    ]);
  }

  async get(caseId: string): Promise<LedgerEntry | null> {
    const [row] = await this.db.query(`SELECT ${COLUMNS} FROM case_ledger WHERE case_id = ?`, [caseId]);
    return row ? LedgerEntry.parse(row) : null;
  }

  /** Rows in case-id order after `after`, at most `limit`. */
  async list(options: { after?: string; limit?: number } = {}): Promise<LedgerEntry[]> {
    const rows = await this.db.query(`SELECT ${COLUMNS} FROM case_ledger WHERE case_id > ? ORDER BY case_id LIMIT ?`, [
      options.after ?? '',
      options.limit ?? 500,
    ]);
    return rows.map((row) => LedgerEntry.parse(row));
  }
}
