/**
 * RFC 9457 problem details: the body of every error response of the API
 * (`application/problem+json`), with a stable `code` and, for validation errors, `errors`:
 * JSON Pointers into the request.
 */
import { z } from 'zod';

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
