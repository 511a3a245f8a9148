/**
 * Entry point of a `cases` worker process: `tsx workers/cases.ts` (or node dist/workers/cases.js).
 * Run as many of these as the load needs; they share Redis and the checkpoint database.
 */
import { setMaxListeners } from 'node:events';
import { loadConfigOrExit, requireRedisUrl } from '../src/config.js';
import { MAX_PARALLEL_LISTENERS } from '../src/graphs/clinical-case/runtime.js';
import type { GraphDeps } from '../src/graphs/clinical-case/deps.js';
import { createLogger } from '../src/logger.js';
import { createRedis } from '../src/queues/connection.js';
import { startCaseWorker } from './cases-worker.js';
import { openCaseRuntime } from './graph-setup.js';
import type { FaultHooks } from '../src/infra/faults.js';
import { installShutdown } from '../src/infra/shutdown.js';
import { openRecordsDatabase } from '../src/records/database.js';

/** What a test process may replace: graph dependencies, and fault-injection seams (never set in production). */
export interface CaseWorkerProcessOptions extends Partial<GraphDeps> {
  faults?: FaultHooks;
}

export async function runCaseWorkerProcess(options: CaseWorkerProcessOptions = {}): Promise<void> {
  const { faults, ...overrides } = options;
  // LangGraph combines the run's signal with its own into new signals that every parallel step task
  // listens on; raise Node's default warning threshold (10) for the signals of this process.
  setMaxListeners(MAX_PARALLEL_LISTENERS);
  const config = loadConfigOrExit(process.env, { needsRedis: true });
  const runtime = await openCaseRuntime(config, overrides, faults);
  const logger = createLogger(config, 'cases-worker');
  const redis = createRedis(requireRedisUrl(config), 'cases-worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const records = await openRecordsDatabase({
    databaseUrl: config.database.url,
    sqlitePath: config.database.sqlitePath,
  });
  const handle = startCaseWorker({
    config,
    redis,
    records,
    logger,
    runtime: runtime.runtime,
    ...(faults ? { faults } : {}),
  });
  await handle.worker.waitUntilReady();
  installShutdown(logger, [
    { name: 'cases-worker', close: () => handle.close() },
    { name: 'checkpointer', close: () => runtime.close() },
    { name: 'redis', close: async () => void (await redis.quit()) },
    { name: 'records', close: () => records.close() },
  ]);
  logger.info({ concurrency: config.worker.concurrency, mode: config.model.mode }, 'cases worker ready');
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('workers/cases.ts');
if (isMain) {
  runCaseWorkerProcess().catch((err: unknown) => {
    process.stderr.write(`cases worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
