/** The shape every language's patient wording implements (en.ts, zh-CN.ts). */

/** Why a drug is changed, as the knowledge-base finding put it (a patient is told the kind, not the mechanism). */
export type ChangeReason = 'allergy' | 'interaction' | 'kidney' | 'condition' | 'age' | 'dose' | 'other';

export interface NewDose {
  strength: number | null;
  unit: string;
  timesPerDay: number | null;
  max: number | null;
  per: 'dose' | 'day' | 'week';
}

export interface PatientPhrases {
  /** Replace `drug` with one of `alternatives` (already in the patient's language). */
  switchDrug(p: { drug: string; alternatives: string[]; reason: ChangeReason; other: string | null }): string;
  /** No checked alternative: the drug needs a review with the prescriber. */
  reviewDrug(p: { drug: string; reason: ChangeReason; other: string | null }): string;
  lowerDose(p: { drug: string; dose: NewDose; kidney: boolean }): string;
  stopDuplicate(p: { stop: string; keep: string }): string;
  /** Tests to expect, already named in the patient's language. */
  tests(p: { tests: string[] }): string;
  /** A test name (knowledge-base name) in plain words. */
  testName(name: string): string;
  closing(): string;
}
