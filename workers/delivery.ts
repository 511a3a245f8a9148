/**
 * Entry point of a delivery worker process: `tsx workers/delivery.ts`. Sends finalized plans to
 * the callback URLs of their cases (signed webhooks, retries, dead-letter). Run one or more.
 */
import { ConfigError, loadConfig, requireRedisUrl } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createRedis } from '../src/queues/connection.js';
import { startDeliveryWorker } from './delivery-worker.js';
import { installShutdown } from './lifecycle.js';

async function main(): Promise<void> {
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
  const logger = createLogger(config, 'delivery-worker');
  const redis = createRedis(requireRedisUrl(config), 'delivery-worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const handle = startDeliveryWorker({ config, redis, logger });
  await handle.worker.waitUntilReady();
  installShutdown(logger, [
    { name: 'delivery-worker', close: () => handle.close() },
    { name: 'redis', close: async () => void (await redis.quit()) },
  ]);
  logger.info({ concurrency: config.delivery.concurrency, attempts: config.delivery.attempts }, 'delivery worker ready');
}

main().catch((err: unknown) => {
  process.stderr.write(`delivery worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
