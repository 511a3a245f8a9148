/**
 * The error hierarchy: every coded error of the code base extends AppError, with a stable,
 * machine-readable code from ERROR_CODES, a message, optional PHI-free details and whether
 * another attempt can help (`retryable`). Codes are a contract: clients and stored case records
 * rely on them, so they are only ever added. Mapping to transports happens at the edges only:
 * HTTP statuses in the server (src/server/problem.ts), BullMQ's UnrecoverableError in the
 * workers (workers/job-errors.ts).
 */

/** Every error code, by the subsystem that throws it. */
export const ERROR_CODES = {
  case: [
    'CASE_INVALID',
    'CASE_ID_CONFLICT',
    'CASE_NOT_FOUND',
    'JOB_DATA_INVALID',
    'PIPELINE_STEP_FAILED',
    'SHUTTING_DOWN',
  ],
  redis: ['REDIS_UNAVAILABLE'],
  graph: ['DECISION_REFUSED'],
  review: [
    'REVIEW_NOT_FOUND',
    'ALREADY_CLAIMED',
    'ALREADY_DECIDED',
    'NOT_CLAIMED',
    'LEASE_EXPIRED',
    'REVIEW_BUSY',
    'NOT_CLAIMABLE',
    /** An edit attached a PMID its literature source does not have, or literature is not configured. */
    'SOURCE_NOT_FOUND',
    'SOURCES_UNAVAILABLE',
  ],
  account: ['ACCOUNT_EXISTS', 'ACCOUNT_NOT_FOUND', 'ACCOUNT_INVALID'],
  delivery: ['DELIVERY_FAILED'],
  /** The hash-chained audit (src/audit): too many concurrent appends to one stream. */
  audit: ['AUDIT_WRITE_CONTENDED'],
  knowledge: [
    'KB_NOT_FOUND',
    'KB_CONFLICT',
    'KB_INVALID',
    'KB_SELF_REVIEW',
    'KB_EDIT_CLOSED',
    'KB_STALE_EDIT',
    'KB_IMPORT_INVALID',
  ],
  /** Tool failures (ToolError); a malformed PubMed answer is BAD_RESPONSE too. */
  tool: ['TIMEOUT', 'UNREACHABLE', 'BAD_RESPONSE', 'NOT_CONFIGURED', 'CIRCUIT_OPEN', 'INVALID_INPUT', 'INTERNAL'],
  literature: ['QUERY_SYNTAX', 'CORPUS_INVALID'],
  image: ['IMAGE_EMPTY', 'IMAGE_TOO_LARGE', 'IMAGE_MALFORMED', 'IMAGE_UNSUPPORTED'],
  imaging: ['NPY_FORMAT', 'MODEL_LOAD_FAILED'],
  /** Start-up: configuration and the local servers of tests and the demo. */
  startup: ['CONFIG_INVALID', 'POSTGRES_MISSING', 'REDIS_SERVER_MISSING'],
  /** The typed HTTP client (src/client): the API could not be reached or answered out of contract, an error answer, a wait that ran out. */
  client: ['CLIENT_UNREACHABLE', 'CLIENT_BAD_RESPONSE', 'API_ERROR', 'WAIT_TIMEOUT'],
  /** The `co` command: bad usage or input (exit 2), or a failure (exit 1); it prints a more precise code. */
  cli: ['CLI_INPUT_INVALID', 'CLI_FAILED'],
} as const;

export type ErrorSubsystem = keyof typeof ERROR_CODES;
/** The codes of one subsystem. */
export type ErrorCodeOf<S extends ErrorSubsystem> = (typeof ERROR_CODES)[S][number];
export type ErrorCode = ErrorCodeOf<ErrorSubsystem>;

type DetailValue = string | number | boolean | null;
/**
 * Small facts about an error for its handlers (ids, counts, JSON Pointers into the input):
 * never patient data, since details end up in logs and responses.
 */
export type ErrorDetails = Readonly<Record<string, DetailValue>> | ReadonlyArray<Readonly<Record<string, DetailValue>>>;

export class AppError extends Error {
  declare readonly details?: ErrorDetails;
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** False when another attempt cannot help; the workers then fail the job for good. */
    readonly retryable: boolean,
    options?: { cause?: unknown; details?: ErrorDetails },
  ) {
    super(message, options);
    this.name = new.target.name;
    if (options?.details !== undefined) this.details = options.details;
  }
}

export class CaseIdConflictError extends AppError {
  constructor(caseId: string, reason: 'different-payload' | 'different-owner') {
    super(
      'CASE_ID_CONFLICT',
      reason === 'different-payload'
        ? `case ${caseId} was already submitted with a different payload; use a new case id`
        : `case id ${caseId} is already in use`,
      false,
    );
  }
}

export class JobDataInvalidError extends AppError {
  constructor(message: string) {
    super('JOB_DATA_INVALID', message, false);
  }
}

export class PipelineStepError extends AppError {
  constructor(
    readonly step: string,
    message: string,
    retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super('PIPELINE_STEP_FAILED', `step ${step} failed: ${message}`, retryable, options);
  }
}

/** Redis could not be reached (see isRedisUnavailable in src/queues/connection.ts); worth a retry later. */
export class RedisUnavailableError extends AppError {
  constructor(options?: { cause?: unknown }) {
    super('REDIS_UNAVAILABLE', 'the queue is unreachable; retry later', true, options);
  }
}

/** A short, PHI-free description of any thrown value, for logs and stored error fields. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: err.name, message: err.message };
  return { code: 'UNKNOWN', message: String(err) };
}
