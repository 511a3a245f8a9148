/**
 * What every tool answer carries, and so every step result: where it came from and, when the
 * tool was unavailable, the coded reason. The call policy in src/tools/common.ts produces them.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors.js';

export const Provenance = z.object({
  /** Which tool or service answered (e.g. "knowledge-base", "pubmed-eutils", "imaging:pneumonia-cnn"). */
  source: z.string(),
  /** Version or id of what answered: KB version, model version, database build. */
  version: z.string().nullable(),
  retrievedAt: z.string(),
  /** Attempts made, including the successful one. */
  attempts: z.number().int().min(1),
  durationMs: z.number().min(0),
});
export type Provenance = z.infer<typeof Provenance>;

/** Why a tool was unavailable: the tool codes of the error catalogue. */
export const ToolFailureCode = z.enum(ERROR_CODES.tool);
export type ToolFailureCode = z.infer<typeof ToolFailureCode>;
