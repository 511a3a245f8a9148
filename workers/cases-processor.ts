/**
 * The `cases` job processor, exported on its own so it can be tested and reused without the
 * BullMQ worker wiring.
 *
 * Exactly-once completion: the case record moves to `running` and later to its final status
 * by compare-and-set. A job delivered again after its case finished (a stalled job, a worker
 * killed after finishing but before acknowledging) finds the record terminal and does nothing.
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { CaseJobData } from '../src/domain/case.js';
import { AppError, describeError } from '../src/errors.js';
import type { Logger } from '../src/logger.js';
import type { CasePipeline, PipelineResult } from '../src/pipeline/types.js';
import type { CaseStore } from '../src/queues/case-store.js';

export interface CaseProcessorDeps {
  store: CaseStore;
  pipeline: CasePipeline;
  logger: Logger;
}

export interface CaseJobResult {
  caseId: string;
  status: 'intake_complete' | 'skipped';
}

/** How soon a job interrupted by shutdown becomes available to other workers again. */
const REQUEUE_DELAY_MS = 500;

const caseIdFromJobId = (jobId: string | undefined) => (jobId?.startsWith('case.') ? jobId.slice(5) : undefined);

export function createCaseProcessor(deps: CaseProcessorDeps) {
  const { store, pipeline } = deps;

  return async function processCase(job: Job, token?: string, signal?: AbortSignal): Promise<CaseJobResult> {
    const parsed = CaseJobData.safeParse(job.data);
    if (!parsed.success) {
      const caseId = caseIdFromJobId(job.id);
      const error = { code: 'JOB_DATA_INVALID', message: 'job data does not match the case job schema' };
      if (caseId) await store.transition(caseId, ['accepted', 'queued', 'running'], { status: 'failed', error, currentStep: null });
      deps.logger.error({ jobId: job.id, issues: parsed.error.issues.length }, 'case job data invalid');
      throw new UnrecoverableError(`${error.code}: ${error.message}`);
    }
    const data = parsed.data;
    const caseId = data.submission.caseId;
    const logger = deps.logger.child({ caseId, jobId: job.id, attempt: job.attemptsMade + 1 });
    const firstStep = pipeline.steps[0]?.name ?? null;

    const start = await store.transition(
      caseId,
      ['accepted', 'queued', 'running'],
      { status: 'running', pipeline: pipeline.name, currentStep: firstStep, completedSteps: [], error: null },
      'attempts',
    );
    if (start === 'wrong-state') {
      logger.info('case already finished; duplicate delivery ignored');
      return { caseId, status: 'skipped' };
    }
    if (start === 'missing') throw new UnrecoverableError(`CASE_NOT_FOUND: no record for case ${caseId}`);
    logger.info({ pipeline: pipeline.name }, 'case started');

    const result: PipelineResult = { summary: null };
    const completed: string[] = [];
    const ctx = { caseId, data, signal: signal ?? new AbortController().signal, logger };
    try {
      for (const [index, step] of pipeline.steps.entries()) {
        if (ctx.signal.aborted) throw new AppError('SHUTTING_DOWN', 'worker is shutting down', true);
        if (index > 0) await store.transition(caseId, ['running'], { currentStep: step.name, completedSteps: completed });
        const t0 = performance.now();
        await step.run(ctx, result);
        completed.push(step.name);
        logger.debug({ step: step.name, ms: Math.round(performance.now() - t0) }, 'step finished');
      }
    } catch (err) {
      if (ctx.signal.aborted && token) {
        // Shutdown past the grace period: hand the job back without spending an attempt.
        await store.transition(caseId, ['running'], { status: 'queued', currentStep: null });
        await job.moveToDelayed(Date.now() + REQUEUE_DELAY_MS, token);
        logger.info('case interrupted by shutdown; requeued');
        throw new DelayedError();
      }
      const error = describeError(err);
      const final = err instanceof UnrecoverableError || (err instanceof AppError && !err.retryable) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await store.transition(caseId, ['running'], final ? { status: 'failed', error, currentStep: null } : { status: 'queued', error });
      logger.warn({ err: error, final }, final ? 'case failed' : 'case attempt failed; will retry');
      if (err instanceof AppError && !err.retryable) throw new UnrecoverableError(`${error.code}: ${error.message}`);
      throw err;
    }

    const done = await store.transition(
      caseId,
      ['running'],
      { status: pipeline.finalStatus, currentStep: null, completedSteps: completed, summary: result.summary, completedAt: new Date().toISOString() },
      'completions',
    );
    if (done !== 'applied') {
      logger.warn({ outcome: done }, 'case finished by another delivery; this run is discarded');
      return { caseId, status: 'skipped' };
    }
    logger.info({ status: pipeline.finalStatus, steps: completed.length }, 'case finished');
    return { caseId, status: pipeline.finalStatus };
  };
}
