import type { z } from 'zod';
import { AppError } from '../errors.js';

/** One precise, machine-readable validation problem: a JSON Pointer into the input, a stable code, a message. */
export interface FieldIssue {
  pointer: string;
  code: string;
  message: string;
}

const escapePointer = (segment: PropertyKey) => String(segment).replace(/~/g, '~0').replace(/\//g, '~1');

export function toFieldIssues(error: z.ZodError, basePath: readonly PropertyKey[] = []): FieldIssue[] {
  return error.issues.map((issue) => {
    const params = (issue as { params?: { zodCode?: string } }).params;
    const path = [...basePath, ...issue.path];
    return {
      pointer: path.length === 0 ? '' : `/${path.map(escapePointer).join('/')}`,
      code: params?.zodCode ?? issue.code,
      message: issue.message,
    };
  });
}

export class CaseValidationError extends AppError {
  constructor(readonly issues: FieldIssue[]) {
    super(
      'CASE_INVALID',
      `the case is invalid: ${issues.length} problem(s), first at ${issues[0]?.pointer || '(root)'}: ${issues[0]?.message ?? ''}`,
      false,
    );
  }
}
