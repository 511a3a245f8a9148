/**
 * The human-review contract: what the graph shows a reviewer when it interrupts, and the
 * decision it accepts to resume (validated with zod; anything else is refused).
 */
import { z } from 'zod';
import { Evidence, Plan, PlanSections, VerificationFinding } from './evidence.js';

export const ReviewAction = z.enum(['approve', 'edit', 'request_changes', 'reject']);
export type ReviewAction = z.infer<typeof ReviewAction>;

const reviewer = { reviewer: z.string().min(1).max(200), decidedAt: z.string().datetime() };

export const ReviewDecision = z.discriminatedUnion('action', [
  z.object({ action: z.literal('approve'), revision: z.number().int(), ...reviewer }),
  z.object({ action: z.literal('edit'), revision: z.number().int(), sections: PlanSections, ...reviewer }),
  z.object({ action: z.literal('request_changes'), revision: z.number().int(), comments: z.string().trim().min(3).max(10_000), ...reviewer }),
  z.object({ action: z.literal('reject'), revision: z.number().int(), reason: z.string().trim().min(3).max(10_000), ...reviewer }),
]);
export type ReviewDecision = z.infer<typeof ReviewDecision>;

export const ReviewRequest = z.object({
  caseId: z.string(),
  revision: z.number().int(),
  plan: Plan,
  evidence: z.array(Evidence),
  findings: z.array(VerificationFinding),
  allowedActions: z.array(ReviewAction),
});
export type ReviewRequest = z.infer<typeof ReviewRequest>;
