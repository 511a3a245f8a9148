/**
 * Plans, evidence, verification findings and review decisions: the contracts shared by the
 * case graph (which produces them), the review queue and UI (which show and decide them) and
 * the API (which returns approved plans). Every claim in a plan cites evidence ids from its
 * case: `kb:<factId>`, `pmid:<pmid>`, `img:<studyRef>:<findingId>`, `case:<ref>` for the case
 * record itself, or `review:r<n>` for a reviewer's comments.
 */
import { z } from 'zod';
import { MinimisedCaseSchema } from './minimised-case.js';
import { EvidenceLevel, Quote } from './literature.js';

export const Severity = z.enum(['info', 'low', 'moderate', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;

/** Atomic step types a case is decomposed into. */
export const StepType = z.enum([
  'kb_lookup',
  'interaction_check',
  'allergy_check',
  'dose_check',
  'contraindication_check',
  'duplicate_therapy_check',
  'older_adult_check',
  /** Care-plan reasoning over the knowledge base: alternatives, dose adjustments, monitoring, guidelines (added by code). */
  'care_reasoning',
  'literature_search',
  'imaging_analysis',
]);
export type StepType = z.infer<typeof StepType>;

export const Evidence = z.object({
  id: z.string(),
  kind: z.enum(['kb_fact', 'pubmed', 'imaging', 'case']),
  title: z.string(),
  detail: z.string().nullable(),
  /** KB source citation, journal and year, model name and version, or the case reference. */
  source: z.string(),
  url: z.string().nullable(),
  /** A literature record: the sentence that supports it (section, offsets in its abstract) and its evidence level. */
  quote: Quote.nullable().default(null),
  level: EvidenceLevel.nullable().default(null),
});
export type Evidence = z.infer<typeof Evidence>;

/** Plan languages: patient communication is written in one of them (chosen per case). */
export const PlanLanguage = z.enum(['en', 'zh-CN']);
export type PlanLanguage = z.infer<typeof PlanLanguage>;

/** One step of a recommendation's explanation ("finding → rule → alternative → checks passed"), with its citations. */
export const WhyStep = z.object({ text: z.string().min(1).max(4000), citations: z.array(z.string()).default([]) });
export type WhyStep = z.infer<typeof WhyStep>;

export const Recommendation = z.object({
  id: z.string(),
  text: z.string().min(1).max(4000),
  /** Evidence ids this statement rests on. */
  citations: z.array(z.string()),
  /** Medications the statement names (checked against the knowledge base by verification). */
  medications: z.array(z.string()).default([]),
  /** False when verification could not resolve its citations, or it states that something could not be checked. */
  supported: z.boolean().default(true),
  /** The chain of facts that produced it, in order; its citations are verified like the statement's. */
  why: z.array(WhyStep).max(20).default([]),
  /**
   * Whether what it cites is about what it says, decided by code (never by the statement's author):
   * `supported`, `unsupported` (with the reason), or `not_checked` when it names no medicine,
   * condition or test the knowledge base knows. Null until verification.
   */
  support: z
    .object({ status: z.enum(['supported', 'unsupported', 'not_checked']), reason: z.string().max(2000).nullable() })
    .nullable()
    .default(null),
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
export const SECTION_NAMES = [
  'assessment',
  'recommendations',
  'medicationChanges',
  'monitoring',
  'patientCommunication',
] as const;

/** Who wrote one part of the plan: code (knowledge-driven), the model, or code after the model's answer was unusable. */
export const PartSource = z.enum(['knowledge-driven', 'llm', 'llm-fallback']);
export const PartProvenance = z.object({
  source: PartSource,
  /** The model, when one was asked. */
  model: z.string().max(200).nullable().default(null),
  /** Why code took over, or what was dropped from the model's answer (cut, never quoting the model). */
  reason: z.string().max(600).nullable().default(null),
});
export type PartProvenance = z.infer<typeof PartProvenance>;

/** Which parts of the plan came from the model and which from code: the planner (the steps) and the drafter (the text). */
export const PlanProvenance = z.object({ planner: PartProvenance.nullable(), drafter: PartProvenance });
export type PlanProvenance = z.infer<typeof PlanProvenance>;

export const Plan = z.object({
  revision: z.number().int().min(1),
  mode: z.enum(['knowledge-driven', 'llm']),
  /** Shown with every plan, e.g. "Knowledge-driven draft: templated from knowledge-base and tool results; no language model". */
  label: z.string(),
  /** The language of the patient-communication section. */
  language: PlanLanguage.default('en'),
  sections: PlanSections,
  /** Which parts came from the model and which from fallback; null on plans stored before it was recorded. */
  provenance: PlanProvenance.nullable().default(null),
  /** Steps whose tool was unavailable: the plan must show them. */
  unavailable: z.array(
    z.object({
      stepId: z.string(),
      type: StepType,
      reason: z.string(),
      /** The tool failure code: TIMEOUT, UNREACHABLE, BAD_RESPONSE, CIRCUIT_OPEN, NOT_CONFIGURED, INVALID_INPUT or INTERNAL. */
      code: z.string().max(40).nullable().optional(),
    }),
  ),
});
export type Plan = z.infer<typeof Plan>;

export const VerificationFinding = z.object({
  id: z.string(),
  code: z.enum([
    'unresolved_citation',
    'uncited_claim',
    'safety',
    'kb_unavailable',
    'tool_unavailable',
    'embedded_instruction',
    'hidden_characters',
    'unknown_term',
    'dosage_problem',
    /** A medicine a model's statement names without listing it (verification reads the text). */
    'unlisted_medication',
    /** A model's plan over the bounds (statement count and length, total size): the excess was left out and counted. */
    'plan_bounds',
    /** A statement whose citations resolve but none is about what it claims (decided by the entailment layer). */
    'unsupported_claim',
  ]),
  severity: Severity,
  message: z.string(),
  /** Where: a recommendation id or a JSON Pointer into the case view. */
  location: z.string().nullable(),
  citations: z.array(z.string()).default([]),
});
export type VerificationFinding = z.infer<typeof VerificationFinding>;

export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, low: 1, moderate: 2, high: 3, critical: 4 };

export function maxSeverity(findings: readonly { severity: Severity }[]): Severity | null {
  let best: Severity | null = null;
  for (const f of findings) if (best === null || SEVERITY_RANK[f.severity] > SEVERITY_RANK[best]) best = f.severity;
  return best;
}

export const ReviewAction = z.enum(['approve', 'edit', 'request_changes', 'reject']);
export type ReviewAction = z.infer<typeof ReviewAction>;

const reviewer = {
  reviewer: z.string().min(1).max(200),
  /** How the reviewer authenticated: a signed-in session, or a staff API token (an integration). */
  reviewerType: z.enum(['staff_session', 'staff_token']).optional(),
  decidedAt: z.string().datetime(),
};

export const ReviewDecision = z.discriminatedUnion('action', [
  z.object({ action: z.literal('approve'), revision: z.number().int(), ...reviewer }),
  z.object({
    action: z.literal('edit'),
    revision: z.number().int(),
    sections: PlanSections,
    /** Literature the reviewer attached to the edit, as fetched from the literature source (never as sent). */
    sources: z.array(Evidence).max(20).default([]),
    ...reviewer,
  }),
  z.object({
    action: z.literal('request_changes'),
    revision: z.number().int(),
    comments: z.string().trim().min(3).max(10_000),
    ...reviewer,
  }),
  z.object({
    action: z.literal('reject'),
    revision: z.number().int(),
    reason: z.string().trim().min(3).max(10_000),
    ...reviewer,
  }),
]);
export type ReviewDecision = z.infer<typeof ReviewDecision>;

export const ReviewerComment = z.object({
  revision: z.number().int(),
  reviewer: z.string(),
  comments: z.string(),
  at: z.string(),
});
export type ReviewerComment = z.infer<typeof ReviewerComment>;

export const ReviewRequest = z.object({
  caseId: z.string(),
  revision: z.number().int(),
  plan: Plan,
  evidence: z.array(Evidence),
  findings: z.array(VerificationFinding),
  allowedActions: z.array(ReviewAction),
  /** The PHI-minimised case, as the reviewer sees it. */
  view: MinimisedCaseSchema.nullable().default(null),
  /** The plan of the previous revision, to show what changed after a request for changes. */
  previousPlan: Plan.nullable().default(null),
  /** Reviewer comments that led to each revision so far. */
  reviewerComments: z.array(ReviewerComment).default([]),
});
export type ReviewRequest = z.infer<typeof ReviewRequest>;
