/**
 * The HTTP server (fastify). It depends on the case producer and a Redis health check only:
 * it imports neither workers nor graph internals.
 */
import { addHsts, httpsOption, type TlsMaterial } from '../infra/tls.js';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyRequest,
} from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Redis } from 'ioredis';
import type { AccountStore } from '../auth/accounts.js';
import { LoginLimiter } from '../auth/login-limiter.js';
import type { SessionStore } from '../auth/sessions.js';
import type { Config } from '../config.js';
import { RedisUnavailableError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { isRedisUnavailable } from '../queues/connection.js';
import type { DecisionStore } from '../records/decisions.js';
import type { DeliveryQueues } from '../queues/delivery.js';
import type { CaseProducer } from '../queues/producer.js';
import type { ReviewQueue } from '../queues/review-queue.js';
import type { KnowledgeBaseStore } from '../knowledge/store.js';
import type { LiteratureClient } from '../tools/literature/schema.js';
import { buildOpenApiDocument } from './openapi.js';
import { jsonDepth, MAX_JSON_DEPTH } from './json-depth.js';
import { problem, problemFor, sendProblem } from './problem.js';
import { Authenticator } from './auth.js';
import { SecurityLog } from '../audit/security-log.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerCaseRoutes } from './routes/cases.js';
import { registerOpsRoutes } from './routes/ops.js';
import { registerReviewUi } from './routes/review-ui.js';
import { registerReviewRoutes } from './routes/reviews.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerKnowledgeBaseRoutes } from './routes/knowledge-base.js';
import { registerLiteratureRoutes } from './routes/literature.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Method and URL pattern of every route (HEAD excluded). */
    registeredRoutes: ReadonlyArray<{ method: string; url: string }>;
  }
}

export interface ServerDeps {
  config: Config;
  /** Serve HTTPS with this certificate and key (`loadTls(config)`), with HSTS; absent: plain HTTP. */
  tls?: TlsMaterial | null;
  logger: Logger;
  producer: CaseProducer;
  checkRedis: () => Promise<void>;
  /** The knowledge base behind /v1/kb; without it those routes are not served. */
  knowledgeBase?: KnowledgeBaseStore;
  /** The literature client behind /v1/literature/search (null: the route answers 503 not configured). */
  literature?: LiteratureClient | null;
  /** Human review, staff sign-in, the review UI, delivery operations and metrics; without it those routes are not served. */
  review?: ReviewDeps;
}

export interface ReviewDeps {
  /** For login rate limits shared by every API process. */
  redis: Redis;
  queue: ReviewQueue;
  decisions: DecisionStore;
  accounts: AccountStore;
  sessions: SessionStore;
  deliveries: DeliveryQueues;
  metrics: Metrics;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const app = Fastify({
    ...httpsOption(deps.tls),
    // The cast keeps FastifyInstance's default logger type, so routes type-check against FastifyInstance.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: config.http.maxBodyBytes,
    trustProxy: config.http.trustProxy.length ? [...config.http.trustProxy] : false,
    return503OnClosing: true,
    // One line per request (the onResponse hook below) instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  });
  addHsts(app, deps.tls);
  // Every route as registered, for the authorisation matrix test and the docs.
  const routes: Array<{ method: string; url: string }> = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  // Every answer: no MIME sniffing and no framing (Bull Board and /docs included); API answers
  // carry patient data, so no cache keeps them unless a route says otherwise.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!reply.hasHeader('x-content-type-options')) void reply.header('x-content-type-options', 'nosniff');
    if (!reply.hasHeader('x-frame-options')) void reply.header('x-frame-options', 'DENY');
    if (request.url.startsWith('/v1/') && !reply.hasHeader('cache-control'))
      void reply.header('cache-control', 'no-store');
    done(null, payload);
  });
  app.addHook('onResponse', (request, reply, done) => {
    request.log.info(
      {
        method: request.method,
        url: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    done();
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) {
      // Read and discard the rest of the body, then close: the client finishes sending and gets
      // this answer rather than a broken pipe (a lingering close, as HTTP servers do).
      request.raw.resume();
      void reply.header('connection', 'close');
      return sendProblem(
        reply,
        problem(
          413,
          'PAYLOAD_TOO_LARGE',
          'Payload too large',
          `request bodies are limited to ${config.http.maxBodyBytes} bytes`,
        ),
      );
    }
    if (status === 415)
      return sendProblem(
        reply,
        problem(415, 'UNSUPPORTED_MEDIA_TYPE', 'Unsupported media type', 'send the case as application/json'),
      );
    if (
      status === 400 &&
      (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
        err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
        err instanceof SyntaxError)
    ) {
      return sendProblem(reply, problem(400, 'MALFORMED_JSON', 'Malformed JSON', 'the request body is not valid JSON'));
    }
    if (err.code === 'JSON_TOO_DEEP')
      return sendProblem(reply, problem(400, 'JSON_TOO_DEEP', 'JSON nested too deeply', err.message));
    if (status >= 400 && status < 500)
      return sendProblem(reply, problem(status, err.code ?? 'BAD_REQUEST', 'Bad request', err.message));
    request.log.error({ err: { code: err.code, message: err.message, stack: err.stack } }, 'unhandled error');
    if (isRedisUnavailable(err))
      return sendProblem(reply, problemFor(new RedisUnavailableError({ cause: err }), 'Service unavailable'));
    return sendProblem(reply, problem(500, 'INTERNAL', 'Internal error'));
  });
  // Cases are JSON only (application/json or application/fhir+json); anything else is a 415.
  // Nesting is bounded before parsing: a body nested deeper than MAX_JSON_DEPTH is a clear 400, never a stack overflow.
  app.removeContentTypeParser(['text/plain', 'application/json']);
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const boundedJson = (
    request: FastifyRequest,
    body: string | Buffer,
    done: (err: Error | null, value?: unknown) => void,
  ) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (jsonDepth(text) > MAX_JSON_DEPTH)
      return done(
        Object.assign(new Error(`the request body is nested deeper than ${MAX_JSON_DEPTH} levels`), {
          statusCode: 400,
          code: 'JSON_TOO_DEEP',
        }),
      );
    void parseJson(request, text, done);
  };
  app.addContentTypeParser(['application/json', 'application/fhir+json'], { parseAs: 'string' }, boundedJson);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      problem(404, 'NOT_FOUND', 'Not found', `no route for ${request.method} ${request.url.split('?')[0]}`),
    ),
  );

  const document = buildOpenApiDocument({ maxBodyBytes: config.http.maxBodyBytes });
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, () => document);

  await app.register(cookie);
  const r = deps.review;
  const security = r ? new SecurityLog(r.redis, config.redis.keyPrefix, config.audit.chainKey) : null;
  const auth = new Authenticator(config.auth, r?.sessions ?? null, r?.accounts ?? null, security);

  registerHealthRoutes(app, { checkRedis: deps.checkRedis });
  registerCaseRoutes(app, { producer: deps.producer, auth, audit: deps.producer.audit });
  if (deps.knowledgeBase) registerKnowledgeBaseRoutes(app, { store: deps.knowledgeBase, auth });
  registerLiteratureRoutes(app, { client: deps.literature ?? null, auth });
  if (r) {
    const store = deps.producer.store;
    const audit = deps.producer.audit;
    const limiter = new LoginLimiter(r.redis, config.redis.keyPrefix, config.sessions.loginRateLimit);
    const sessionDeps = {
      accounts: r.accounts,
      sessions: r.sessions,
      cookieSecure: config.sessions.cookieSecure,
      limiter,
      security: security!,
    };
    registerAuthRoutes(app, { auth, ...sessionDeps });
    const reviewDeps = {
      auth,
      queue: r.queue,
      decisions: r.decisions,
      audit,
      store,
      literature: deps.literature ?? null,
      tokenDecisions: config.review.tokenDecisions,
    };
    registerReviewRoutes(app, reviewDeps);
    await registerOpsRoutes(app, {
      auth,
      metrics: r.metrics,
      queues: {
        cases: deps.producer.queue,
        review: r.queue.queue,
        delivery: r.deliveries.delivery,
        deadLetter: r.deliveries.deadLetter,
      },
      deliveries: r.deliveries,
      store,
      audit,
      security: security!,
    });
    // Forms (urlencoded) only for the UI: the /v1 API stays JSON-only.
    await app.register(async (ui) => {
      await ui.register(formbody);
      registerReviewUi(ui, { ...reviewDeps, leaseMs: config.review.leaseMs, ...sessionDeps });
    });
  }
  return app;
}
