/**
 * RFC 9457 problem details. Every error response of the API is `application/problem+json`
 * with a stable `code` and, for validation errors, `errors`: JSON Pointers into the request.
 * The HTTP status of every error code is here and nowhere else.
 */
import type { FastifyReply } from 'fastify';
import type { ProblemDetails } from '../domain/problem.js';
import type { FieldIssue } from '../domain/validation.js';
import type { AppError, ErrorCode } from '../errors.js';

/**
 * The HTTP status of each error code. Codes only workers, start-up and file readers throw are
 * 500: reaching a response, they would be an internal error.
 */
const HTTP_STATUS: Record<ErrorCode, number> = {
  CASE_INVALID: 400,
  CASE_ID_CONFLICT: 409,
  CASE_NOT_FOUND: 404,
  JOB_DATA_INVALID: 500,
  PIPELINE_STEP_FAILED: 500,
  SHUTTING_DOWN: 503,
  REDIS_UNAVAILABLE: 503,
  AUDIT_WRITE_CONTENDED: 503,
  DECISION_REFUSED: 500,
  REVIEW_NOT_FOUND: 404,
  ALREADY_CLAIMED: 409,
  ALREADY_DECIDED: 409,
  NOT_CLAIMED: 409,
  LEASE_EXPIRED: 409,
  REVIEW_BUSY: 503,
  NOT_CLAIMABLE: 409,
  SOURCE_NOT_FOUND: 422,
  SOURCES_UNAVAILABLE: 503,
  ACCOUNT_EXISTS: 409,
  ACCOUNT_NOT_FOUND: 404,
  ACCOUNT_INVALID: 400,
  DELIVERY_FAILED: 500,
  KB_NOT_FOUND: 404,
  KB_CONFLICT: 409,
  KB_INVALID: 400,
  KB_SELF_REVIEW: 403,
  KB_EDIT_CLOSED: 409,
  KB_STALE_EDIT: 409,
  KB_IMPORT_INVALID: 400,
  // A tool behind a route (literature search): our caller's input is a 400, a bad answer from
  // the upstream service a 502, any other failure of it (INTERNAL included) a 503.
  TIMEOUT: 503,
  UNREACHABLE: 503,
  BAD_RESPONSE: 502,
  NOT_CONFIGURED: 503,
  CIRCUIT_OPEN: 503,
  INVALID_INPUT: 400,
  INTERNAL: 503,
  QUERY_SYNTAX: 400,
  CORPUS_INVALID: 500,
  // The imaging service's POST /v1/analyse.
  IMAGE_EMPTY: 400,
  IMAGE_TOO_LARGE: 413,
  IMAGE_MALFORMED: 400,
  IMAGE_UNSUPPORTED: 415,
  NPY_FORMAT: 500,
  MODEL_LOAD_FAILED: 500,
  CONFIG_INVALID: 500,
  POSTGRES_MISSING: 500,
  REDIS_SERVER_MISSING: 500,
  // The client's and the CLI's own codes never reach a response of this server; were one to, it would be ours.
  CLIENT_UNREACHABLE: 500,
  CLIENT_BAD_RESPONSE: 500,
  API_ERROR: 500,
  WAIT_TIMEOUT: 500,
  CLI_INPUT_INVALID: 500,
  CLI_FAILED: 500,
};

export const httpStatus = (code: ErrorCode): number => HTTP_STATUS[code];

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

/** The problem for a coded error: the status of its code, its code and its message. */
export function problemFor(err: AppError, title: string, errors?: FieldIssue[]): ProblemDetails {
  return problem(httpStatus(err.code), err.code, title, err.message, errors);
}

export function sendProblem(reply: FastifyReply, body: ProblemDetails): FastifyReply {
  return reply
    .status(body.status)
    .type('application/problem+json')
    .send({ ...body, instance: reply.request.url.split('?')[0] });
}
