/**
 * English patient wording. Short sentences and everyday words (a 6th–8th grade level); benefits
 * stated with the risk, as a clinician would explain them. Test names: plain words for the
 * common tests, following the descriptions of MedlinePlus (US National Library of Medicine,
 * https://medlineplus.gov/lab-tests/); any other test keeps its knowledge-base name.
 */
import type { ChangeReason, NewDose, PatientPhrases } from './types.js';

const list = (xs: string[]) => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);
const and = (xs: string[]) => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);

function why(reason: ChangeReason, drug: string, other: string | null): string {
  switch (reason) {
    case 'allergy':
      return `Your record shows an allergy that makes ${drug} unsafe for you.`;
    case 'interaction':
      return other
        ? `${drug} and ${other} can affect each other when you take them together.`
        : `${drug} can affect one of your other medicines.`;
    case 'kidney':
      return `Your latest kidney test shows your kidneys are working less well, so ${drug} is not a safe choice for you now.`;
    case 'condition':
      return `${drug} is not a good choice with one of your health conditions.`;
    case 'age':
      return `${drug} is often not the best choice for people aged 65 or over.`;
    case 'dose':
      return `The dose of ${drug} is more than the usual top dose.`;
    default:
      return `${drug} needs a second look.`;
  }
}

const TIMES: Record<number, string> = {
  1: 'once a day',
  2: 'twice a day',
  3: 'three times a day',
  4: 'four times a day',
};
const n = (x: number) => String(Math.round(x * 100) / 100);

function doseText(d: NewDose): string {
  const max = d.max !== null ? `no more than ${n(d.max)} ${d.unit} a ${d.per === 'dose' ? 'dose' : d.per}` : '';
  if (d.strength !== null && d.timesPerDay !== null)
    return `${n(d.strength)} ${d.unit} ${TIMES[d.timesPerDay] ?? `${n(d.timesPerDay)} times a day`}${max ? ` (${max})` : ''}`;
  return max;
}

const TESTS: Array<[RegExp, string]> = [
  [/^INR$/i, 'a blood test that shows how fast your blood clots (INR)'],
  [/potassium/i, 'a blood test for potassium'],
  [/creatinine|egfr|glomerular|renal function/i, 'a blood test of how well your kidneys work'],
  [/a1c|glycated/i, 'a blood sugar test (HbA1c)'],
  [/glucose/i, 'a blood sugar test'],
  [/haemoglobin|hemoglobin|blood count/i, 'a blood count'],
  [/lithium/i, 'a blood test for your lithium level'],
  [/digoxin/i, 'a blood test for your digoxin level'],
  [/tsh|thyroid/i, 'a blood test of your thyroid'],
  [/liver|alt\b|alanine/i, 'a blood test of your liver'],
  [/sodium/i, 'a blood test for sodium'],
  [/blood pressure/i, 'your blood pressure'],
];

export const en: PatientPhrases = {
  switchDrug: ({ drug, alternatives, reason, other }) =>
    `${why(reason, drug, other)} We suggest ${list(alternatives)} instead. ` +
    `${alternatives.length > 1 ? 'These do' : 'This does'} the same job and ${alternatives.length > 1 ? 'have' : 'has'} been checked against your other medicines. ` +
    `Your care team will choose with you. After the change, tell them if you notice anything new or feel unwell.`,
  reviewDrug: ({ drug, reason, other }) =>
    `${why(reason, drug, other)} Your care team will talk with you about the best choice before you take more of it.`,
  lowerDose: ({ drug, dose, kidney }) =>
    `${kidney ? 'Your latest kidney test shows your kidneys are working less well. ' : `The dose of ${drug} is more than the usual top dose. `}` +
    `A lower dose of ${drug} is safer for you: ${doseText(dose)}. It still treats the same problem. Tell your care team if you feel unwell.`,
  stopDuplicate: ({ stop, keep }) =>
    `Two of your medicines contain the same drug, so taking both can mean taking too much. ` +
    `Stop ${stop} and keep taking ${keep} as before.`,
  tests: ({ tests }) =>
    `You will need some checks: ${and(tests)}. They show how your medicines are working and help keep you safe.`,
  testName: (name) => TESTS.find(([re]) => re.test(name))?.[1] ?? name,
  closing: () => 'Please ask us about anything that is not clear, and bring all your medicines to your next visit.',
};
