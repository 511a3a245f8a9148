/**
 * BullMQ wiring for the `delivery` queue: the Worker with its concurrency and lock, and a
 * close() that lets active deliveries finish within the grace period.
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { Metrics } from '../src/metrics/metrics.js';
import { AuditLog } from '../src/audit/case-log.js';
import { CaseStore } from '../src/cases/store.js';
import { DELIVERY_QUEUE, DeliveryQueues, deliveryWorkerOptions } from '../src/queues/delivery.js';
import { createDeliveryProcessor } from './delivery-processor.js';
import { CaseLedger } from '../src/records/case-ledger.js';
import type { RecordsDatabase } from '../src/records/database.js';

export interface DeliveryWorkerHandle {
  worker: Worker;
  queues: DeliveryQueues;
  close(): Promise<void>;
}

export function startDeliveryWorker(opts: {
  config: Config;
  redis: Redis;
  /** The records database (the case ledger). */
  records: RecordsDatabase;
  logger: Logger;
}): DeliveryWorkerHandle {
  const { config, redis, logger } = opts;
  const queues = DeliveryQueues.fromConfig(config, redis, (err) =>
    logger.warn({ err: err.message }, 'delivery queue error'),
  );
  if (Object.keys(config.delivery.secrets).length === 0)
    logger.warn('WEBHOOK_SECRETS is empty: no plan can be sent by webhook (cases with a callbackUrl are refused)');
  const processor = createDeliveryProcessor({
    store: new CaseStore(redis, config.redis.keyPrefix),
    ledger: new CaseLedger(opts.records),
    audit: new AuditLog(redis, config.redis.keyPrefix, config.audit.chainKey),
    metrics: new Metrics(redis, config.redis.keyPrefix),
    addDeadLetter: (data) => queues.addDeadLetter(data),
    logger,
    secrets: config.delivery.secrets,
    timeoutMs: config.delivery.timeoutMs,
    hostAllowlist: config.callbacks.hostAllowlist,
  });
  const worker = new Worker(DELIVERY_QUEUE, processor, deliveryWorkerOptions(redis, config));
  worker.on('error', (err) => logger.error({ err: err.message }, 'delivery worker error'));
  return {
    worker,
    queues,
    async close() {
      // Deliveries are short (bounded by WEBHOOK_TIMEOUT_MS); one interrupted by a hard stop is retried.
      await Promise.race([worker.close(), new Promise((r) => setTimeout(r, config.worker.shutdownGraceMs))]);
      await queues.close();
    },
  };
}
