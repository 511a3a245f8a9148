/** Entry point of the API server: `tsx src/server/main.ts` (or node dist/src/server/main.js). */
import { ConfigError, loadConfig, requireRedisUrl } from '../config.js';
import { createLogger } from '../logger.js';
import { AccountStore } from '../auth/accounts.js';
import { SessionStore } from '../auth/sessions.js';
import { Metrics } from '../metrics/metrics.js';
import { createFailFastRedis, createRedis, waitForRedis } from '../queues/connection.js';
import { DecisionStore } from '../queues/decisions.js';
import { DeliveryQueues } from '../queues/delivery.js';
import { CaseProducer } from '../queues/producer.js';
import { ReviewQueue } from '../queues/review-queue.js';
import { openKnowledgeBase } from '../tools/knowledge-base/open.js';
import { literatureClient } from '../tools/literature/open.js';
import { buildServer } from './app.js';

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
  const logger = createLogger(config, 'api');
  if (config.auth.serviceTokens.length === 0) logger.warn('SERVICE_TOKENS is empty: every /v1 request will get 401');
  const redis = createFailFastRedis(requireRedisUrl(config), 'api');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await waitForRedis(redis, 30_000);
  const producer = CaseProducer.fromConfig(config, redis, (err) => logger.warn({ err: err.message }, 'queue error'));
  const knowledgeBase = await openKnowledgeBase({
    databaseUrl: config.database.url,
    sqlitePath: config.knowledgeBase.sqlitePath,
    seed: config.knowledgeBase.seed,
    onSeed: (r) => logger.info({ revision: r.revision, entities: r.entities.added, facts: r.facts.added, ms: Math.round(r.durationMs) }, 'knowledge base seeded'),
  });
  const literature = literatureClient(config, redis);
  if (!literature) logger.warn('LITERATURE_BASE_URL is unset: /v1/literature/search answers 503 and literature steps report "not configured"');
  // Claims use a BullMQ worker connection (commands wait out a Redis restart instead of failing).
  const queueRedis = createRedis(requireRedisUrl(config), 'api-review');
  queueRedis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const prefix = config.redis.keyPrefix;
  const metrics = new Metrics(redis, prefix);
  const decisions = new DecisionStore(redis, prefix);
  const reviewQueue = new ReviewQueue({
    redis: queueRedis,
    keyPrefix: prefix,
    leaseMs: config.review.leaseMs,
    decisions,
    sink: producer,
    audit: producer.audit,
    metrics,
    onError: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'review queue error'),
  });
  await reviewQueue.start();
  const deliveries = new DeliveryQueues({ redis, keyPrefix: prefix, attempts: config.delivery.attempts, backoffMs: config.delivery.backoffMs, retentionSeconds: config.worker.retentionSeconds, onError: (err) => logger.warn({ err: err.message }, 'delivery queue error') });
  const accounts = await AccountStore.open({ databaseUrl: config.database.url, sqlitePath: config.accounts.sqlitePath });
  const sessions = new SessionStore(redis, prefix, config.sessions.ttlSeconds);
  if ((await accounts.list()).length === 0) logger.warn('no staff accounts yet: create one with `npm run accounts -- add <name> --roles reviewer` to use the review UI');
  const app = await buildServer({
    config,
    logger,
    producer,
    knowledgeBase,
    literature,
    checkRedis: async () => void (await redis.ping()),
    review: { redis, queue: reviewQueue, decisions, accounts, sessions, deliveries, metrics, casesQueue: producer.queue },
  });
  await app.listen({ host: config.http.host, port: config.http.port });

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) process.exit(1);
    closing = true;
    logger.info({ signal }, 'shutting down');
    await app.close(); // stop accepting requests, finish in-flight ones
    await reviewQueue.close(); // then the queues
    await deliveries.close();
    await producer.close();
    await queueRedis.quit(); // then the connections
    await redis.quit();
    await knowledgeBase.close();
    await accounts.close();
    logger.info('shutdown complete');
    process.exit(0);
  };
  process.on('SIGTERM', (s) => void shutdown(s));
  process.on('SIGINT', (s) => void shutdown(s));
}

main().catch((err: unknown) => {
  process.stderr.write(`server failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
