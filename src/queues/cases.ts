/**
 * The `cases` queue: everything about it in one place. Two job names:
 *
 *   case    `case.<caseId>`               a new case: run the clinical-case graph (CaseJobData)
 *   resume  `resume.<caseId>.r<revision>` a human decision for one revision (ResumeJobData)
 *
 * Job ids are deterministic, so a case is enqueued once however often it is submitted, and a
 * decision resumes the graph once. Producers: the intake (`CaseProducer`, via `addCaseJob`) and
 * the review queue (`enqueueResume`). Consumer: the cases worker (`workers/cases-worker.ts`).
 */
import { Queue, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.js';
import { BULLMQ_PRIORITY, CaseId, CaseSubmission } from '../domain/case.js';
import { ReviewDecision } from '../domain/plan.js';
import { bullPrefix, QUEUES } from '../infra/redis-keys.js';

export const CASES_QUEUE = QUEUES.cases;

/** The data of a `case` job. */
export const CaseJobData = z.object({
  submission: CaseSubmission,
  submittedBy: z.string().min(1),
  enqueuedAt: z.string(),
  mode: z.enum(['knowledge-driven', 'llm']),
});
export type CaseJobData = z.infer<typeof CaseJobData>;

/** The data of a `resume` job: a human decision for one revision of a case. */
export const ResumeJobData = z.object({ caseId: CaseId, decision: ReviewDecision });
export type ResumeJobData = z.infer<typeof ResumeJobData>;

/**
 * The queue, typed by its `case` jobs (what readers of the queue mostly look at). BullMQ gives a
 * queue one data type, so `enqueueResume` is the one place that adds the other job kind.
 */
export type CasesQueue = Queue<CaseJobData>;

/** BullMQ job id of a case's `case` job. Never an integer and never contains `:`. */
export function caseJobId(caseId: string): string {
  return `case.${caseId}`;
}

/** BullMQ job id of a decision's `resume` job: one per case revision, so a decision resumes once. */
export function resumeJobId(caseId: string, revision: number): string {
  return `resume.${caseId}.r${revision}`;
}

/** The case id in a `case` or `resume` job id; undefined for anything else. */
export function caseIdOfJob(jobId: string | undefined): string | undefined {
  return /^(?:case|resume)\.(.+?)(?:\.r\d+)?$/.exec(jobId ?? '')?.[1];
}

export interface CasesQueueOptions {
  redis: Redis;
  keyPrefix: string;
  /** Attempts of a job (BullMQ retries with exponential backoff). */
  attempts: number;
  retentionSeconds: number;
  /** Receives queue connection errors (they are transient: ioredis reconnects by itself). */
  onError?: (err: Error) => void;
}

export function casesQueueOptions(config: Config, redis: Redis, onError?: (err: Error) => void): CasesQueueOptions {
  return {
    redis,
    keyPrefix: config.redis.keyPrefix,
    attempts: config.worker.attempts,
    retentionSeconds: config.worker.retentionSeconds,
    ...(onError ? { onError } : {}),
  };
}

/** The queue, with its default job options: every producer of case and resume jobs uses this. */
export function createCasesQueue(o: CasesQueueOptions): CasesQueue {
  const queue = new Queue<CaseJobData>(CASES_QUEUE, {
    connection: o.redis,
    prefix: bullPrefix(o.keyPrefix, CASES_QUEUE),
    defaultJobOptions: {
      attempts: o.attempts,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: o.retentionSeconds },
      removeOnFail: { age: o.retentionSeconds },
    },
  });
  queue.on('error', o.onError ?? (() => undefined));
  return queue;
}

/** Add a case's `case` job (a no-op when it exists), served by case priority. */
export async function addCaseJob(queue: CasesQueue, data: CaseJobData): Promise<void> {
  const { caseId, priority } = data.submission;
  await queue.add('case', data, { jobId: caseJobId(caseId), priority: BULLMQ_PRIORITY[priority] });
}

/**
 * Hand a human decision to the case workers: a `resume` job per case revision (deterministic
 * id), so a decision is applied once however often it is submitted. Served before new cases.
 */
export async function enqueueResume(queue: CasesQueue, caseId: string, decision: ReviewDecision): Promise<void> {
  const data = ResumeJobData.parse({ caseId, decision });
  await queue.add('resume', data as never, { jobId: resumeJobId(caseId, decision.revision), priority: 1 });
}

/** Options of the cases Worker: concurrency, and the lock and stall settings that bound a dead worker's jobs. */
export function casesWorkerOptions(redis: Redis, config: Config): WorkerOptions {
  return {
    connection: redis,
    prefix: bullPrefix(config.redis.keyPrefix, CASES_QUEUE),
    concurrency: config.worker.concurrency,
    lockDuration: config.worker.lockMs,
    stalledInterval: Math.max(1000, Math.floor(config.worker.lockMs / 2)),
    maxStalledCount: config.worker.maxStalls,
  };
}
