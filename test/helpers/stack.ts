/**
 * Builds real parts of the stack for integration tests: the fastify app with the real
 * producer on the test Redis, and in-process case workers. Everything closes in order.
 */
import type { TlsMaterial } from '../../src/infra/tls.js';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { tokenNames, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { rm } from 'node:fs/promises';
import type { GraphDeps } from '../../src/graphs/clinical-case/deps.js';
import { AccountStore } from '../../src/auth/accounts.js';
import { SessionStore } from '../../src/auth/sessions.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { createFailFastRedis, createRedis, waitForRedis } from '../../src/queues/connection.js';
import { casesQueueOptions, createCasesQueue, enqueueResume, type CasesQueue } from '../../src/queues/cases.js';
import { DecisionStore } from '../../src/records/decisions.js';
import type { RecordsDatabase } from '../../src/records/database.js';
import { openTestRecords } from './records.js';
import { DeliveryQueues } from '../../src/queues/delivery.js';
import { CaseProducer } from '../../src/queues/producer.js';
import { ReviewQueue } from '../../src/queues/review-queue.js';
import { buildServer, type ReviewDeps } from '../../src/server/app.js';
import { startDeliveryWorker, type DeliveryWorkerHandle } from '../../workers/delivery-worker.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { deletePrefix } from './env.js';
import { openTestKb, type TestKb } from './kb.js';
import { startReceiver, type Receiver } from './webhook.js';
import type { KnowledgeBaseStore } from '../../src/knowledge/store.js';
import type { LiteratureClient } from '../../src/tools/literature/schema.js';
import { startCaseWorker, type CaseWorkerHandle } from '../../workers/cases-worker.js';
import { openCaseRuntime } from '../../workers/graph-setup.js';

/** A pino destination that keeps every log line, so tests can assert on what was logged. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface ApiStack {
  app: FastifyInstance;
  producer: CaseProducer;
  /** The cases queue review decisions resume through (`enqueueResume`), as in src/server/main.ts. */
  resumes: CasesQueue;
  redis: Redis;
  logs: LogCapture;
  /** With `review: true`: the review queue, accounts, sessions, deliveries and metrics behind the review routes. */
  review: ReviewDeps | null;
  /** The records database (recorded decisions), as the API opens it. */
  records: RecordsDatabase;
  close(): Promise<void>;
}

export async function startApi(
  config: Config,
  logs = new LogCapture(),
  extra: {
    knowledgeBase?: KnowledgeBaseStore;
    literature?: LiteratureClient | null;
    review?: boolean;
    tls?: TlsMaterial | null;
  } = {},
): Promise<ApiStack> {
  const logger = createLogger({ logLevel: 'debug' }, 'api', logs);
  const redis = createFailFastRedis(config.redis.url!, 'test-api');
  redis.on('error', (err) => logger.debug({ err: err.message }, 'redis error'));
  await waitForRedis(redis);
  const onQueueError = (err: Error) => logger.debug({ err: err.message }, 'queue error');
  const producer = CaseProducer.fromConfig(config, redis, onQueueError);
  // Review decisions resume the graph through the cases queue module, not through the intake producer.
  const resumes = createCasesQueue(casesQueueOptions(config, redis, onQueueError));
  let review: ReviewDeps | null = null;
  let queueRedis: Redis | null = null;
  const records = await openTestRecords(config);
  if (extra.review) {
    queueRedis = createRedis(config.redis.url!, 'test-api-review');
    queueRedis.on('error', (err) => logger.debug({ err: err.message }, 'redis error'));
    const prefix = config.redis.keyPrefix;
    const metrics = new Metrics(redis, prefix);
    const decisions = new DecisionStore(records, config.review.signingKey);
    const queue = new ReviewQueue({
      redis: queueRedis,
      keyPrefix: prefix,
      leaseMs: config.review.leaseMs,
      decisions,
      sink: { submitDecision: (caseId, decision) => enqueueResume(resumes, caseId, decision) },
      audit: producer.audit,
      metrics,
    });
    await queue.start();
    review = {
      redis,
      queue,
      decisions,
      metrics,
      accounts: await AccountStore.open({
        databaseUrl: undefined,
        sqlitePath: config.accounts.sqlitePath,
        reservedNames: tokenNames(config),
      }),
      sessions: new SessionStore(redis, prefix, config.sessions),
      deliveries: DeliveryQueues.fromConfig(config, redis),
    };
  }
  const { review: _wanted, ...tools } = extra;
  const app = await buildServer({
    config,
    logger,
    producer,
    ...tools,
    ...(review ? { review } : {}),
    checkRedis: async () => void (await redis.ping()),
  });
  await app.ready();
  return {
    app,
    producer,
    resumes,
    redis,
    logs,
    review,
    records,
    async close() {
      await app.close();
      if (review) {
        await review.queue.close();
        await review.deliveries.close();
        await review.accounts.close();
      }
      await producer.close();
      await resumes.close();
      await queueRedis?.quit();
      await redis.quit();
      await records.close();
    },
  };
}

/** An in-process delivery worker. */
export async function startDelivery(
  config: Config,
  logs = new LogCapture(),
): Promise<{ handle: DeliveryWorkerHandle; close(): Promise<void> }> {
  const logger = createLogger({ logLevel: 'debug' }, 'delivery-worker', logs);
  const redis = createRedis(config.redis.url!, 'test-delivery');
  redis.on('error', (err) => logger.debug({ err: err.message }, 'redis error'));
  const records = await openTestRecords(config);
  const handle = startDeliveryWorker({ config, redis, records, logger });
  await handle.worker.waitUntilReady();
  return {
    handle,
    async close() {
      await handle.close();
      await redis.quit();
      await records.close();
    },
  };
}

export interface WorkerStack {
  handle: CaseWorkerHandle;
  redis: Redis;
  logger: Logger;
  close(): Promise<void>;
}

/** An in-process cases worker with the real graph and a SQLite checkpointer under the suite's DATA_DIR. */
export async function startWorker(
  config: Config,
  logs = new LogCapture(),
  overrides: Partial<GraphDeps> = {},
): Promise<WorkerStack> {
  const logger = createLogger({ logLevel: 'debug' }, 'cases-worker', logs);
  const redis = createRedis(config.redis.url!, 'test-worker');
  redis.on('error', (err) => logger.debug({ err: err.message }, 'redis error'));
  const runtime = await openCaseRuntime(config, overrides);
  const records = await openTestRecords(config);
  const handle = startCaseWorker({ config, redis, records, logger, runtime: runtime.runtime });
  await handle.worker.waitUntilReady();
  return {
    handle,
    redis,
    logger,
    async close() {
      await handle.close();
      await runtime.close();
      await redis.quit();
      await records.close();
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}

export interface ReviewStack {
  api: ApiStack;
  kb: TestKb;
  receiver: Receiver;
  close(): Promise<void>;
}

/**
 * The whole review loop in-process on real Redis: the API with review, a cases worker using
 * the starter knowledge base (no imaging; literature only when given), a delivery worker, and a webhook
 * receiver verifying `secret`. Closes everything and deletes the suite's keys.
 */
export async function startReviewStack(
  config: Config,
  secret: string,
  options: { literature?: LiteratureClient | null } = {},
): Promise<ReviewStack> {
  const kb = await openTestKb('sqlite');
  // The API's literature (reviewer search, sources attached to edits) is the worker's.
  const api = await startApi(config, undefined, { review: true, literature: options.literature ?? null });
  const worker = await startWorker(config, undefined, {
    tools: {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature: options.literature ?? null,
      imaging: null,
    },
  });
  const delivery = await startDelivery(config);
  const receiver = await startReceiver(secret);
  return {
    api,
    kb,
    receiver,
    async close() {
      await delivery.close();
      await worker.close();
      await api.close();
      await receiver.close();
      await kb.drop();
      await deletePrefix(config.redis.keyPrefix);
    },
  };
}
