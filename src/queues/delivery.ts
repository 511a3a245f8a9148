/**
 * The `delivery` and `dead-letter` queues. A closed case gets one delivery job
 * (`deliver.<caseId>.r<revision>`), retried with exponential backoff; a delivery that fails for
 * good is copied to `dead-letter` (`dead.<caseId>.r<revision>`), where no worker consumes it:
 * ops see it in Bull Board and through `/v1/ops/dead-letters`, and can send it again.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { DeadLetterJobData, DeliveryJobData } from '../domain/review.js';
import { bullPrefix, deadLetterJobId, deliveryJobId, QUEUES } from './names.js';

export interface DeliveryQueueOptions {
  redis: Redis;
  keyPrefix: string;
  attempts: number;
  backoffMs: number;
  retentionSeconds: number;
  onError?: (err: Error) => void;
}

export class DeliveryQueues {
  readonly delivery: Queue<DeliveryJobData>;
  readonly deadLetter: Queue<DeadLetterJobData>;

  constructor(private readonly o: DeliveryQueueOptions) {
    this.delivery = new Queue<DeliveryJobData>(QUEUES.delivery, {
      connection: o.redis,
      prefix: bullPrefix(o.keyPrefix, QUEUES.delivery),
      defaultJobOptions: {
        attempts: o.attempts,
        backoff: { type: 'exponential', delay: o.backoffMs },
        removeOnComplete: { age: o.retentionSeconds },
        removeOnFail: { age: o.retentionSeconds },
      },
    });
    this.deadLetter = new Queue<DeadLetterJobData>(QUEUES.deadLetter, {
      connection: o.redis,
      prefix: bullPrefix(o.keyPrefix, QUEUES.deadLetter),
    });
    for (const q of [this.delivery, this.deadLetter]) q.on('error', o.onError ?? (() => undefined));
  }

  /** Enqueue the delivery of a closed case revision (once: the job id is deterministic). */
  async enqueue(data: DeliveryJobData): Promise<void> {
    await this.delivery.add('deliver', DeliveryJobData.parse(data), {
      jobId: deliveryJobId(data.caseId, data.revision),
    });
  }

  async deadLetters(limit = 500): Promise<Array<DeadLetterJobData & { deadLetteredAt: string }>> {
    const jobs = await this.deadLetter.getJobs(['waiting', 'prioritized'], 0, limit - 1);
    return jobs.map((j) => ({
      ...DeadLetterJobData.parse(j.data),
      deadLetteredAt: new Date(j.timestamp).toISOString(),
    }));
  }

  async addDeadLetter(data: DeadLetterJobData): Promise<void> {
    await this.deadLetter.add('dead-letter', DeadLetterJobData.parse(data), {
      jobId: deadLetterJobId(data.caseId, data.revision),
    });
  }

  /** Send a dead-lettered delivery again: the failed job is replaced by a fresh one with all its attempts. Null when nothing is dead-lettered. */
  /** Whether a delivery of this revision is dead-lettered. */
  async isDeadLettered(caseId: string, revision: number): Promise<boolean> {
    return (await this.deadLetter.getJob(deadLetterJobId(caseId, revision))) !== undefined;
  }

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
