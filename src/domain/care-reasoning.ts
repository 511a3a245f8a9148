/**
 * Care-plan reasoning over the knowledge base: from the safety findings of a medication list to
 * what a prescriber can act on. For each serious finding, checked alternatives (drugs that treat
 * the same indication or belong to the same class, each re-checked for this patient), concrete
 * dose adjustments from the `dose_range` facts, a monitoring plan from `monitors` facts and
 * interaction management, and the guideline statements the knowledge base holds for the
 * patient's problems. Every item carries the chain of facts that produced it (cited as
 * `kb:<factId>`), so a reviewer can follow and check each step. Contract shared by the
 * knowledge subsystem (which computes it), its tool client, the graph and the drafters.
 */
import { z } from 'zod';
import { MedicationInput, SafetyCheckInput, SafetyCheckKind, SafetyFinding, KbFact } from './knowledge.js';
import { Severity } from './plan.js';

/** One step of an explanation: "finding → rule → alternative → checks passed". */
export const ChainLink = z.object({
  kind: z.enum([
    'finding',
    'indication',
    'candidate',
    'checks',
    'excluded',
    'dose',
    'renal',
    'monitoring',
    'guideline',
  ]),
  text: z.string(),
  /** Knowledge-base fact ids this step rests on (cited as `kb:<id>`). */
  factIds: z.array(z.string()),
});
export type ChainLink = z.infer<typeof ChainLink>;

export const CheckedAlternative = z.object({
  entityId: z.string(),
  name: z.string(),
  /** Why it is a candidate: it treats the indication, or it is in the same therapeutic class. */
  basis: z.enum(['same_indication', 'same_class']),
  /** In the flagged drug's own therapeutic class (a like-for-like switch); otherwise a different class for the same use. */
  sameClass: z.boolean(),
  /** The indication it treats (condition name), when the basis is the indication. */
  indication: z.string().nullable(),
  /** Checks that ran for this patient and found nothing of moderate severity or above. */
  passed: z.array(SafetyCheckKind),
  /** Checks that could not be completed for it, and why (e.g. no dose range held). */
  notChecked: z.array(z.object({ check: SafetyCheckKind, reason: z.string() })),
  /** Low-severity findings that do not rule it out but should be read. */
  cautions: z.array(z.string()),
  /** The dose the knowledge base holds for this patient's age and renal band, or null. */
  dose: z.string().nullable(),
  /** Restrictions stated with the treats fact (e.g. "second line"). */
  note: z.string().nullable(),
  /** True when every check ran and passed. */
  fullyChecked: z.boolean(),
  chain: z.array(ChainLink),
  factIds: z.array(z.string()),
});
export type CheckedAlternative = z.infer<typeof CheckedAlternative>;

export const CareAction = z.object({
  /** Stable within a result, e.g. `switch:amoxicillin`, `dose:metformin`. */
  id: z.string(),
  kind: z.enum(['switch', 'dose_adjustment', 'stop_duplicate', 'review']),
  finding: z.object({
    kind: SafetyCheckKind,
    severity: Severity,
    summary: z.string(),
    medications: z.array(z.string()),
  }),
  /** The medication to change, as the record names it. */
  medication: z.string(),
  /** Other findings about the same medication that this action also answers (summaries). */
  alsoFor: z.array(z.string()).default([]),
  /** The recommendation in one or two sentences. */
  text: z.string(),
  /** An order a prescriber could sign after checking it (dose adjustments, the drug kept in a duplicate), or null. */
  order: z.string().nullable(),
  /** The new dose as parts (for wording it in another language): strength per dose, times a day, and the maximum. */
  dose: z
    .object({
      strength: z.number().nullable(),
      unit: z.string(),
      timesPerDay: z.number().nullable(),
      max: z.number().nullable(),
      per: z.enum(['dose', 'day', 'week']),
      /** True when the band is a renal one. */
      renal: z.boolean(),
    })
    .nullable(),
  alternatives: z.array(CheckedAlternative),
  /** Candidates considered and ruled out, with the check that ruled them out. */
  /** Candidates ruled out for this patient, each with the facts that ruled it out. */
  excluded: z.array(z.object({ name: z.string(), reason: z.string(), factIds: z.array(z.string()).default([]) })),
  /** Said plainly when no checked alternative exists. */
  noAlternativeReason: z.string().nullable(),
  /** An alternative that passed every check, or a concrete dose. */
  actionable: z.boolean(),
  chain: z.array(ChainLink),
  factIds: z.array(z.string()),
});
export type CareAction = z.infer<typeof CareAction>;

export const MonitoringItem = z.object({
  /** The lab test or sign (its knowledge-base name), or the interacting pair for interaction advice. */
  test: z.string(),
  medications: z.array(z.string()),
  /** What to check and when, as the source states it. */
  what: z.string(),
  from: z.enum(['monitors', 'interaction_management']),
  factIds: z.array(z.string()),
});
export type MonitoringItem = z.infer<typeof MonitoringItem>;

export const GuidelineItem = z.object({
  /** The problem or drug the statement is about (knowledge-base name) and what the record calls it. */
  subject: z.string(),
  recordedAs: z.string().nullable(),
  statement: z.string(),
  source: z.string(),
  factId: z.string(),
});
export type GuidelineItem = z.infer<typeof GuidelineItem>;

export const CareReasoningInput = SafetyCheckInput.omit({ kind: true }).extend({
  medications: z
    .array(
      MedicationInput.extend({
        /** Days between the start of the medication and the case (newer drugs are offered for change first). */
        startedDaysBeforeCase: z.number().int().nullable().default(null),
      }),
    )
    .min(1)
    .max(100),
});
export type CareReasoningInput = z.input<typeof CareReasoningInput>;

export const CareReasoningResult = z.object({
  /** The safety findings reasoned over (all six checks, one knowledge-base snapshot). */
  findings: z.array(SafetyFinding),
  actions: z.array(CareAction),
  monitoring: z.array(MonitoringItem),
  guidelines: z.array(GuidelineItem),
  /** Renal function as the dose bands read it: values, dates and formulas. */
  renal: z.object({ egfr: z.number().nullable(), crcl: z.number().nullable(), basis: z.array(z.string()) }).nullable(),
  /** English name → Simplified Chinese name, for the drugs, tests and conditions named above (where the KB holds one). */
  namesZh: z.record(z.string(), z.string()),
  /** Every fact cited anywhere above, with its statement and source. */
  facts: z.array(KbFact),
});
export type CareReasoningResult = z.infer<typeof CareReasoningResult>;

/** A result with nothing in it: what a knowledge base that holds nothing relevant answers. */
export const emptyReasoning = (): CareReasoningResult => ({
  findings: [],
  actions: [],
  monitoring: [],
  guidelines: [],
  renal: null,
  namesZh: {},
  facts: [],
});
