/**
 * Plan steps and their results: the contract between a planner (which proposes the steps),
 * the case graph (which merges in the mandatory safety steps and runs them against the tools)
 * and a drafter (which writes the plan from the results).
 */
import { z } from 'zod';
import { CareReasoningResult } from './care-reasoning.js';
import { SafetyFinding } from './knowledge.js';
import { Evidence, StepType } from './plan.js';
import { Provenance, ToolFailureCode } from './provenance.js';

const ref = z.string().regex(/^(med|img|problem|allergy|lab|note)-\d+$/, 'a local reference such as med-1');

export const StepInputs = z.object({
  /** Medication references for medication checks. */
  medicationRefs: z.array(ref).default([]),
  /** Imaging study reference for imaging_analysis. */
  studyRef: ref.nullable().default(null),
  /** Terms for kb_lookup and literature_search (concept names, no PHI). */
  terms: z.array(z.string().min(1).max(200)).max(20).default([]),
});
export type StepInputs = z.infer<typeof StepInputs>;

export const PlanStep = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9:._-]{0,79}$/),
  type: StepType,
  purpose: z.string().min(3).max(500),
  inputs: StepInputs,
  dependsOn: z.array(z.string()).default([]),
  /** Added by the safety rule (cannot be removed by a planner). */
  mandatory: z.boolean().default(false),
});
export type PlanStep = z.infer<typeof PlanStep>;
export type PlanStepInput = z.input<typeof PlanStep>;

/**
 * The result of one plan step, as kept in graph state: tool status and provenance, the
 * evidence it retrieved and the safety findings it produced.
 */
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
  /** For a care_reasoning step: what the knowledge base proposes for the findings (null for every other step). */
  reasoning: CareReasoningResult.nullable().default(null),
  /**
   * For a literature step: how many records the search returned, and those left out as not about
   * the step's concepts (with the reason); `checked` is false when relevance could not be decided.
   */
  literature: z
    .object({
      found: z.number().int(),
      checked: z.boolean(),
      reason: z.string().max(500).nullable(),
      dropped: z.array(z.object({ pmid: z.string(), reason: z.string().max(500) })).max(50),
    })
    .nullable()
    .default(null),
});
export type StepResult = z.infer<typeof StepResult>;
