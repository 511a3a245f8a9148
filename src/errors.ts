/**
 * Small error classes with stable, machine-readable codes. HTTP status mapping lives in the
 * server; queue workers map `retryable: false` to BullMQ's UnrecoverableError.
 */
export type ErrorCode =
  | 'CASE_INVALID'
  | 'CASE_ID_CONFLICT'
  | 'CASE_NOT_FOUND'
  | 'JOB_DATA_INVALID'
  | 'PIPELINE_STEP_FAILED'
  | 'SHUTTING_DOWN'
  | 'REDIS_UNAVAILABLE';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
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

/** A short, PHI-free description of any thrown value, for logs and stored error fields. */
export function describeError(err: unknown): { code: string; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: err.name, message: err.message };
  return { code: 'UNKNOWN', message: String(err) };
}
