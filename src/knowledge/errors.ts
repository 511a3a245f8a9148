/** Coded knowledge-base errors; the HTTP layer maps codes to statuses. */
export type KbErrorCode =
  | 'KB_NOT_FOUND'
  | 'KB_CONFLICT'
  | 'KB_INVALID'
  | 'KB_SELF_REVIEW'
  | 'KB_EDIT_CLOSED'
  | 'KB_STALE_EDIT'
  | 'KB_IMPORT_INVALID';

export class KbError extends Error {
  constructor(
    readonly code: KbErrorCode,
    message: string,
    /** Pointers into the offending input, where there are any. */
    readonly details: ReadonlyArray<{ pointer: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'KbError';
  }
}
