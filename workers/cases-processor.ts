/**
 * The `cases` job processor, exported on its own so it can be tested and reused without the
 * BullMQ worker wiring. Two job names:
 *
 *   case    start the clinical-case graph for a new case (or continue it after a crash)
 *   resume  resume a case waiting for review with a human decision
 *
 * When the graph pauses for review, the processor enqueues the review job with a deterministic
 * id (case id + revision) and moves the case record to `awaiting_review`. Exactly once: the case
 * record moves by compare-and-set, the graph continues from its checkpoint instead of starting
 * over, and a decision that was already applied is not applied again.
 */
import { DelayedError, UnrecoverableError, type Job, type Queue } from 'bullmq';
import { CaseLifecycle, initialDelivery, isClosed, type RestoreStatus } from '../src/cases/lifecycle.js';
import { summariseCase } from '../src/domain/case-summary.js';
import { describeError } from '../src/errors.js';
import {
  DecisionRefusedError,
  type CaseOutcome,
  type ClinicalCaseRuntime,
  type GraphEvent,
} from '../src/graphs/clinical-case/runtime.js';
import type { Logger } from '../src/logger.js';
import type { Metrics } from '../src/metrics/metrics.js';
import type { AuditLog } from '../src/audit/case-log.js';
import type { DecisionStore } from '../src/records/decisions.js';
import { intakeOf, type CaseLedger } from '../src/records/case-ledger.js';
import type { CaseRecord, CaseStore } from '../src/cases/store.js';
import { caseIdOfJob, CaseJobData, ResumeJobData } from '../src/queues/cases.js';
import type { DeliveryJobData } from '../src/queues/delivery.js';
import {
  addReviewJob as addToReviewQueue,
  reviewJobId,
  reviewPriority,
  type ReviewJobData,
} from '../src/queues/review.js';
import { NO_FAULTS, type FaultHooks } from '../src/infra/faults.js';
import { isPermanent, jobFailure } from './job-errors.js';

export interface CaseProcessorDeps {
  store: CaseStore;
  runtime: ClinicalCaseRuntime;
  reviewQueue: Queue<ReviewJobData>;
  /** The recorded decisions: the only ones a resume applies (checked against their signature). */
  decisions: DecisionStore;
  /** The durable case ledger: written before the Redis record at intake and close (see src/records/case-ledger.ts). */
  ledger: CaseLedger;
  /** How long decided review jobs are kept. */
  retentionSeconds: number;
  /** Enqueue the delivery of a closed case revision (idempotent per revision). */
  enqueueDelivery: (data: DeliveryJobData) => Promise<void>;
  audit: AuditLog;
  metrics: Metrics;
  logger: Logger;
  /** Recorded on each case so readers know what produced its state. */
  pipelineName?: string;
  /** Fault-injection seams for the crash suite; none in production. */
  faults?: FaultHooks;
}

const ACTOR = 'system:cases-worker';

export interface CaseJobResult {
  caseId: string;
  status: CaseRecord['status'] | 'skipped';
}

/** How soon a job interrupted by shutdown becomes available to other workers again. */
const REQUEUE_DELAY_MS = 500;

export function createCaseProcessor(deps: CaseProcessorDeps) {
  const { store, runtime } = deps;
  const lifecycle = new CaseLifecycle(store);
  const pipeline = deps.pipelineName ?? 'clinical-case-graph';
  const faults = deps.faults ?? NO_FAULTS;

  /** Progress and outcome events: a failure to write one fails the attempt (nothing happens unaudited); a retry may repeat it. */
  const audit = (entry: Parameters<AuditLog['append']>[0]) => deps.audit.append(entry);
  /** A milestone (review_enqueued, closed): written once even when a crash makes the job run again; a failure to write it fails the attempt, so the retry writes it. */
  const milestone = (entry: Parameters<AuditLog['append']>[0]) => deps.audit.appendOnce(entry);

  /** Record progress as graph nodes finish (consecutive repeats, e.g. parallel steps, count once). */
  function progressRecorder(caseId: string, initial: string[]) {
    const completed = [...initial];
    return async (node: string) => {
      if (completed.at(-1) === node) return;
      completed.push(node);
      await lifecycle.progress(caseId, node, completed);
    };
  }

  /**
   * Audit every node start and finish, and count tool calls. An audit entry that cannot be
   * written fails the attempt (the retry continues from the checkpoint and writes it); a metric
   * that cannot be counted is only logged.
   */
  function eventRecorder(caseId: string, revision: () => number | null) {
    return (e: GraphEvent) => recordEvent(caseId, revision(), e);
  }

  async function recordEvent(caseId: string, revision: number | null, e: GraphEvent): Promise<void> {
    const detail = {
      node: e.node,
      ...(e.step ? { stepId: e.step.id, stepType: e.step.type } : {}),
      ...(e.detail ?? {}),
    };
    const event =
      e.kind === 'started'
        ? 'step_started'
        : e.node === 'draft'
          ? 'drafted'
          : e.node === 'verify'
            ? 'verified'
            : 'step_finished';
    await audit({ caseId, event, actor: ACTOR, revision, detail });
    if (e.kind === 'finished' && e.node === 'execute_step' && e.detail) {
      const tool = String(e.detail.source ?? 'unknown');
      const outcome = e.detail.status === 'ok' ? 'ok' : String(e.detail.code ?? 'unavailable');
      const seconds = Number(e.detail.durationMs ?? 0) / 1000;
      await Promise.all([
        deps.metrics.inc('co_tool_calls_total', { tool, outcome }),
        deps.metrics.observe('co_tool_latency_seconds', seconds, { tool }),
      ]).catch((err: unknown) =>
        deps.logger.error({ caseId, node: e.node, err: String(err) }, 'could not count a tool call'),
      );
    }
  }

  /** Hand a closed case to delivery (idempotent: one delivery job per revision). */
  async function ensureDelivery(record: CaseRecord, logger: Logger): Promise<void> {
    if (!isClosed(record.status) || record.delivery?.status === 'delivered') return;
    await deps.enqueueDelivery({
      caseId: record.caseId,
      revision: record.revision,
      status: record.status,
      enqueuedAt: new Date().toISOString(),
    });
    logger.info({ status: record.status, callback: record.hasCallback }, 'delivery enqueued');
  }

  /** The review job of a revision (deterministic id: adding it again is a no-op). */
  async function addReviewJob(record: CaseRecord, outcome: Extract<CaseOutcome, { kind: 'review' }>): Promise<void> {
    const data: ReviewJobData = {
      caseId: record.caseId,
      revision: outcome.revision,
      casePriority: record.priority,
      maxSeverity: outcome.maxSeverity,
      request: outcome.request,
      enqueuedAt: new Date().toISOString(),
    };
    await faults.at('review.before-enqueue', { caseId: record.caseId, revision: outcome.revision });
    await addToReviewQueue(deps.reviewQueue, data, deps.retentionSeconds);
  }

  /** A case that says awaiting_review but whose review job was never added (a crash in between): add it from the checkpoint. */
  async function enqueueMissingReview(record: CaseRecord, logger: Logger): Promise<void> {
    if (
      record.status !== 'awaiting_review' ||
      (await deps.reviewQueue.getJob(reviewJobId(record.caseId, record.revision)))
    )
      return;
    const outcome = await runtime.outcome(record.caseId);
    if (outcome?.kind !== 'review' || outcome.revision !== record.revision) return;
    await addReviewJob(record, outcome);
    logger.warn({ revision: record.revision }, 'review job was missing after a crash; enqueued');
  }

  async function applyOutcome(record: CaseRecord, outcome: CaseOutcome, logger: Logger): Promise<CaseJobResult> {
    const caseId = record.caseId;
    if (outcome.kind === 'review') {
      // Audited first (once), then the record, then the review job last: a reviewer can only act on
      // a case whose record already says awaiting_review, so the resume that follows a fast decision
      // is never overtaken by this transition. A crash before the job is added is mended when the
      // case job runs again (enqueueMissingReview).
      await milestone({
        caseId,
        event: 'review_enqueued',
        actor: ACTOR,
        revision: outcome.revision,
        detail: {
          maxSeverity: outcome.maxSeverity,
          findings: outcome.request.findings.length,
          priority: reviewPriority(record.priority, outcome.maxSeverity),
        },
      });
      await lifecycle.awaitReview(caseId, { revision: outcome.revision, maxSeverity: outcome.maxSeverity });
      await addReviewJob(record, outcome);
      logger.info({ revision: outcome.revision, maxSeverity: outcome.maxSeverity }, 'case awaiting review');
      return { caseId, status: 'awaiting_review' };
    }
    const decision = outcome.decision;
    // Audited before the record moves (once), for the same reason.
    await milestone({
      caseId,
      event: 'closed',
      actor: ACTOR,
      revision: outcome.revision,
      detail: { status: outcome.status, decidedBy: decision?.reviewer ?? null },
    });
    // The ledger first: once Redis says closed, the close is on disk too (recovery after Redis data loss reads it).
    const completedAt = new Date().toISOString();
    await deps.ledger.recordIntake(intakeOf(record));
    await deps.ledger.recordClose(caseId, {
      status: outcome.status,
      revision: outcome.revision,
      plan: outcome.plan,
      closedReason: outcome.closedReason,
      decidedBy: decision?.reviewer ?? null,
      decidedAt: decision?.decidedAt ?? null,
      completedAt,
      delivery: initialDelivery(record.hasCallback),
    });
    const done = await lifecycle.close(caseId, {
      status: outcome.status,
      revision: outcome.revision,
      plan: outcome.plan,
      closedReason: outcome.closedReason,
      decision: decision ?? null,
      hasCallback: record.hasCallback,
      completedAt,
    });
    if (done === 'applied') await deps.metrics.inc('co_cases_closed_total', { status: outcome.status });
    await ensureDelivery((await store.get(caseId))!, logger);
    logger.info({ status: outcome.status, revision: outcome.revision, applied: done }, 'case closed');
    return { caseId, status: done === 'applied' ? outcome.status : 'skipped' };
  }

  /** Shared failure handling: requeue on shutdown, retry transient errors, fail permanent ones. */
  async function onError(
    err: unknown,
    job: Job,
    caseId: string,
    token: string | undefined,
    signal: AbortSignal,
    logger: Logger,
    restoreTo: RestoreStatus,
  ): Promise<never> {
    if (signal.aborted && token) {
      await lifecycle.requeue(caseId, restoreTo);
      await job.moveToDelayed(Date.now() + REQUEUE_DELAY_MS, token);
      logger.info('interrupted by shutdown; requeued');
      throw new DelayedError();
    }
    const error = describeError(err);
    const permanent = isPermanent(err);
    const final = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (err instanceof DecisionRefusedError) {
      await lifecycle.refuseDecision(caseId, { code: err.code, message: err.message });
      await audit({ caseId, event: 'decision_refused', actor: ACTOR, revision: null, detail: { code: err.code } });
    } else {
      await (final ? lifecycle.fail(caseId, error) : lifecycle.retry(caseId, restoreTo, error));
      if (final) await audit({ caseId, event: 'failed', actor: ACTOR, revision: null, detail: { code: error.code } });
    }
    logger.warn({ err: error, final }, final ? 'job failed' : 'job attempt failed; will retry');
    throw jobFailure(err);
  }

  async function processStart(job: Job, token: string | undefined, signal: AbortSignal): Promise<CaseJobResult> {
    const parsed = CaseJobData.safeParse(job.data);
    if (!parsed.success) {
      const caseId = caseIdOfJob(job.id);
      const error = { code: 'JOB_DATA_INVALID', message: 'job data does not match the case job schema' };
      if (caseId) await lifecycle.failCaseJob(caseId, error);
      deps.logger.error({ jobId: job.id, issues: parsed.error.issues.length }, 'case job data invalid');
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    const data = parsed.data;
    const caseId = data.submission.caseId;
    const logger = deps.logger.child({ caseId, jobId: job.id, attempt: job.attemptsMade + 1 });
    // A case job that runs again after its worker died once the review job existed: the case is
    // past drafting (a reviewer may already have decided and a resume be running). Never drive it again.
    const current = await store.get(caseId);
    if (current?.status === 'running' && (await deps.reviewQueue.getJob(reviewJobId(caseId, current.revision)))) {
      logger.info('case already went to review; not started again');
      return { caseId, status: 'skipped' };
    }
    const summary = summariseCase(data.submission);
    if (current) await deps.ledger.recordIntake({ ...intakeOf(current), summary });
    const start = await lifecycle.start(caseId, { pipeline, summary });
    if (start === 'wrong-state') {
      await enqueueMissingReview((await store.get(caseId))!, logger);
      logger.info('case already past drafting; duplicate delivery ignored');
      return { caseId, status: 'skipped' };
    }
    if (start === 'missing') throw new UnrecoverableError(`CASE_NOT_FOUND: no record for case ${caseId}`);
    logger.info({ pipeline, mode: data.mode }, 'case started');
    try {
      const outcome = await runtime.start(data.submission, data.enqueuedAt, data.mode, {
        signal,
        onNode: progressRecorder(caseId, []),
        onEvent: eventRecorder(caseId, () => 1),
      });
      const record = (await store.get(caseId))!;
      return await applyOutcome(record, outcome, logger);
    } catch (err) {
      return onError(err, job, caseId, token, signal, logger, 'queued');
    }
  }

  async function processResume(job: Job, token: string | undefined, signal: AbortSignal): Promise<CaseJobResult> {
    const parsed = ResumeJobData.safeParse(job.data);
    if (!parsed.success) {
      deps.logger.error({ jobId: job.id, issues: parsed.error.issues.length }, 'resume job data invalid');
      throw new UnrecoverableError('JOB_DATA_INVALID: job data does not match the resume job schema');
    }
    const { caseId } = parsed.data;
    // The decision applied is the one the API recorded after authenticating the reviewer (and,
    // with a signing key, signed): never the one the job carries, which anything that can write
    // to Redis could have put there.
    const recorded = await deps.decisions.verified(caseId, parsed.data.decision.revision);
    if (!recorded.ok) {
      deps.logger.error(
        { caseId, jobId: job.id, revision: parsed.data.decision.revision, reason: recorded.reason },
        'resume refused: no verified recorded decision',
      );
      await audit({
        caseId,
        event: 'decision_refused',
        actor: ACTOR,
        revision: parsed.data.decision.revision,
        detail: { reason: `resume without a verified recorded decision (${recorded.reason})` },
      });
      throw new UnrecoverableError(
        `DECISION_REFUSED: no verified recorded decision for case ${caseId} revision ${parsed.data.decision.revision} (${recorded.reason})`,
      );
    }
    const decision = recorded.record.decision;
    const logger = deps.logger.child({ caseId, jobId: job.id, revision: decision.revision, action: decision.action });
    if (JSON.stringify(parsed.data.decision) !== JSON.stringify(decision))
      logger.warn("the resume job's decision differs from the recorded one; the recorded one is applied");
    // A resume job that runs again after its worker died, once the revision it drafted is in review:
    // its work is done, and a reviewer may already be acting on the next revision. Never act again.
    if (await deps.reviewQueue.getJob(reviewJobId(caseId, decision.revision + 1))) {
      logger.info('decision already applied; the next revision is in review');
      return { caseId, status: 'skipped' };
    }
    const moved = await lifecycle.resume(caseId);
    if (moved === 'missing') throw new UnrecoverableError(`CASE_NOT_FOUND: no record for case ${caseId}`);
    const record = (await store.get(caseId))!;
    if (moved === 'wrong-state') {
      logger.info({ status: record.status }, 'case already closed; decision not applied again');
      // A crash after closing but before handing over to delivery: hand over now.
      await ensureDelivery(record, logger);
      return { caseId, status: 'skipped' };
    }
    logger.info('resuming with a review decision');
    await audit({
      caseId,
      event: 'resumed',
      actor: ACTOR,
      revision: decision.revision,
      detail: { action: decision.action, reviewer: decision.reviewer },
    });
    let revision = decision.revision;
    const progress = progressRecorder(caseId, record.completedSteps);
    try {
      await faults.at('resume.before-graph', { caseId, revision: decision.revision });
      const outcome = await runtime.resume(caseId, decision, {
        signal,
        onNode: async (node) => {
          if (node === 'revise') revision++;
          await progress(node);
        },
        onEvent: eventRecorder(caseId, () => revision),
      });
      return await applyOutcome(record, outcome, logger);
    } catch (err) {
      return onError(err, job, caseId, token, signal, logger, 'awaiting_review');
    }
  }

  return function processCase(job: Job, token?: string, signal?: AbortSignal): Promise<CaseJobResult> {
    const s = signal ?? new AbortController().signal;
    return job.name === 'resume' ? processResume(job, token, s) : processStart(job, token, s);
  };
}
