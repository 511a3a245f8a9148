/** A raw BullMQ Worker process with a no-op processor (queue RAW_QUEUE, default "raw", under RAW_PREFIX). */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
const worker = new Worker(process.env.RAW_QUEUE ?? 'raw', () => Promise.resolve(undefined), {
  connection,
  prefix: process.env.RAW_PREFIX!,
  concurrency: Number(process.env.WORKER_CONCURRENCY ?? 16),
});
await worker.waitUntilReady();
process.on('SIGTERM', () => {
  void worker.close().then(() => {
    connection.disconnect();
    process.exit(0);
  });
});
