import type { FastifyInstance } from 'fastify';

export function registerHealthRoutes(app: FastifyInstance, deps: { checkRedis: () => Promise<void> }): void {
  /** Liveness: the process is up and its event loop turns. */
  app.get('/healthz', () => ({ status: 'ok' }));

  /** Readiness: dependencies answer. 503 while Redis is unreachable. */
  app.get('/readyz', async (request, reply) => {
    const started = performance.now();
    try {
      await deps.checkRedis();
      return { status: 'ready', checks: { redis: { status: 'up', ms: Math.round(performance.now() - started) } } };
    } catch (err) {
      // The reason goes to the log, not to an unauthenticated caller (it names hosts and ports).
      request.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'readiness: redis down');
      return reply.status(503).send({ status: 'unavailable', checks: { redis: { status: 'down' } } });
    }
  });
}
