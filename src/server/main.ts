/** Entry point of the API server: `tsx src/server/main.ts` (or node dist/src/server/main.js). */
import { loadTls } from '../infra/tls.js';
import { loadConfigOrExit, requireRedisUrl, tokenNames } from '../config.js';
import { installShutdown } from '../infra/shutdown.js';
import { createLogger } from '../logger.js';
import { AccountStore } from '../auth/accounts.js';
import { SessionStore } from '../auth/sessions.js';
import { Metrics } from '../metrics/metrics.js';
import { casesQueueOptions, createCasesQueue, enqueueResume } from '../queues/cases.js';
import { createFailFastRedis, createRedis, waitForRedis } from '../queues/connection.js';
import { openRecordsDatabase } from '../records/database.js';
import { DecisionStore } from '../records/decisions.js';
import { DeliveryQueues } from '../queues/delivery.js';
import { CaseProducer } from '../queues/producer.js';
import { ReviewQueue } from '../queues/review-queue.js';
import { openKnowledgeBase } from '../knowledge/open.js';
import { literatureClient } from '../tools/literature/open.js';
import { buildServer } from './app.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit(process.env, { needsRedis: true });
  const logger = createLogger(config, 'api');
  if (config.auth.serviceTokens.length === 0) logger.warn('SERVICE_TOKENS is empty: every /v1 request will get 401');
  const redis = createFailFastRedis(requireRedisUrl(config), 'api');
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  await waitForRedis(redis, 30_000);
  const onQueueError = (err: Error) => logger.warn({ err: err.message }, 'queue error');
  const producer = CaseProducer.fromConfig(config, redis, onQueueError);
  // Review decisions resume the graph through the cases queue, not through the intake producer.
  const resumes = createCasesQueue(casesQueueOptions(config, redis, onQueueError));
  const knowledgeBase = await openKnowledgeBase({
    databaseUrl: config.database.url,
    sqlitePath: config.knowledgeBase.sqlitePath,
    seed: config.knowledgeBase.seed,
    onSeed: (r) =>
      logger.info(
        { revision: r.revision, entities: r.entities.added, facts: r.facts.added, ms: Math.round(r.durationMs) },
        'knowledge base seeded',
      ),
  });
  const literature = literatureClient(config, redis);
  if (!literature)
    logger.warn(
      'LITERATURE_BASE_URL is unset: /v1/literature/search answers 503 and literature steps report "not configured"',
    );
  // Claims use a BullMQ worker connection (commands wait out a Redis restart instead of failing).
  const queueRedis = createRedis(requireRedisUrl(config), 'api-review');
  queueRedis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const prefix = config.redis.keyPrefix;
  const metrics = new Metrics(redis, prefix);
  // Decisions are recorded in the records database (Postgres with the checkpoints, or SQLite), never only in Redis.
  const records = await openRecordsDatabase({
    databaseUrl: config.database.url,
    sqlitePath: config.database.sqlitePath,
  });
  const decisions = new DecisionStore(records, config.review.signingKey);
  const reviewQueue = new ReviewQueue({
    redis: queueRedis,
    keyPrefix: prefix,
    leaseMs: config.review.leaseMs,
    decisions,
    sink: { submitDecision: (caseId, decision) => enqueueResume(resumes, caseId, decision) },
    audit: producer.audit,
    metrics,
    onError: (err) => logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'review queue error'),
  });
  await reviewQueue.start();
  const deliveries = DeliveryQueues.fromConfig(config, redis, (err) =>
    logger.warn({ err: err.message }, 'delivery queue error'),
  );
  const accounts = await AccountStore.open({
    databaseUrl: config.database.url,
    sqlitePath: config.accounts.sqlitePath,
    reservedNames: tokenNames(config),
  });
  const clashes = await accounts.clashes();
  if (clashes.length) {
    await accounts.close();
    throw new Error(
      `staff accounts ${clashes.join(', ')} share their names with service or staff tokens: rename the token (or disable and replace the account) so each audit entry names one identity`,
    );
  }
  const sessions = new SessionStore(redis, prefix, config.sessions);
  if ((await accounts.list()).length === 0)
    logger.warn(
      'no staff accounts yet: create one with `npm run accounts -- add <name> --roles reviewer` to use the review UI',
    );
  const tls = loadTls(config);
  const app = await buildServer({
    config,
    tls,
    logger,
    producer,
    knowledgeBase,
    literature,
    checkRedis: async () => void (await redis.ping()),
    review: { redis, queue: reviewQueue, decisions, accounts, sessions, deliveries, metrics },
  });
  await app.listen({ host: config.http.host, port: config.http.port });
  logger.info(
    { url: `${tls ? 'https' : 'http'}://${config.http.host}:${config.http.port}`, hsts: Boolean(tls) },
    tls ? 'API serving HTTPS' : 'API serving plain HTTP (put a TLS-terminating proxy in front, or set TLS_CERT_FILE)',
  );

  // Requests first (in-flight ones finish), then the queues, then the connections and stores.
  installShutdown(logger, [
    { name: 'http', close: () => app.close() },
    { name: 'review-queue', close: () => reviewQueue.close() },
    { name: 'delivery-queues', close: () => deliveries.close() },
    { name: 'cases-queue', close: async () => void (await Promise.all([producer.close(), resumes.close()])) },
    { name: 'redis', close: async () => void (await Promise.all([queueRedis.quit(), redis.quit()])) },
    {
      name: 'stores',
      close: async () => void (await Promise.all([knowledgeBase.close(), accounts.close(), records.close()])),
    },
  ]);
}

main().catch((err: unknown) => {
  process.stderr.write(`server failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
