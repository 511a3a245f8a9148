/**
 * What makes `co` stop: a usage or input problem (exit 2) or a failure (exit 1), each with a
 * stable code and a one-line message; input problems may carry JSON Pointers into the file.
 */
import { AppError } from '../errors.js';
import type { CliErrorOutput, InputIssue } from './output.js';

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/**
 * Part of the one error hierarchy: CLI_INPUT_INVALID (exit 2) or CLI_FAILED (exit 1). What `co`
 * prints is `outputCode`, the precise stable code (USAGE, FILE_NOT_FOUND, or the API's problem code).
 */
export class CliError extends AppError {
  constructor(
    readonly outputCode: string,
    message: string,
    readonly exitCode: 1 | 2,
    readonly issues: readonly InputIssue[] = [],
  ) {
    super(exitCode === EXIT.usage ? 'CLI_INPUT_INVALID' : 'CLI_FAILED', message, false);
  }

  toOutput(): CliErrorOutput {
    return { code: this.outputCode, message: this.message, exitCode: this.exitCode, issues: [...this.issues] };
  }
}

/** Bad arguments or options. */
export const usage = (message: string) => new CliError('USAGE', message, EXIT.usage);
/** A file or value that cannot be used as given. */
export const invalidInput = (code: string, message: string, issues: readonly InputIssue[] = []) =>
  new CliError(code, message, EXIT.usage, issues);
/** Something went wrong while doing the work. */
export const failure = (code: string, message: string) => new CliError(code, message, EXIT.failure);

/** The one line `co` prints on stderr for an error: code, message and (for validation errors) each pointer and code. */
export function errorLine(err: CliError): string {
  const where = err.issues
    .slice(0, 5)
    .map((i, n) => `${i.pointer || '(root)'} ${i.code}${n > 0 ? `: ${i.message}` : ''}`)
    .join('; ');
  const more = err.issues.length > 5 ? `; and ${err.issues.length - 5} more` : '';
  return `co: ${err.outputCode}: ${err.message}${where ? ` [${where}${more}]` : ''}`;
}
