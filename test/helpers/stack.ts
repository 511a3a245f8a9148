/**
 * Builds real parts of the stack for integration tests: the fastify app with the real
 * producer on the test Redis, and in-process case workers. Everything closes in order.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { rm } from 'node:fs/promises';
import type { GraphDeps } from '../../src/graphs/clinical-case/deps.js';
import { createFailFastRedis, createRedis, waitForRedis } from '../../src/queues/connection.js';
import { CaseProducer } from '../../src/queues/producer.js';
import { buildServer } from '../../src/server/app.js';
import type { KnowledgeBaseStore } from '../../src/tools/knowledge-base/store.js';
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
  redis: Redis;
  logs: LogCapture;
  close(): Promise<void>;
}

export async function startApi(config: Config, logs = new LogCapture(), extra: { knowledgeBase?: KnowledgeBaseStore; literature?: LiteratureClient | null } = {}): Promise<ApiStack> {
  const logger = createLogger({ logLevel: 'debug' }, 'api', logs);
  const redis = createFailFastRedis(config.redis.url!, 'test-api');
  redis.on('error', (err) => logger.debug({ err: err.message }, 'redis error'));
  await waitForRedis(redis);
  const producer = CaseProducer.fromConfig(config, redis, (err) => logger.debug({ err: err.message }, 'queue error'));
  const app = await buildServer({ config, logger, producer, ...extra, checkRedis: async () => void (await redis.ping()) });
  await app.ready();
  return {
    app,
    producer,
    redis,
    logs,
    async close() {
      await app.close();
      await producer.close();
      await redis.quit();
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
export async function startWorker(config: Config, logs = new LogCapture(), overrides: Partial<GraphDeps> = {}): Promise<WorkerStack> {
  const logger = createLogger({ logLevel: 'debug' }, 'cases-worker', logs);
  const redis = createRedis(config.redis.url!, 'test-worker');
  redis.on('error', (err) => logger.debug({ err: err.message }, 'redis error'));
  const runtime = await openCaseRuntime(config, overrides);
  const handle = startCaseWorker({ config, redis, logger, runtime: runtime.runtime });
  await handle.worker.waitUntilReady();
  return {
    handle,
    redis,
    logger,
    async close() {
      await handle.close();
      await runtime.close();
      await redis.quit();
      await rm(config.dataDir, { recursive: true, force: true });
    },
  };
}
