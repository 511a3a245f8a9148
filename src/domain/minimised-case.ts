/**
 * The PHI-minimised view of a case: the only form of a case that reaches a model, a tool or a
 * reviewer's screen. Built by src/clinical/normalise.ts; no names, identifiers, addresses,
 * contact details, resource ids, study UIDs or exact dates.
 */
import { z } from 'zod';

export const MedicationView = z.object({
  ref: z.string(),
  name: z.string(),
  dose: z.object({ value: z.number(), unit: z.string() }).nullable(),
  route: z.string().nullable(),
  frequencyPerDay: z.number().nullable(),
  instructions: z.string().nullable(),
  status: z.string(),
  /** Terminology codes the record carries for the medication (RxNorm, ATC): not identifying. */
  codes: z.array(z.object({ system: z.enum(['rxnorm', 'atc']), code: z.string() })).default([]),
});
export type MedicationView = z.infer<typeof MedicationView>;

export const LabView = z.object({
  ref: z.string(),
  name: z.string(),
  loinc: z.string().nullable(),
  value: z.number().nullable(),
  valueText: z.string().nullable(),
  unit: z.string().nullable(),
  daysBeforeCase: z.number().int().nullable(),
  interpretation: z.string().nullable(),
});
export type LabView = z.infer<typeof LabView>;

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

export const MinimisedCaseSchema = z.object({
  question: z.string(),
  patient: z.object({ age: z.string().nullable(), sex: z.string().nullable() }),
  problems: z.array(z.object({ ref: z.string(), text: z.string(), status: z.string().nullable() })),
  medications: z.array(MedicationView),
  allergies: z.array(
    z.object({
      ref: z.string(),
      substance: z.string(),
      criticality: z.string().nullable(),
      reactions: z.array(z.string()),
      category: z.array(z.string()),
    }),
  ),
  labs: z.array(LabView),
  imaging: z.array(ImagingStudyView),
  notes: z.array(NoteView),
});
/** The PHI-minimised view of a case. */
export type MinimisedCase = z.infer<typeof MinimisedCaseSchema>;
