/**
 * The `delivery` queue: one job per closed case revision (`deliver.<caseId>.r<revision>`, job
 * name `deliver`, DeliveryJobData), retried with exponential backoff; a delivery that fails for
 * good is copied to the dead-letter queue (dead-letter.ts). Producers: the cases worker when a
 * case closes, and ops retrying a dead letter. Consumer: the delivery worker
 * (`workers/delivery-worker.ts`, with `deliveryWorkerOptions`).
 *
 * `DeliveryQueues` holds the delivery queue together with the dead-letter queue, since every
 * user of one (the delivery worker, the ops API) needs the other too.
 */
import { Queue, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Config } from '../config.js';
import { CaseId } from '../domain/case.js';
import { DeliveryPayload } from '../domain/review.js';
import {
  addDeadLetter,
  createDeadLetterQueue,
  deadLetterJobId,
  listDeadLetters,
  type DeadLetterJobData,
} from './dead-letter.js';
import { bullPrefix, QUEUES } from '../infra/redis-keys.js';

export const DELIVERY_QUEUE = QUEUES.delivery;

/** The data of a delivery job. */
export const DeliveryJobData = z.object({
  caseId: CaseId,
  revision: z.number().int(),
  status: DeliveryPayload.shape.status,
  enqueuedAt: z.string(),
});
export type DeliveryJobData = z.infer<typeof DeliveryJobData>;

/** BullMQ job id of a case's delivery: one per case revision, so a finalized plan is delivered once. */
export function deliveryJobId(caseId: string, revision: number): string {
  return `deliver.${caseId}.r${revision}`;
}

/** The id receivers deduplicate on (`X-CO-Delivery-Id`): stable for a case revision across retries. */
export function deliveryId(caseId: string, revision: number): string {
  return `${caseId}.r${revision}`;
}

export interface DeliveryQueueOptions {
  redis: Redis;
  keyPrefix: string;
  attempts: number;
  backoffMs: number;
  retentionSeconds: number;
  onError?: (err: Error) => void;
}

/** The delivery queue with its default job options (attempts, backoff, retention). */
export function createDeliveryQueue(o: Omit<DeliveryQueueOptions, 'onError'>): Queue<DeliveryJobData> {
  return new Queue<DeliveryJobData>(DELIVERY_QUEUE, {
    connection: o.redis,
    prefix: bullPrefix(o.keyPrefix, DELIVERY_QUEUE),
    defaultJobOptions: {
      attempts: o.attempts,
      backoff: { type: 'exponential', delay: o.backoffMs },
      removeOnComplete: { age: o.retentionSeconds },
      removeOnFail: { age: o.retentionSeconds },
    },
  });
}

/** Options of the delivery Worker: a lock that outlasts a webhook timeout, and generous stall allowance. */
export function deliveryWorkerOptions(redis: Redis, config: Config): WorkerOptions {
  return {
    connection: redis,
    prefix: bullPrefix(config.redis.keyPrefix, DELIVERY_QUEUE),
    concurrency: config.delivery.concurrency,
    lockDuration: Math.max(config.worker.lockMs, config.delivery.timeoutMs * 2),
    maxStalledCount: 5,
  };
}

export class DeliveryQueues {
  readonly delivery: Queue<DeliveryJobData>;
  readonly deadLetter: Queue<DeadLetterJobData>;

  constructor(o: DeliveryQueueOptions) {
    this.delivery = createDeliveryQueue(o);
    this.deadLetter = createDeadLetterQueue(o.redis, o.keyPrefix);
    for (const q of [this.delivery, this.deadLetter]) q.on('error', o.onError ?? (() => undefined));
  }

  /** Enqueue the delivery of a closed case revision (once: the job id is deterministic). */
  async enqueue(data: DeliveryJobData): Promise<void> {
    await this.delivery.add('deliver', DeliveryJobData.parse(data), {
      jobId: deliveryJobId(data.caseId, data.revision),
    });
  }

  deadLetters(limit = 500): Promise<Array<DeadLetterJobData & { deadLetteredAt: string }>> {
    return listDeadLetters(this.deadLetter, limit);
  }

  addDeadLetter(data: DeadLetterJobData): Promise<void> {
    return addDeadLetter(this.deadLetter, data);
  }

  /** Whether a delivery of this revision is dead-lettered. */
  async isDeadLettered(caseId: string, revision: number): Promise<boolean> {
    return (await this.deadLetter.getJob(deadLetterJobId(caseId, revision))) !== undefined;
  }

  /** Send a dead-lettered delivery again: the failed job is replaced by a fresh one with all its attempts. Null when nothing is dead-lettered. */
  async retry(caseId: string, revision: number, status: DeliveryJobData['status']): Promise<DeliveryJobData | null> {
    const dead = await this.deadLetter.getJob(deadLetterJobId(caseId, revision));
    if (!dead) return null;
    const old = await this.delivery.getJob(deliveryJobId(caseId, revision));
    if (old) await old.remove();
    const data: DeliveryJobData = { caseId, revision, status, enqueuedAt: new Date().toISOString() };
    await this.enqueue(data);
    await dead.remove();
    return data;
  }

  static fromConfig(config: Config, redis: Redis, onError?: (err: Error) => void): DeliveryQueues {
    return new DeliveryQueues({
      redis,
      keyPrefix: config.redis.keyPrefix,
      attempts: config.delivery.attempts,
      backoffMs: config.delivery.backoffMs,
      retentionSeconds: config.worker.retentionSeconds,
      ...(onError ? { onError } : {}),
    });
  }

  async close(): Promise<void> {
    await this.delivery.close();
    await this.deadLetter.close();
  }
}
