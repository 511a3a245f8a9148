/**
 * RFC 9457 problem details. Every error response of the API is `application/problem+json`
 * with a stable `code` and, for validation errors, `errors`: JSON Pointers into the request.
 */
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { FieldIssue } from '../domain/validation.js';

export const ProblemDetails = z.object({
  type: z.string().describe('A URI reference identifying the problem type'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  code: z.string().describe('Stable machine-readable code'),
  errors: z
    .array(z.object({ pointer: z.string(), code: z.string(), message: z.string() }))
    .optional()
    .describe('For validation problems: each problem with a JSON Pointer into the request body'),
});
export type ProblemDetails = z.infer<typeof ProblemDetails>;

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
