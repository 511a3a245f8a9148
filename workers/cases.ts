/**
 * Entry point of a `cases` worker process: `tsx workers/cases.ts` (or node dist/workers/cases.js).
 * Run as many of these as the load needs, on as many machines as share the Redis.
 */
import { ConfigError, loadConfig, requireRedisUrl } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { intakeOnlyPipeline } from '../src/pipeline/intake-only.js';
import { createRedis } from '../src/queues/connection.js';
import { startCaseWorker } from './cases-worker.js';
import { installShutdown } from './lifecycle.js';
import type { CasePipeline } from '../src/pipeline/types.js';

export async function runCaseWorkerProcess(pipeline: CasePipeline = intakeOnlyPipeline()): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
    requireRedisUrl(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config, 'cases-worker');
  const redis = createRedis(requireRedisUrl(config), 'cases-worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const handle = startCaseWorker({ config, redis, logger, pipeline });
  await handle.worker.waitUntilReady();
  installShutdown(logger, [
    { name: 'cases-worker', close: () => handle.close() },
    { name: 'redis', close: async () => void (await redis.quit()) },
  ]);
  logger.info({ concurrency: config.worker.concurrency, pipeline: pipeline.name, mode: config.model.mode }, 'cases worker ready');
}

const isMain = import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('workers/cases.ts');
if (isMain) {
  runCaseWorkerProcess().catch((err: unknown) => {
    process.stderr.write(`cases worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
