/**
 * The PHI-minimised view of a case: the only form of a case that reaches a model, a tool or a
 * reviewer's screen. Built by src/clinical/normalise.ts; no names, identifiers, addresses,
 * contact details, resource ids, study UIDs or exact dates.
 */
import { z } from 'zod';

/**
 * Terminology codes a record carries (RxNorm, ATC, SNOMED CT, ICD-10, UNII, LOINC). Codes name
 * concepts, not people: they are not identifying and are kept so checks can match on them.
 */
export const CodeView = z.object({
  system: z.enum(['rxnorm', 'atc', 'snomed', 'icd10', 'unii', 'loinc']),
  code: z.string(),
  display: z.string().nullable().default(null),
});
export type CodeView = z.infer<typeof CodeView>;

export const MedicationView = z.object({
  ref: z.string(),
  name: z.string(),
  /** The dose per administration used by the dose checks (the upper bound of a range). */
  dose: z.object({ value: z.number(), unit: z.string() }).nullable(),
  route: z.string().nullable(),
  /** Administrations per day, for daily totals; shown to people as `frequency`, never as a fraction. */
  frequencyPerDay: z.number().nullable(),
  /** How often, in words: "twice daily", "every 6 hours", "every 4 weeks", "up to 4 times daily". */
  frequency: z.string().nullable().default(null),
  /** The dose as written: "1 tablet (5 mg)", "1–2 puffs", "500 mg". */
  doseText: z.string().nullable().default(null),
  asNeeded: z.boolean().default(false),
  asNeededFor: z.string().nullable().default(null),
  instructions: z.string().nullable(),
  status: z.string(),
  /** Terminology codes the record carries for the medication (RxNorm, ATC): not identifying. */
  codes: z.array(z.object({ system: z.enum(['rxnorm', 'atc']), code: z.string() })).default([]),
  /** Ingredients and strengths from the Medication resource or the drug name. */
  ingredients: z.array(z.object({ name: z.string(), strength: z.string().nullable() })).default([]),
  form: z.string().nullable().default(null),
  startedDaysBeforeCase: z.number().int().nullable().default(null),
  /** Problems with the dosage as recorded (implausible frequency, negative dose): shown and flagged, never used. */
  problems: z.array(z.string()).default([]),
});
export type MedicationView = z.infer<typeof MedicationView>;

const LabReading = {
  value: z.number().nullable(),
  valueText: z.string().nullable(),
  unit: z.string().nullable(),
  interpretation: z.string().nullable(),
  referenceRange: z.string().nullable().default(null),
};

export const LabComponentView = z.object({
  name: z.string(),
  loinc: z.string().nullable(),
  ...LabReading,
  previous: z.number().nullable().default(null),
  trend: z.enum(['up', 'down', 'unchanged']).nullable().default(null),
});
export type LabComponentView = z.infer<typeof LabComponentView>;

/** One test: its latest result, the previous one and the direction of change. */
export const LabView = z.object({
  ref: z.string(),
  name: z.string(),
  loinc: z.string().nullable(),
  /** The key-result group (renal, electrolytes, liver, …); null for other tests. */
  group: z.string().nullable().default(null),
  ...LabReading,
  daysBeforeCase: z.number().int().nullable(),
  components: z.array(LabComponentView).default([]),
  previous: z
    .object({
      value: z.number().nullable(),
      valueText: z.string().nullable(),
      unit: z.string().nullable(),
      daysBeforeCase: z.number().int().nullable(),
    })
    .nullable()
    .default(null),
  trend: z.enum(['up', 'down', 'unchanged']).nullable().default(null),
  /** How many results of this test the record holds. */
  count: z.number().int().default(1),
});
export type LabView = z.infer<typeof LabView>;

export const ProblemView = z.object({
  ref: z.string(),
  text: z.string(),
  status: z.string().nullable(),
  verification: z.string().nullable().default(null),
  onsetDaysBeforeCase: z.number().int().nullable().default(null),
  abatementDaysBeforeCase: z.number().int().nullable().default(null),
  codes: z.array(CodeView).default([]),
});
export type ProblemView = z.infer<typeof ProblemView>;

export const AllergyView = z.object({
  ref: z.string(),
  substance: z.string(),
  criticality: z.string().nullable(),
  reactions: z.array(z.string()),
  category: z.array(z.string()),
  status: z.string().nullable().default(null),
  verification: z.string().nullable().default(null),
  codes: z.array(CodeView).default([]),
});
export type AllergyView = z.infer<typeof AllergyView>;

export const ImagingStudyView = z.object({
  ref: z.string(),
  modality: z.string().nullable(),
  bodySite: z.string().nullable(),
  description: z.string().nullable(),
  instances: z.number().int().nullable(),
  daysBeforeCase: z.number().int().nullable(),
});
export type ImagingStudyView = z.infer<typeof ImagingStudyView>;

export const NoteView = z.object({ ref: z.string(), source: z.string(), text: z.string() });
export type NoteView = z.infer<typeof NoteView>;

/** What else a record holds, counted: resources by type, results, tests, medications by status. */
export const CaseCounts = z.object({
  resources: z.record(z.string(), z.number().int()).default({}),
  observations: z.number().int().default(0),
  tests: z.number().int().default(0),
  /** Tests beyond the bounds of `labs` and `otherLabs`. */
  testsNotListed: z.number().int().default(0),
  medicationsByStatus: z.record(z.string(), z.number().int()).default({}),
  conditionsNotListed: z.number().int().default(0),
});
export type CaseCounts = z.infer<typeof CaseCounts>;

export const MinimisedCaseSchema = z.object({
  question: z.string(),
  patient: z.object({ age: z.string().nullable(), sex: z.string().nullable() }),
  /** Current problems (active, recurrent, relapsed or of unknown status). */
  problems: z.array(ProblemView),
  /** Resolved, inactive or in remission: listed apart, not used by the contraindication checks. */
  resolvedProblems: z.array(ProblemView).default([]),
  /** Current medications only; stopped, completed and entered-in-error ones are counted in `counts`. */
  medications: z.array(MedicationView),
  allergies: z.array(AllergyView),
  /** Key results (latest per test), in a fixed order: renal, electrolytes, liver, INR, HbA1c, blood count, lipids, vitals. */
  labs: z.array(LabView),
  /** Latest results of the other tests, most recent first (bounded): available on request, not summarised. */
  otherLabs: z.array(LabView).default([]),
  imaging: z.array(ImagingStudyView),
  notes: z.array(NoteView),
  /** What else the record holds, counted: resources by type, results, tests, medications by status. */
  counts: CaseCounts.default(CaseCounts.parse({})),
});
/** The PHI-minimised view of a case. */
export type MinimisedCase = z.infer<typeof MinimisedCaseSchema>;
