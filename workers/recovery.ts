/**
 * Recovery after Redis data loss: make Redis agree with the durable records again.
 *
 * Redis is the working copy (case records, queues, leases, the live audit streams). What must
 * survive its loss is on disk: the case ledger and the recorded decisions in the records
 * database, the graph checkpoints, and the exported audit (src/records/database.ts). After a
 * flushed instance, or a restart from an older AOF or snapshot, `npm run recover` walks every
 * case in the ledger and converges on what those say:
 *
 *   closed in the ledger            the record is rebuilt closed (plan, decision, delivery state);
 *                                   a delivery that had not succeeded is enqueued again, one that
 *                                   had is never sent again
 *   a recorded decision not applied the record waits for review at that revision and the hand-over
 *                                   (`resume` job) is issued again: the case closes, or revises, on
 *                                   the decision that was recorded, never on a new one
 *   waiting for review              the record and the review job are rebuilt from the checkpoint
 *   in progress, record present     left alone: its job is still in Redis
 *   in progress, record gone        back to `accepted` with RECOVERY_SUBMISSION_LOST: the submission
 *                                   lived in Redis only; the service submits the same case again
 *                                   and it continues from its last checkpoint
 *
 * Each case's audit stream is first put back from the archive (entries after the last export
 * are gone), then a `recovered` entry records what was found and done. Every write is a
 * compare-and-set on the status found, so recovery can run while workers and the API run, and
 * running it twice changes nothing the second time.
 */
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { AuditArchive } from '../src/audit/archive.js';
import { AuditLog } from '../src/audit/case-log.js';
import { SECURITY_STREAM } from '../src/audit/security-log.js';
import { requireRedisUrl, type Config } from '../src/config.js';
import { createRedis, waitForRedis } from '../src/queues/connection.js';
import { openRecordsDatabase } from '../src/records/database.js';
import { CaseLedger } from '../src/records/case-ledger.js';
import { DecisionStore } from '../src/records/decisions.js';
import { CaseStore } from '../src/cases/store.js';
import { openCaseRuntime } from './graph-setup.js';
import { CaseLifecycle, isClosed } from '../src/cases/lifecycle.js';
import type { CaseRecord } from '../src/cases/store.js';
import { CaseStatus } from '../src/domain/case-status.js';
import type { ClinicalCaseRuntime } from '../src/graphs/clinical-case/runtime.js';
import type { LedgerEntry } from '../src/records/case-ledger.js';
import {
  casesQueueOptions,
  createCasesQueue,
  enqueueResume,
  resumeJobId,
  type CasesQueue,
} from '../src/queues/cases.js';
import { deliveryJobId, DeliveryQueues } from '../src/queues/delivery.js';
import { addReviewJob, createReviewQueue, reviewJobId, type ReviewJobData } from '../src/queues/review.js';

export const RECOVERY_ACTIONS = [
  /** Redis already agreed with the durable records. */
  'consistent',
  /** The record was rebuilt as closed. */
  'restored_closed',
  /** Only the delivery state was behind (it is never sent twice). */
  'delivery_synced',
  /** A recorded decision's hand-over was issued again. */
  'resumed',
  /** The record and review job were rebuilt from the checkpoint. */
  'review_restored',
  /** In progress with its record and job still in Redis: left alone. */
  'in_progress',
  /** In progress when Redis lost it, with no submission left to run: `accepted`, to be submitted again. */
  'lost',
  /** Something moved the record while recovery looked at it: left alone (run again). */
  'raced',
] as const;
export const RecoveryAction = z.enum(RECOVERY_ACTIONS);
export type RecoveryAction = z.infer<typeof RecoveryAction>;

export const CaseRecovery = z.object({
  caseId: z.string(),
  action: RecoveryAction,
  /** The Redis record's status as found; null when it was missing. */
  found: CaseStatus.nullable(),
  /** The status it has now. */
  status: CaseStatus.nullable(),
  revision: z.number().int().nullable(),
  /** A delivery job was enqueued. */
  deliveryEnqueued: z.boolean(),
  /** Audit entries put back from the archive. */
  auditRestored: z.number().int(),
  /** Why the audit could not be put back (see AuditArchive.restore), or null. */
  auditSkipped: z.enum(['diverged', 'contended']).nullable(),
});
export type CaseRecovery = z.infer<typeof CaseRecovery>;

export const RecoveryReport = z.object({
  dryRun: z.boolean(),
  cases: z.number().int(),
  actions: z.record(RecoveryAction, z.number().int()),
  /** Cases that were changed or need attention (not the consistent ones). */
  changed: z.array(CaseRecovery),
  /** The security log put back from the archive. */
  securityAudit: z.object({ restored: z.number().int(), skipped: z.enum(['diverged', 'contended']).nullable() }),
});
export type RecoveryReport = z.infer<typeof RecoveryReport>;

export interface RecoveryDeps {
  store: CaseStore;
  ledger: CaseLedger;
  decisions: DecisionStore;
  runtime: ClinicalCaseRuntime;
  reviewQueue: Queue<ReviewJobData>;
  casesQueue: CasesQueue;
  deliveries: DeliveryQueues;
  audit: AuditLog;
  /** Null: the audit archive is not put back (nothing was exported). */
  archive: AuditArchive | null;
  retentionSeconds: number;
  now?: () => Date;
}

const ACTOR = 'system:recovery';

export const SUBMISSION_LOST = {
  code: 'RECOVERY_SUBMISSION_LOST',
  message:
    'the case was in progress when Redis lost its data, and its submission was held only there: submit the same case again (same case id and body); it continues from its last checkpoint',
};

/** A job that finished (completed or failed) under this id, removed so the id can be used again. */
async function removeFinished(queue: Queue, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (!job) return;
  const state = await job.getState();
  if (state === 'completed' || state === 'failed') await job.remove();
}

/** A job still waiting to be taken, removed (one being worked on is left to finish). */
async function removeWaiting(queue: Queue, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (job && ['waiting', 'prioritized'].includes(await job.getState())) await job.remove();
}

export async function recoverCases(
  deps: RecoveryDeps,
  options: { dryRun?: boolean; onCase?: (c: CaseRecovery) => void } = {},
): Promise<RecoveryReport> {
  const lifecycle = new CaseLifecycle(deps.store);
  const now = deps.now ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
  const report: RecoveryReport = {
    dryRun,
    cases: 0,
    actions: Object.fromEntries(RECOVERY_ACTIONS.map((a) => [a, 0])) as Record<RecoveryAction, number>,
    changed: [],
    securityAudit: { restored: 0, skipped: null },
  };
  if (deps.archive && !dryRun) {
    const [security] = await deps.archive.restore(SECURITY_STREAM);
    if (security) report.securityAudit = { restored: security.restored, skipped: security.skipped };
  }

  /** The record as the ledger says it was created, in `status`, keeping what the Redis copy still knows. */
  function rebuilt(entry: LedgerEntry, existing: CaseRecord | null, status: CaseRecord['status']): CaseRecord {
    const base = deps.store.initialRecord(
      {
        caseId: entry.caseId,
        priority: entry.priority,
        submittedBy: entry.submittedBy,
        inputDigest: entry.inputDigest,
        mode: entry.mode,
        hasCallback: entry.callbackUrl !== null,
        callbackUrl: entry.callbackUrl,
      },
      status,
      entry.createdAt,
    );
    return {
      ...base,
      pipeline: existing?.pipeline ?? null,
      completedSteps: existing?.completedSteps ?? [],
      attempts: existing?.attempts ?? 0,
      summary: existing?.summary ?? entry.summary,
      updatedAt: now().toISOString(),
    };
  }

  async function recoverOne(entry: LedgerEntry): Promise<CaseRecovery> {
    const caseId = entry.caseId;
    const audit = deps.archive && !dryRun ? await deps.archive.restore(caseId) : [];
    const existing = await deps.store.get(caseId);
    const found = existing?.status ?? null;
    const result: CaseRecovery = {
      caseId,
      action: 'consistent',
      found,
      status: found,
      revision: existing?.revision ?? null,
      deliveryEnqueued: false,
      auditRestored: audit.reduce((n, r) => n + r.restored, 0),
      auditSkipped: audit.find((r) => r.skipped)?.skipped ?? null,
    };
    const put = async (record: CaseRecord, action: RecoveryAction): Promise<boolean> => {
      result.status = record.status;
      result.revision = record.revision;
      if (dryRun) {
        result.action = action;
        return true;
      }
      const applied = (await lifecycle.restore(record, found)) === 'applied';
      result.action = applied ? action : 'raced';
      if (!applied) {
        result.status = found;
        result.revision = existing?.revision ?? null;
      }
      return applied;
    };

    // 1. Closed in the ledger: the close and the delivery state are on disk.
    if (entry.status && isClosed(entry.status) && entry.revision !== null) {
      const delivery = entry.delivery;
      const inRedis =
        existing && existing.status === entry.status && existing.revision === entry.revision ? existing : null;
      const needsDelivery = delivery?.status === 'pending';
      if (inRedis) {
        if (delivery && inRedis.delivery?.status !== delivery.status && delivery.status === 'delivered') {
          result.action = 'delivery_synced';
          if (!dryRun) await lifecycle.recordDelivery(caseId, delivery);
        }
      } else {
        const record: CaseRecord = {
          ...rebuilt(entry, existing, entry.status),
          revision: entry.revision,
          plan: entry.status === 'approved' ? entry.plan : null,
          closedReason: entry.closedReason,
          decidedBy: entry.decidedBy,
          decidedAt: entry.decidedAt,
          completedAt: entry.completedAt,
          completions: Math.max(1, existing?.completions ?? 0),
          delivery,
        };
        if (!(await put(record, 'restored_closed'))) return result;
      }
      // An older snapshot may still offer the closed revision for review: take it out of the queue.
      if (!dryRun) await removeWaiting(deps.reviewQueue as Queue, reviewJobId(caseId, entry.revision));
      const jobId = deliveryJobId(caseId, entry.revision);
      const inFlight = inRedis?.delivery?.status === 'pending' && (await deps.deliveries.delivery.getJob(jobId));
      if (needsDelivery && !inFlight && result.action !== 'raced') {
        if (!dryRun) {
          await removeFinished(deps.deliveries.delivery as Queue, jobId);
          await deps.deliveries.enqueue({
            caseId,
            revision: entry.revision,
            status: entry.status,
            enqueuedAt: now().toISOString(),
          });
        }
        result.deliveryEnqueued = true;
      }
      return result;
    }

    // 2. Not closed in the ledger: the checkpoint says where the graph is.
    const outcome = await deps.runtime.outcome(caseId);
    // The revision whose decision matters: the one in review, or the one whose decision closed the graph
    // (a crash between the graph closing and the ledger recording it).
    const revision = outcome?.revision ?? null;
    const decided = revision === null ? null : await deps.decisions.get(caseId, revision);
    if (outcome && revision !== null && (decided || outcome.kind === 'closed')) {
      if (!decided) return { ...result, action: 'in_progress' };
      const waiting = existing?.status === 'awaiting_review' && existing.revision === revision;
      if (!waiting && existing?.status !== 'running') {
        const record: CaseRecord = {
          ...rebuilt(entry, existing, 'awaiting_review'),
          revision,
          currentStep: 'review',
          maxSeverity: outcome.kind === 'review' ? outcome.maxSeverity : (existing?.maxSeverity ?? null),
        };
        if (!(await put(record, 'resumed'))) return result;
      } else result.action = 'resumed';
      if (!dryRun) {
        await removeFinished(deps.casesQueue as Queue, resumeJobId(caseId, revision));
        await enqueueResume(deps.casesQueue, caseId, decided.decision);
        // A stale review job for the decided revision (the next claim would finish the hand-over anyway).
        await removeWaiting(deps.reviewQueue as Queue, reviewJobId(caseId, revision));
      }
      return result;
    }
    if (outcome?.kind === 'review') {
      const consistent =
        existing?.status === 'awaiting_review' &&
        existing.revision === outcome.revision &&
        (await deps.reviewQueue.getJob(reviewJobId(caseId, outcome.revision))) !== undefined;
      if (consistent) return result;
      if (!(existing?.status === 'awaiting_review' && existing.revision === outcome.revision)) {
        const record: CaseRecord = {
          ...rebuilt(entry, existing, 'awaiting_review'),
          revision: outcome.revision,
          currentStep: 'review',
          maxSeverity: outcome.maxSeverity,
        };
        if (!(await put(record, 'review_restored'))) return result;
      } else result.action = 'review_restored';
      if (!dryRun)
        await addReviewJob(
          deps.reviewQueue,
          {
            caseId,
            revision: outcome.revision,
            casePriority: entry.priority,
            maxSeverity: outcome.maxSeverity,
            request: outcome.request,
            enqueuedAt: now().toISOString(),
          },
          deps.retentionSeconds,
        );
      return result;
    }
    // 3. Still drafting (or never started): its job is in Redis with its record, or both are gone.
    if (existing) return existing.status === 'failed' ? result : { ...result, action: 'in_progress' };
    // `accepted` is the status of a case whose job is not enqueued: the same submission enqueues it again.
    await put({ ...rebuilt(entry, null, 'accepted'), error: SUBMISSION_LOST }, 'lost');
    return result;
  }

  let after = '';
  for (;;) {
    const page = await deps.ledger.list({ after, limit: 200 });
    if (page.length === 0) break;
    for (const entry of page) {
      const r = await recoverOne(entry);
      report.cases++;
      report.actions[r.action]++;
      if (r.action !== 'consistent' || r.auditRestored > 0 || r.auditSkipped) {
        report.changed.push(r);
        if (!dryRun && r.action !== 'consistent' && r.action !== 'raced')
          await deps.audit.append({
            caseId: r.caseId,
            event: 'recovered',
            actor: ACTOR,
            actorType: 'system',
            revision: r.revision,
            detail: {
              action: r.action,
              found: r.found ?? 'missing',
              status: r.status ?? 'missing',
              auditRestored: r.auditRestored,
              deliveryEnqueued: r.deliveryEnqueued,
            },
          });
      }
      options.onCase?.(r);
    }
    after = page.at(-1)!.caseId;
  }
  return report;
}

/**
 * Recovery wired from the configuration, as `npm run recover` runs it: its own Redis
 * connection, the records database, the checkpoints (no tools: recovery reads the graph's
 * state, it never runs a step) and the audit archive.
 */
export async function openRecovery(config: Config): Promise<{
  run: (options?: { dryRun?: boolean; onCase?: (c: CaseRecovery) => void }) => Promise<RecoveryReport>;
  close: () => Promise<void>;
}> {
  const redis = createRedis(requireRedisUrl(config), 'recovery');
  redis.on('error', () => undefined);
  await waitForRedis(redis, 10_000);
  const records = await openRecordsDatabase({
    databaseUrl: config.database.url,
    sqlitePath: config.database.sqlitePath,
  });
  const runtime = await openCaseRuntime(config, { tools: { knowledgeBase: null, literature: null, imaging: null } });
  const prefix = config.redis.keyPrefix;
  const reviewQueue = createReviewQueue(redis, prefix, () => undefined);
  const casesQueue = createCasesQueue(casesQueueOptions(config, redis));
  const deliveries = DeliveryQueues.fromConfig(config, redis);
  const deps: RecoveryDeps = {
    store: new CaseStore(redis, prefix),
    ledger: new CaseLedger(records),
    decisions: new DecisionStore(records, config.review.signingKey),
    runtime: runtime.runtime,
    reviewQueue,
    casesQueue,
    deliveries,
    audit: new AuditLog(redis, prefix, config.audit.chainKey),
    archive: new AuditArchive(redis, records, prefix, config.audit.chainKey),
    retentionSeconds: config.worker.retentionSeconds,
  };
  return {
    run: (options) => recoverCases(deps, options),
    async close() {
      await reviewQueue.close();
      await casesQueue.close();
      await deliveries.close();
      await runtime.close();
      await records.close();
      await redis.quit();
    },
  };
}
