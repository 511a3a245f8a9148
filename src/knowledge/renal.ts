import { RENAL_RESULT_WINDOW_DAYS } from '../domain/knowledge.js';

/**
 * Units and renal function for the dose checks.
 *
 * - Mass units convert exactly (g, mg, mcg/µg/ug, ng); anything else (mL, units, puffs) cannot
 *   be compared with a mass range and is reported as "not checked", never guessed.
 * - eGFR: a reported eGFR is used as is. Otherwise, with a recent serum creatinine, age and
 *   sex: the 2021 CKD-EPI creatinine equation (race-free; Inker et al., N Engl J Med
 *   2021;385:1737-49).
 * - CrCl: Cockcroft–Gault (Cockcroft & Gault, Nephron 1976;16:31-41) when weight is known;
 *   otherwise eGFR stands in for CrCl and the finding says so.
 */

const MASS_TO_MG: Record<string, number> = {
  g: 1000,
  gram: 1000,
  grams: 1000,
  mg: 1,
  milligram: 1,
  milligrams: 1,
  mcg: 0.001,
  µg: 0.001,
  ug: 0.001,
  microgram: 0.001,
  micrograms: 0.001,
  ng: 0.000001,
};

/** Convert a mass to `to` (g, mg or mcg); null when the unit is not a mass unit. */
export function convertMass(value: number, unit: string, to: 'g' | 'mg' | 'mcg'): number | null {
  const from = MASS_TO_MG[unit.trim().toLowerCase().replace(/\.$/, '')];
  if (from === undefined) return null;
  return (value * from) / MASS_TO_MG[to]!;
}

export interface PatientFacts {
  /** Whole years, or null. "90+" counts as 90. */
  ageYears: number | null;
  sex: 'female' | 'male' | null;
  weightKg: number | null;
}

export interface RenalInput {
  egfr: number | null;
  /** How the laboratory computed the reported eGFR (e.g. "CKD-EPI 2021, LOINC 98979-8"), when known. */
  egfrMethod?: string | null;
  /** Days between the eGFR and the case; null = unknown. */
  egfrDaysAgo?: number | null;
  creatinineMgDl: number | null;
  /** Days between the creatinine and the case; null = unknown. */
  creatinineDaysAgo?: number | null;
  /** An eGFR or creatinine older than this many days is not used; default RECENT_CREATININE_DAYS. */
  windowDays?: number;
}

/** By default, an eGFR or creatinine older than this is not used to assess renal function. */
export const RECENT_CREATININE_DAYS = RENAL_RESULT_WINDOW_DAYS;

const when = (days: number | null | undefined) =>
  days == null ? 'date unknown' : days === 0 ? 'on the day of the case' : `${days} days before the case`;

export interface RenalEstimate {
  egfr: number | null;
  crcl: number | null;
  /** How each figure was obtained, for the finding's explanation. */
  basis: string[];
}

export function ckdEpi2021(creatinineMgDl: number, ageYears: number, sex: 'female' | 'male'): number {
  const female = sex === 'female';
  const kappa = female ? 0.7 : 0.9;
  const alpha = female ? -0.241 : -0.302;
  const ratio = creatinineMgDl / kappa;
  const egfr =
    142 * Math.min(ratio, 1) ** alpha * Math.max(ratio, 1) ** -1.2 * 0.9938 ** ageYears * (female ? 1.012 : 1);
  return Math.round(egfr);
}

export function cockcroftGault(
  creatinineMgDl: number,
  ageYears: number,
  sex: 'female' | 'male',
  weightKg: number,
): number {
  const crcl = ((140 - ageYears) * weightKg) / (72 * creatinineMgDl);
  return Math.round(sex === 'female' ? crcl * 0.85 : crcl);
}

export function estimateRenal(renal: RenalInput | null, patient: PatientFacts): RenalEstimate {
  const basis: string[] = [];
  if (!renal) return { egfr: null, crcl: null, basis };
  const window = renal.windowDays ?? RECENT_CREATININE_DAYS;
  const inWindow = (days: number | null | undefined) => days == null || days <= window;
  const recent = renal.creatinineMgDl !== null && inWindow(renal.creatinineDaysAgo);
  if (renal.creatinineMgDl !== null && !recent)
    basis.push(
      `creatinine ${renal.creatinineMgDl} mg/dL from ${renal.creatinineDaysAgo} days before the case was not used (older than ${window} days)`,
    );
  let egfr = renal.egfr !== null && inWindow(renal.egfrDaysAgo) ? renal.egfr : null;
  if (renal.egfr !== null && egfr === null)
    basis.push(
      `eGFR ${renal.egfr} mL/min/1.73 m² from ${renal.egfrDaysAgo} days before the case was not used (older than ${window} days)`,
    );
  if (egfr !== null)
    basis.push(
      `reported eGFR ${egfr} mL/min/1.73 m² (${renal.egfrMethod ? `${renal.egfrMethod}; ` : 'equation not stated; '}${when(renal.egfrDaysAgo)})`,
    );
  else if (recent && patient.ageYears !== null && patient.sex !== null) {
    egfr = ckdEpi2021(renal.creatinineMgDl!, patient.ageYears, patient.sex);
    basis.push(
      `eGFR ${egfr} mL/min/1.73 m² estimated by CKD-EPI 2021 from creatinine ${renal.creatinineMgDl} mg/dL (${when(renal.creatinineDaysAgo)})`,
    );
  }
  let crcl: number | null = null;
  if (recent && patient.ageYears !== null && patient.sex !== null && patient.weightKg !== null) {
    crcl = cockcroftGault(renal.creatinineMgDl!, patient.ageYears, patient.sex, patient.weightKg);
    basis.push(
      `CrCl ${crcl} mL/min by Cockcroft–Gault (creatinine ${renal.creatinineMgDl} mg/dL, ${when(renal.creatinineDaysAgo)}; ${patient.weightKg} kg)`,
    );
  }
  return { egfr, crcl, basis };
}

/** Parse the view's age band ("67", "90+") and sex into PatientFacts. */
export function patientFacts(
  age: string | null | undefined,
  sex: string | null | undefined,
  weightKg: number | null = null,
): PatientFacts {
  const years = age ? Number.parseInt(age, 10) : Number.NaN;
  const s = (sex ?? '').toLowerCase();
  return { ageYears: Number.isFinite(years) ? years : null, sex: s === 'female' || s === 'male' ? s : null, weightKg };
}
