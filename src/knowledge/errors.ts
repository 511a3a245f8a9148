import { AppError, type ErrorCodeOf } from '../errors.js';

/** Coded knowledge-base errors; the HTTP layer maps codes to statuses. */
export type KbErrorCode = ErrorCodeOf<'knowledge'>;

export class KbError extends AppError {
  declare readonly code: KbErrorCode;
  /** Pointers into the offending input, where there are any. */
  declare readonly details: ReadonlyArray<{ pointer: string; message: string }>;
  constructor(code: KbErrorCode, message: string, details: ReadonlyArray<{ pointer: string; message: string }> = []) {
    super(code, message, false, { details });
  }
}
