/**
 * BullMQ wiring for the `cases` queue: the Worker with its lock, stall and concurrency
 * settings, the final-failure hook, and a close() that gives active jobs a grace period.
 */
import { DecisionStore } from '../src/records/decisions.js';
import { CaseLedger } from '../src/records/case-ledger.js';
import type { RecordsDatabase } from '../src/records/database.js';
import { Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import type { ClinicalCaseRuntime } from '../src/graphs/clinical-case/runtime.js';
import type { FaultHooks } from '../src/infra/faults.js';
import type { Logger } from '../src/logger.js';
import { Metrics } from '../src/metrics/metrics.js';
import { CaseLifecycle } from '../src/cases/lifecycle.js';
import { AuditLog } from '../src/audit/case-log.js';
import { CaseStore } from '../src/cases/store.js';
import { CASES_QUEUE, caseIdOfJob, casesWorkerOptions } from '../src/queues/cases.js';
import { DeliveryQueues } from '../src/queues/delivery.js';
import { createReviewQueue, type ReviewJobData } from '../src/queues/review.js';
import { createCaseProcessor, type CaseJobResult } from './cases-processor.js';

/** After cancelling jobs on shutdown, how long to wait for processors to stop. */
const HARD_STOP_MS = 5000;

async function within(promise: Promise<unknown>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface CaseWorkerHandle {
  worker: Worker;
  reviewQueue: Queue<ReviewJobData>;
  /** Stop taking jobs; wait up to the grace period for active ones, then cancel them (they are requeued without spending an attempt). */
  close(): Promise<void>;
}

export function startCaseWorker(opts: {
  config: Config;
  redis: Redis;
  /** The records database: recorded decisions and the case ledger. */
  records: RecordsDatabase;
  logger: Logger;
  runtime: ClinicalCaseRuntime;
  faults?: FaultHooks;
}): CaseWorkerHandle {
  const { config, redis, logger, runtime } = opts;
  const store = new CaseStore(redis, config.redis.keyPrefix);
  const lifecycle = new CaseLifecycle(store);
  const reviewQueue = createReviewQueue(redis, config.redis.keyPrefix, (err) =>
    logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'review queue error'),
  );
  const deliveries = DeliveryQueues.fromConfig(config, redis, (err) =>
    logger.warn({ err: err.message }, 'delivery queue error'),
  );
  const processor = createCaseProcessor({
    store,
    runtime,
    reviewQueue,
    decisions: new DecisionStore(opts.records, config.review.signingKey),
    ledger: new CaseLedger(opts.records),
    retentionSeconds: config.worker.retentionSeconds,
    enqueueDelivery: (data) => deliveries.enqueue(data),
    audit: new AuditLog(redis, config.redis.keyPrefix, config.audit.chainKey),
    metrics: new Metrics(redis, config.redis.keyPrefix),
    logger,
    ...(opts.faults ? { faults: opts.faults } : {}),
  });
  const worker = new Worker<unknown, CaseJobResult>(CASES_QUEUE, processor, casesWorkerOptions(redis, config));

  worker.on('failed', (job: Job | undefined, err: Error) => {
    // Covers failures the processor never saw, e.g. a job that stalled too often. A case job or a
    // resume job that fails for good leaves the case failed, with the reason: never silently stuck
    // in running or awaiting_review (a resume job's review item is already decided).
    const caseId = caseIdOfJob(job?.id);
    const final = job
      ? job.attemptsMade >= (job.opts.attempts ?? 1) ||
        err.name === 'UnrecoverableError' ||
        /stalled more than allowable limit/.test(err.message)
      : false;
    if (caseId && final) {
      const error = { code: 'JOB_FAILED', message: err.message.slice(0, 500) };
      (job!.name === 'resume' ? lifecycle.failResumeJob(caseId, error) : lifecycle.failCaseJob(caseId, error))
        .then(
          (applied) =>
            applied === 'applied' && logger.error({ caseId, jobId: job!.id, err: err.message }, 'case failed for good'),
        )
        .catch((e: unknown) => logger.error({ caseId, err: String(e) }, 'could not record case failure'));
    }
  });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));

  async function closeWorker(): Promise<void> {
    const closed = worker.close();
    if ((await within(closed, config.worker.shutdownGraceMs)) === 'done') return;
    logger.warn(
      { graceMs: config.worker.shutdownGraceMs },
      'active jobs outlived the grace period; cancelling them (they are requeued)',
    );
    worker.cancelAllJobs('shutdown');
    if ((await within(closed, HARD_STOP_MS)) === 'done') return;
    // A step ignored the abort signal. Stop waiting: its lock expires and another worker re-runs the job.
    logger.error(
      { waitedMs: HARD_STOP_MS },
      'jobs did not stop after cancellation; leaving them to the stalled-job check',
    );
  }

  return {
    worker,
    reviewQueue,
    /** Workers first (with the grace period), then the queue this worker produces to. */
    async close() {
      await closeWorker();
      await reviewQueue.close();
      await deliveries.close();
    },
  };
}
