/**
 * The `dead-letter` queue: a delivery that failed for good (`dead.<caseId>.r<revision>`, job name
 * `dead-letter`, DeadLetterJobData). No worker consumes it: ops see it in Bull Board and through
 * `GET /v1/ops/dead-letters`, and send it again (`DeliveryQueues.retry`). Producer: the delivery
 * worker, after its last attempt.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { CaseId } from '../domain/case.js';
import { bullPrefix, QUEUES } from '../infra/redis-keys.js';

export const DEAD_LETTER_QUEUE = QUEUES.deadLetter;

/** The data of a dead-letter job. */
export const DeadLetterJobData = z.object({
  caseId: CaseId,
  revision: z.number().int(),
  deliveryId: z.string(),
  /** Host of the callback URL (never its path or query). */
  host: z.string(),
  attempts: z.number().int(),
  lastError: z.string(),
  failedAt: z.string(),
});
export type DeadLetterJobData = z.infer<typeof DeadLetterJobData>;

/** BullMQ job id of a dead-lettered delivery: one per case revision. */
export function deadLetterJobId(caseId: string, revision: number): string {
  return `dead.${caseId}.r${revision}`;
}

/** The queue; its jobs are never removed automatically. */
export function createDeadLetterQueue(redis: Redis, keyPrefix: string): Queue<DeadLetterJobData> {
  return new Queue<DeadLetterJobData>(DEAD_LETTER_QUEUE, {
    connection: redis,
    prefix: bullPrefix(keyPrefix, DEAD_LETTER_QUEUE),
  });
}

/** Dead-letter a delivery (a no-op when this revision is dead-lettered already). */
export async function addDeadLetter(queue: Queue<DeadLetterJobData>, data: DeadLetterJobData): Promise<void> {
  await queue.add('dead-letter', DeadLetterJobData.parse(data), { jobId: deadLetterJobId(data.caseId, data.revision) });
}

/** The dead-lettered deliveries, oldest first, with when each was dead-lettered. */
export async function listDeadLetters(
  queue: Queue<DeadLetterJobData>,
  limit: number,
): Promise<Array<DeadLetterJobData & { deadLetteredAt: string }>> {
  const jobs = await queue.getJobs(['waiting', 'prioritized'], 0, limit - 1);
  return jobs.map((j) => ({ ...DeadLetterJobData.parse(j.data), deadLetteredAt: new Date(j.timestamp).toISOString() }));
}
