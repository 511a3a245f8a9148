/**
 * The result of one plan step, as kept in graph state: tool status and provenance, the
 * evidence it retrieved and the safety findings it produced.
 */
import { z } from 'zod';
import { Evidence, StepType } from '../../domain/plan.js';
import { Provenance, ToolFailureCode } from '../../tools/common.js';
import { SafetyFinding } from '../../domain/knowledge.js';

export const StepResult = z.object({
  stepId: z.string(),
  type: StepType,
  status: z.enum(['ok', 'unavailable']),
  code: ToolFailureCode.nullable(),
  reason: z.string().nullable(),
  provenance: Provenance,
  evidence: z.array(Evidence),
  findings: z.array(SafetyFinding),
  /** Terms the knowledge base could not map: reported, never guessed. */
  unknownTerms: z.array(z.string()),
});
export type StepResult = z.infer<typeof StepResult>;
