/**
 * RFC 9457 problem details. Every error response of the API is `application/problem+json`
 * with a stable `code` and, for validation errors, `errors`: JSON Pointers into the request.
 */
import type { FastifyReply } from 'fastify';
import type { ProblemDetails } from '../domain/problem.js';
import type { FieldIssue } from '../domain/validation.js';

// The schema is a domain contract (shared with the typed client); re-exported for the server's users.
export { ProblemDetails } from '../domain/problem.js';

export function problem(
  status: number,
  code: string,
  title: string,
  detail?: string,
  errors?: FieldIssue[],
): ProblemDetails {
  return {
    type: `urn:clinical-orchestrator:problem:${code.toLowerCase().replace(/_/g, '-')}`,
    title,
    status,
    code,
    ...(detail !== undefined ? { detail } : {}),
    ...(errors ? { errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, body: ProblemDetails): FastifyReply {
  return reply
    .status(body.status)
    .type('application/problem+json')
    .send({ ...body, instance: reply.request.url.split('?')[0] });
}
