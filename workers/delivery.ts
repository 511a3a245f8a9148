/**
 * Entry point of a delivery worker process: `tsx workers/delivery.ts`. Sends finalized plans to
 * the callback URLs of their cases (signed webhooks, retries, dead-letter). Run one or more.
 */
import { loadConfigOrExit, requireRedisUrl } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { createRedis } from '../src/queues/connection.js';
import { startDeliveryWorker } from './delivery-worker.js';
import { installShutdown } from '../src/infra/shutdown.js';
import { openRecordsDatabase } from '../src/records/database.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { needsRedis: true });
  const logger = createLogger(config, 'delivery-worker');
  const redis = createRedis(requireRedisUrl(config), 'delivery-worker');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const records = await openRecordsDatabase({
    databaseUrl: config.database.url,
    sqlitePath: config.database.sqlitePath,
  });
  const handle = startDeliveryWorker({ config, redis, records, logger });
  await handle.worker.waitUntilReady();
  installShutdown(logger, [
    { name: 'delivery-worker', close: () => handle.close() },
    { name: 'redis', close: async () => void (await redis.quit()) },
    { name: 'records', close: () => records.close() },
  ]);
  logger.info(
    { concurrency: config.delivery.concurrency, attempts: config.delivery.attempts },
    'delivery worker ready',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`delivery worker failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
