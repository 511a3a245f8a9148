/**
 * The `review` queue: one job per case revision waiting for a human (`review.<caseId>.r<revision>`,
 * job name `review`, ReviewJobData), ordered by BullMQ priority: case priority first, then the
 * most severe verification finding. Producer: the cases worker (`addReviewJob`). Consumer: the
 * API's claims (`ReviewQueue` in review-queue.ts takes jobs by hand under a lease, with the Worker
 * options below); nothing processes review jobs automatically.
 */
import { Queue, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { BULLMQ_PRIORITY, CaseId, CasePriority } from '../domain/case.js';
import { ReviewRequest, Severity } from '../domain/plan.js';
import { bullPrefix, QUEUES } from '../infra/redis-keys.js';

export const REVIEW_QUEUE = QUEUES.review;

/** The data of a review job: one revision of a case waiting for a human. */
export const ReviewJobData = z.object({
  caseId: CaseId,
  revision: z.number().int(),
  casePriority: CasePriority,
  maxSeverity: Severity.nullable(),
  request: ReviewRequest,
  enqueuedAt: z.string(),
});
export type ReviewJobData = z.infer<typeof ReviewJobData>;

/** BullMQ job id of a review job: case id + revision, so a revision is never queued twice. */
export function reviewJobId(caseId: string, revision: number): string {
  return `review.${caseId}.r${revision}`;
}

/** Review queue priority: case priority first, then the most severe finding (lower is served first; always ≥ 10). */
export function reviewPriority(casePriority: CasePriority, maxSeverity: Severity | null): number {
  const severityOrder = { critical: 0, high: 1, moderate: 2, low: 3, info: 4 } as const;
  return BULLMQ_PRIORITY[casePriority] * 10 + (maxSeverity ? severityOrder[maxSeverity] : 5);
}

/** The queue, constructed the same way by its producer (the cases worker) and its consumer (the API). */
export function createReviewQueue(
  redis: Redis,
  keyPrefix: string,
  onError: (err: unknown) => void,
): Queue<ReviewJobData> {
  const queue = new Queue<ReviewJobData>(REVIEW_QUEUE, {
    connection: redis,
    prefix: bullPrefix(keyPrefix, REVIEW_QUEUE),
  });
  queue.on('error', onError);
  return queue;
}

/**
 * Add the review job of a revision (a no-op when it exists). Completed and failed review jobs
 * are kept for `retentionSeconds`: the decided state of a revision is read from its job.
 */
export async function addReviewJob(
  queue: Queue<ReviewJobData>,
  data: ReviewJobData,
  retentionSeconds: number,
): Promise<void> {
  await queue.add('review', data, {
    jobId: reviewJobId(data.caseId, data.revision),
    priority: reviewPriority(data.casePriority, data.maxSeverity),
    removeOnComplete: { age: retentionSeconds },
    removeOnFail: { age: retentionSeconds },
  });
}

/**
 * Options of the claims Worker, which has no processor: jobs are taken by claims. The lock
 * duration is the lease; an abandoned claim stalls and returns to the queue (never failed:
 * abandonment is not an error).
 */
export function reviewWorkerOptions(redis: Redis, keyPrefix: string, leaseMs: number): WorkerOptions {
  return {
    connection: redis,
    prefix: bullPrefix(keyPrefix, REVIEW_QUEUE),
    autorun: false,
    lockDuration: leaseMs,
    stalledInterval: Math.max(500, Math.min(30_000, Math.floor(leaseMs / 2))),
    maxStalledCount: 1_000_000,
  };
}
