/**
 * Evidence, step results, plans and verification findings: the typed records the graph keeps
 * in its state. Every claim in a plan cites evidence ids from this case's step results:
 * `kb:<factId>`, `pmid:<pmid>`, `img:<studyRef>:<findingId>`, or `case:<ref>` for the case
 * record itself.
 */
import { z } from 'zod';
import { Provenance, ToolFailureCode } from '../../tools/common.js';
import { SafetyFinding, Severity } from '../../tools/knowledge-base/schema.js';
import { StepType } from './steps.js';

export const Evidence = z.object({
  id: z.string(),
  kind: z.enum(['kb_fact', 'pubmed', 'imaging', 'case']),
  title: z.string(),
  detail: z.string().nullable(),
  /** KB source citation, journal and year, model name and version, or the case reference. */
  source: z.string(),
  url: z.string().nullable(),
});
export type Evidence = z.infer<typeof Evidence>;

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

export const Recommendation = z.object({
  id: z.string(),
  text: z.string().min(1).max(4000),
  /** Evidence ids this statement rests on. */
  citations: z.array(z.string()),
  /** Medications the statement names (checked against the knowledge base by verification). */
  medications: z.array(z.string()).default([]),
  /** False when verification could not resolve its citations, or it states that something could not be checked. */
  supported: z.boolean().default(true),
});
export type Recommendation = z.infer<typeof Recommendation>;

export const PlanSections = z.object({
  assessment: z.array(Recommendation),
  recommendations: z.array(Recommendation),
  medicationChanges: z.array(Recommendation),
  monitoring: z.array(Recommendation),
  patientCommunication: z.array(Recommendation),
});
export type PlanSections = z.infer<typeof PlanSections>;
export const SECTION_NAMES = ['assessment', 'recommendations', 'medicationChanges', 'monitoring', 'patientCommunication'] as const;

export const Plan = z.object({
  revision: z.number().int().min(1),
  mode: z.enum(['knowledge-driven', 'llm']),
  /** Shown with every plan, e.g. "Knowledge-driven draft: templated from knowledge-base and tool results; no language model". */
  label: z.string(),
  sections: PlanSections,
  /** Steps whose tool was unavailable: the plan must show them. */
  unavailable: z.array(z.object({ stepId: z.string(), type: StepType, reason: z.string() })),
});
export type Plan = z.infer<typeof Plan>;

export const VerificationFinding = z.object({
  id: z.string(),
  code: z.enum(['unresolved_citation', 'uncited_claim', 'safety', 'kb_unavailable', 'tool_unavailable', 'embedded_instruction', 'unknown_term']),
  severity: Severity,
  message: z.string(),
  /** Where: a recommendation id or a JSON Pointer into the case view. */
  location: z.string().nullable(),
  citations: z.array(z.string()).default([]),
});
export type VerificationFinding = z.infer<typeof VerificationFinding>;

export const SEVERITY_RANK: Readonly<Record<z.infer<typeof Severity>, number>> = { info: 0, low: 1, moderate: 2, high: 3, critical: 4 };

export function maxSeverity(findings: readonly { severity: z.infer<typeof Severity> }[]): z.infer<typeof Severity> | null {
  let best: z.infer<typeof Severity> | null = null;
  for (const f of findings) if (best === null || SEVERITY_RANK[f.severity] > SEVERITY_RANK[best]) best = f.severity;
  return best;
}
