/**
 * BullMQ wiring for the `cases` queue: the Worker with its lock, stall and concurrency
 * settings, the final-failure hook, and a close() that gives active jobs a grace period.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import type { ReviewJobData } from '../src/domain/case.js';
import type { ClinicalCaseRuntime } from '../src/graphs/clinical-case/runtime.js';
import type { FaultHooks } from '../src/infra/faults.js';
import type { Logger } from '../src/logger.js';
import { Metrics } from '../src/metrics/metrics.js';
import { AuditLog } from '../src/queues/audit.js';
import { CaseStore } from '../src/queues/case-store.js';
import { DeliveryQueues } from '../src/queues/delivery.js';
import { QUEUES, bullPrefix } from '../src/queues/names.js';
import { caseQueueOptions } from '../src/queues/producer.js';
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
  logger: Logger;
  runtime: ClinicalCaseRuntime;
  faults?: FaultHooks;
}): CaseWorkerHandle {
  const { config, redis, logger, runtime } = opts;
  const store = new CaseStore(redis, config.redis.keyPrefix);
  const reviewQueue = new Queue<ReviewJobData>(QUEUES.review, {
    connection: redis,
    prefix: bullPrefix(config.redis.keyPrefix, QUEUES.review),
    defaultJobOptions: {
      removeOnComplete: { age: config.worker.retentionSeconds },
      removeOnFail: { age: config.worker.retentionSeconds },
    },
  });
  reviewQueue.on('error', (err) => logger.warn({ err: err.message }, 'review queue error'));
  const deliveries = DeliveryQueues.fromConfig(config, redis, (err) =>
    logger.warn({ err: err.message }, 'delivery queue error'),
  );
  const processor = createCaseProcessor({
    store,
    runtime,
    reviewQueue,
    enqueueDelivery: (data) => deliveries.enqueue(data),
    audit: new AuditLog(redis, config.redis.keyPrefix),
    metrics: new Metrics(redis, config.redis.keyPrefix),
    logger,
    ...(opts.faults ? { faults: opts.faults } : {}),
  });
  const worker = new Worker<unknown, CaseJobResult>(QUEUES.cases, processor, {
    ...caseQueueOptions(redis, config.redis.keyPrefix),
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockMs,
    stalledInterval: Math.max(1000, Math.floor(config.worker.lockMs / 2)),
    maxStalledCount: config.worker.maxStalls,
  });

  worker.on('failed', (job: Job | undefined, err: Error) => {
    // Covers failures the processor never saw, e.g. a job that stalled too often. A case job or a
    // resume job that fails for good leaves the case failed, with the reason: never silently stuck
    // in running or awaiting_review (a resume job's review item is already decided).
    const caseId = /^(?:case|resume)\.(.+?)(?:\.r\d+)?$/.exec(job?.id ?? '')?.[1];
    const final = job
      ? job.attemptsMade >= (job.opts.attempts ?? 1) ||
        err.name === 'UnrecoverableError' ||
        /stalled more than allowable limit/.test(err.message)
      : false;
    if (caseId && final) {
      const from =
        job!.name === 'resume'
          ? (['awaiting_review', 'running'] as const)
          : (['accepted', 'queued', 'running'] as const);
      store
        .transition(caseId, [...from], {
          status: 'failed',
          currentStep: null,
          error: { code: 'JOB_FAILED', message: err.message.slice(0, 500) },
        })
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
