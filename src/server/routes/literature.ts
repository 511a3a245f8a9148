/**
 * `POST /v1/literature/search`: reviewers look further than the plan did. Same query model and
 * client as the graph's literature steps (PubMed E-utilities or the local service).
 */
import type { FastifyInstance } from 'fastify';
import { toFieldIssues } from '../../domain/validation.js';
import { ToolError } from '../../tools/common.js';
import { LiteratureQuery, type LiteratureClient } from '../../tools/literature/schema.js';
import { requireRole, type Authenticator } from '../auth.js';
import { httpStatus, problem, sendProblem } from '../problem.js';

export function registerLiteratureRoutes(
  app: FastifyInstance,
  deps: { client: LiteratureClient | null; auth: Authenticator },
): void {
  app.post(
    '/v1/literature/search',
    { preHandler: requireRole(deps.auth, ['reviewer', 'kb_editor']) },
    async (request, reply) => {
      const body = LiteratureQuery.safeParse(request.body);
      if (!body.success)
        return sendProblem(
          reply,
          problem(
            400,
            'VALIDATION_FAILED',
            'Invalid request body',
            body.error.issues[0]?.message,
            toFieldIssues(body.error),
          ),
        );
      if (!deps.client)
        return sendProblem(
          reply,
          problem(
            503,
            'LITERATURE_NOT_CONFIGURED',
            'Literature search is not configured',
            'set LITERATURE_BASE_URL (NCBI E-utilities or the local service)',
          ),
        );
      try {
        const { data, version } = await deps.client.search(body.data, AbortSignal.timeout(30_000));
        return { source: version, ...data };
      } catch (err) {
        if (err instanceof ToolError)
          return sendProblem(
            reply,
            problem(httpStatus(err.code), `LITERATURE_${err.code}`, 'Literature search failed', err.message),
          );
        throw err;
      }
    },
  );
}
