/**
 * The worker edge of the error hierarchy: an AppError that is not retryable fails its job for
 * good (BullMQ's UnrecoverableError, so BullMQ spends no further attempts on it); anything else
 * is thrown as it is and retried while attempts remain.
 */
import { UnrecoverableError } from 'bullmq';
import { AppError, describeError } from '../src/errors.js';

/** Whether another attempt cannot help. */
export const isPermanent = (err: unknown): boolean =>
  err instanceof UnrecoverableError || (err instanceof AppError && !err.retryable);

/** What a processor throws for `err`: an UnrecoverableError naming the code when it is permanent, otherwise `err`. */
export function jobFailure(err: unknown): Error {
  if (isPermanent(err)) {
    const { code, message } = describeError(err);
    return new UnrecoverableError(`${code}: ${message}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
