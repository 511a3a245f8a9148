/**
 * MedicationRequest / MedicationStatement → the medication rows of the view: whether it is
 * current, what it is (the coded concept, a referenced or contained Medication, or the drug
 * name split into ingredients, strengths and form) and how it is taken (structured
 * `dosageInstruction`, or a text-only sig such as "500 mg every 8 hours").
 */
import type {
  CodeableConcept,
  Dosage,
  Medication,
  MedicationRequest,
  MedicationStatement,
  Quantity,
} from '../domain/fhir.js';
import type { MedicationView } from '../domain/minimised-case.js';
import { parseDrugName } from './drug-name.js';

type MedicationResource = MedicationRequest | MedicationStatement;

const MASS_UNITS: Record<string, 'g' | 'mg' | 'mcg'> = {
  g: 'g',
  gram: 'g',
  grams: 'g',
  mg: 'mg',
  mcg: 'mcg',
  µg: 'mcg',
  ug: 'mcg',
  microgram: 'mcg',
  micrograms: 'mcg',
};
/** The mass unit a written unit names ("MG", "micrograms"), or null when it is not a mass unit. */
const massUnit = (unit: string) => MASS_UNITS[unit.trim().toLowerCase()] ?? null;

/** Intents that make a MedicationRequest a prescription (proposals, plans and options are not). */
const ORDER_INTENTS = new Set(['order', 'original-order', 'reflex-order', 'filler-order', 'instance-order']);
const CURRENT_REQUEST = new Set(['active', 'on-hold', 'unknown']);
const CURRENT_STATEMENT = new Set(['active', 'intended', 'on-hold', 'unknown']);

/**
 * Whether the medication is current at `at`, and if not, why: the status, a non-order intent,
 * an expired prescription (`dispenseRequest.validityPeriod.end`) or a statement whose
 * `effectivePeriod` ended.
 */
export function medicationActivity(r: MedicationResource, at: Date): { current: boolean; status: string } {
  const ended = (end: string | undefined) => end !== undefined && Date.parse(end) < at.getTime();
  if (r.resourceType === 'MedicationRequest') {
    if (!CURRENT_REQUEST.has(r.status)) return { current: false, status: r.status };
    if (!ORDER_INTENTS.has(r.intent)) return { current: false, status: `intent ${r.intent}` };
    if (ended(r.dispenseRequest?.validityPeriod?.end)) return { current: false, status: 'expired' };
    return { current: true, status: r.status };
  }
  if (!CURRENT_STATEMENT.has(r.status)) return { current: false, status: r.status };
  if (ended(r.effectivePeriod?.end)) return { current: false, status: 'completed' };
  return { current: true, status: r.status };
}

/** The Medication a resource names by reference: contained (`#id`), or another bundle entry (fullUrl or Type/id). */
export function resolveMedication(r: MedicationResource, bundle: ReadonlyMap<string, Medication>): Medication | null {
  const ref = r.medicationReference?.reference;
  if (!ref) return null;
  if (ref.startsWith('#'))
    return (r.contained?.find((c) => c.resourceType === 'Medication' && c.id === ref.slice(1)) as Medication) ?? null;
  return bundle.get(ref) ?? null;
}

const UNIT_DAYS = { s: 1 / 86400, min: 1 / 1440, h: 1 / 24, d: 1, wk: 7, mo: 30, a: 365 } as const;
type TimeUnit = keyof typeof UNIT_DAYS;
const UNIT_WORD: Record<TimeUnit, [string, string]> = {
  s: ['second', 'seconds'],
  min: ['minute', 'minutes'],
  h: ['hour', 'hours'],
  d: ['day', 'days'],
  wk: ['week', 'weeks'],
  mo: ['month', 'months'],
  a: ['year', 'years'],
};
const TIMES = ['', 'once', 'twice', 'three times', 'four times'];
const times = (n: number) => TIMES[n] ?? `${n} times`;
const ADVERB: Partial<Record<TimeUnit, string>> = { d: 'daily', wk: 'a week', mo: 'a month', a: 'a year' };

/** HL7 v3 GTSAbbreviation timing codes (FHIR Timing.code) with their meaning. */
const TIMING_CODES: Record<string, { frequency: number; period: number; periodUnit: TimeUnit }> = {
  QD: { frequency: 1, period: 1, periodUnit: 'd' },
  BID: { frequency: 2, period: 1, periodUnit: 'd' },
  TID: { frequency: 3, period: 1, periodUnit: 'd' },
  QID: { frequency: 4, period: 1, periodUnit: 'd' },
  QOD: { frequency: 1, period: 2, periodUnit: 'd' },
  Q4H: { frequency: 1, period: 4, periodUnit: 'h' },
  Q6H: { frequency: 1, period: 6, periodUnit: 'h' },
  Q8H: { frequency: 1, period: 8, periodUnit: 'h' },
  WK: { frequency: 1, period: 1, periodUnit: 'wk' },
  MO: { frequency: 1, period: 1, periodUnit: 'mo' },
};
/** FHIR event-timing codes (Timing.repeat.when), in words. */
const WHEN: Record<string, string> = {
  MORN: 'in the morning',
  AFT: 'in the afternoon',
  EVE: 'in the evening',
  NIGHT: 'at night',
  HS: 'at bedtime',
  WAKE: 'on waking',
  C: 'with meals',
  AC: 'before meals',
  PC: 'after meals',
  CM: 'with breakfast',
  CD: 'with lunch',
  CV: 'with dinner',
  ACM: 'before breakfast',
  ACD: 'before lunch',
  ACV: 'before dinner',
  PCM: 'after breakfast',
  PCD: 'after lunch',
  PCV: 'after dinner',
};

interface Schedule {
  frequency: number;
  frequencyMax?: number;
  period: number;
  periodUnit: TimeUnit;
}

/** "twice daily", "every 6 hours", "every 4 weeks", "1–2 times daily": never a fraction per day. */
export function describeSchedule(s: Schedule): string {
  const f = s.frequencyMax && s.frequencyMax > s.frequency ? `${s.frequency}–${s.frequencyMax} times` : null;
  const [one, many] = UNIT_WORD[s.periodUnit];
  if (s.period === 1) {
    const adverb = ADVERB[s.periodUnit];
    if (s.frequency === 1 && !f) return adverb === 'daily' ? 'once daily' : `once ${adverb ?? `every ${one}`}`;
    if (adverb) return `${f ?? times(s.frequency)} ${adverb}`;
    return `${f ?? times(s.frequency)} every ${one}`;
  }
  const every = `every ${Number(s.period.toPrecision(4))} ${many}`;
  return s.frequency === 1 && !f ? every : `${f ?? times(s.frequency)} ${every}`;
}

const perDayOf = (s: Schedule) =>
  Number(((s.frequencyMax ?? s.frequency) / (s.period * UNIT_DAYS[s.periodUnit])).toPrecision(4));

/** More administrations a day than this is not a plausible schedule for a medicine taken by a patient: flagged. */
const MAX_PLAUSIBLE_PER_DAY = 24;

const WORD_NUMBERS: Record<string, number> = {
  once: 1,
  twice: 2,
  thrice: 3,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
};
const num = (s: string) => WORD_NUMBERS[s.toLowerCase()] ?? Number(s.replace(',', '.'));
const SIG_UNIT: Record<string, TimeUnit> = {
  minute: 'min',
  minutes: 'min',
  min: 'min',
  hour: 'h',
  hours: 'h',
  hr: 'h',
  hrs: 'h',
  h: 'h',
  day: 'd',
  days: 'd',
  week: 'wk',
  weeks: 'wk',
  month: 'mo',
  months: 'mo',
};

/** A schedule from a text sig: "twice daily", "3 times a day", "every 8 hours", "q6h", "once weekly", "every 4 weeks". */
export function scheduleFromText(text: string): Schedule | null {
  const t = text.toLowerCase();
  let m = /\b(?:every|each|q)\s*(\d+(?:[.,]\d+)?|other)?\s*(minutes?|min|hours?|hrs?|h|days?|weeks?|months?)\b/.exec(t);
  if (m) {
    const period = m[1] === 'other' ? 2 : m[1] ? num(m[1]) : 1;
    return Number.isFinite(period) && period > 0 ? { frequency: 1, period, periodUnit: SIG_UNIT[m[2]!]! } : null;
  }
  m =
    /\b(once|twice|thrice|one|two|three|four|five|six|\d+)\s*(?:x\s*|times\s*)?(?:a|per|\/)?\s*(day|daily|week|weekly|month|monthly)\b/.exec(
      t,
    );
  if (m) {
    const frequency = num(m[1]!);
    const unit: TimeUnit = /^week/.test(m[2]!) ? 'wk' : /^month/.test(m[2]!) ? 'mo' : 'd';
    return Number.isInteger(frequency) && frequency > 0 ? { frequency, period: 1, periodUnit: unit } : null;
  }
  const abbrev = /\b(od|qd|bd|bid|tds|tid|qds|qid|daily|nightly|at night|at bedtime|weekly|monthly)\b/.exec(t)?.[1];
  const ABBREV: Record<string, Schedule> = {
    od: TIMING_CODES.QD!,
    qd: TIMING_CODES.QD!,
    daily: TIMING_CODES.QD!,
    nightly: TIMING_CODES.QD!,
    'at night': TIMING_CODES.QD!,
    'at bedtime': TIMING_CODES.QD!,
    bd: TIMING_CODES.BID!,
    bid: TIMING_CODES.BID!,
    tds: TIMING_CODES.TID!,
    tid: TIMING_CODES.TID!,
    qds: TIMING_CODES.QID!,
    qid: TIMING_CODES.QID!,
    weekly: TIMING_CODES.WK!,
    monthly: TIMING_CODES.MO!,
  };
  return abbrev ? ABBREV[abbrev]! : null;
}

/** A dose from a text sig: "1 g twice daily" → 1 g, "500 mg every 8 hours" → 500 mg. */
export function doseFromText(text: string): { value: number; unit: string } | null {
  const m =
    /(?:^|\s)(\d+(?:[.,]\d+)?)\s*(mg|mcg|µg|micrograms?|g|grams?|ml|units?|iu|puffs?|tablets?|capsules?|drops?)\b/i.exec(
      text,
    );
  if (!m) return null;
  const value = Number(m[1]!.replace(',', '.'));
  return Number.isFinite(value) ? { value, unit: m[2]!.toLowerCase() } : null;
}

const quantityText = (q: Quantity | undefined) =>
  q?.value === undefined ? null : `${q.comparator ?? ''}${q.value}${q.unit || q.code ? ` ${q.unit ?? q.code}` : ''}`;

/** Solid unit-dose forms: a dose without a unit counts them (one tablet), so the strength gives the mass. */
const UNIT_DOSE_FORM = /\b(tablet|capsule|caplet|lozenge|suppository)s?\b/i;

export interface DosageView {
  dose: MedicationView['dose'];
  doseText: string | null;
  frequency: string | null;
  frequencyPerDay: number | null;
  asNeeded: boolean;
  asNeededFor: string | null;
  problems: string[];
}

/**
 * Read one dosage: structured timing and dose first, the text sig for whatever they leave
 * open. `strengthMg` is the single ingredient's mass strength of a unit-dose form (tablet,
 * capsule), used to turn "1" (a count of the form) into a mass.
 */
export function readDosage(
  dosage: Dosage | undefined,
  product: { strengthMg: number | null; form: string | null },
  conceptText: (c: CodeableConcept | undefined) => string | null,
  at: Date,
): DosageView {
  const problems: string[] = [];
  const r = dosage?.timing?.repeat;
  const code = dosage?.timing?.code?.coding?.find((c) => c.code && TIMING_CODES[c.code.toUpperCase()])?.code;
  let schedule: Schedule | null =
    r?.frequency !== undefined && r.period !== undefined && r.periodUnit
      ? {
          frequency: r.frequency,
          frequencyMax: r.frequencyMax,
          period: r.periodMax ?? r.period,
          periodUnit: r.periodUnit,
        }
      : code
        ? TIMING_CODES[code.toUpperCase()]!
        : null;
  if (!schedule && r?.periodUnit && r.period !== undefined && r.frequency === undefined)
    schedule = { frequency: 1, period: r.period, periodUnit: r.periodUnit };
  const text = dosage?.text ?? dosage?.patientInstruction;
  if (!schedule && text) schedule = scheduleFromText(text);

  const dr = dosage?.doseAndRate ?? [];
  const q = dr.find((d) => d.doseQuantity)?.doseQuantity;
  const range = dr.find((d) => d.doseRange)?.doseRange;
  const rate = dr.find((d) => d.rateQuantity)?.rateQuantity;
  let dose: MedicationView['dose'] = null;
  let doseText: string | null = null;
  const countDose = (value: number) => {
    const unitless = product.strengthMg !== null && product.form !== null && UNIT_DOSE_FORM.test(product.form);
    const formWord = product.form ? (UNIT_DOSE_FORM.exec(product.form)?.[1]?.toLowerCase() ?? null) : null;
    if (unitless && formWord) {
      dose = { value: Number((value * product.strengthMg!).toPrecision(6)), unit: 'mg' };
      doseText = `${value} ${formWord}${value === 1 ? '' : 's'} (${dose.value} mg)`;
    } else doseText = `${value}${formWord ? ` ${formWord}` : ''}`;
  };
  if (q?.value !== undefined) {
    if (q.unit || q.code) {
      dose = { value: q.value, unit: q.unit ?? q.code ?? '' };
      doseText = quantityText(q);
    } else countDose(q.value);
  } else if (range?.high?.value !== undefined || range?.low?.value !== undefined) {
    const unit = range.high?.unit ?? range.low?.unit ?? range.high?.code ?? range.low?.code ?? '';
    const high = range.high?.value ?? range.low!.value!;
    doseText = `${range.low?.value ?? ''}–${range.high?.value ?? ''}${unit ? ` ${unit}` : ''}`;
    if (unit) dose = { value: high, unit };
  } else if (text) {
    const fromText = doseFromText(text);
    if (fromText) {
      dose = massUnit(fromText.unit) ? { value: fromText.value, unit: massUnit(fromText.unit)! } : fromText;
      doseText = `${fromText.value} ${fromText.unit}`;
    }
  }
  if (rate?.value !== undefined) doseText = [doseText, `at ${quantityText(rate)}`].filter(Boolean).join(' ');
  const doseValue = dose?.value;
  if (doseValue !== undefined && doseValue <= 0) {
    problems.push(`dose of ${doseValue} recorded: not a usable dose`);
    dose = null;
  }

  let frequency = schedule ? describeSchedule(schedule) : null;
  let frequencyPerDay = schedule ? perDayOf(schedule) : null;
  if (frequencyPerDay !== null && frequencyPerDay > MAX_PLAUSIBLE_PER_DAY) {
    problems.push(
      `frequency of ${frequency} (${frequencyPerDay} times a day) is implausible: check the record; the daily total was not checked`,
    );
    frequencyPerDay = null;
  }
  const when = r?.when?.map((w) => WHEN[w.toUpperCase()] ?? w).join(', ');
  if (when) frequency = frequency ? `${frequency}, ${when}` : when;
  const boundsEnd = r?.boundsPeriod?.end;
  if (boundsEnd && Date.parse(boundsEnd) < at.getTime())
    frequency = `${frequency ?? 'course'} (course ended before the case)`;
  else if (r?.boundsDuration?.value !== undefined)
    frequency =
      `${frequency ?? ''} for ${r.boundsDuration.value} ${r.boundsDuration.unit ?? r.boundsDuration.code ?? ''}`.trim();

  const asNeededFor = conceptText(dosage?.asNeededCodeableConcept);
  const asNeeded =
    dosage?.asNeededBoolean === true || asNeededFor !== null || /\b(as needed|prn|when required)\b/i.test(text ?? '');
  return { dose, doseText, frequency, frequencyPerDay, asNeeded, asNeededFor, problems };
}

const CODE_SYSTEMS: Record<string, 'rxnorm' | 'atc'> = {
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'rxnorm',
  'http://www.whocc.no/atc': 'atc',
};

export function medicationCodes(concept: CodeableConcept | undefined): MedicationView['codes'] {
  return (concept?.coding ?? []).flatMap((c) => {
    const system = c.system ? CODE_SYSTEMS[c.system] : undefined;
    return system && c.code && /^[A-Za-z0-9.-]{1,20}$/.test(c.code) ? [{ system, code: c.code }] : [];
  });
}

/** What the medication is: its name, codes, ingredients with strengths, and form. */
export function describeMedication(
  r: MedicationResource,
  referenced: Medication | null,
  conceptText: (c: CodeableConcept | undefined) => string | null,
): {
  name: string | null;
  codes: MedicationView['codes'];
  ingredients: MedicationView['ingredients'];
  form: string | null;
} {
  const concept = r.medicationCodeableConcept ?? referenced?.code;
  // A name is text or a display; a bare code is not a name (it is kept as a code).
  const named = concept?.text?.trim() || concept?.coding?.find((c) => c.display?.trim())?.display?.trim();
  const name = named || r.medicationReference?.display?.trim() || null;
  const parsed = name ? parseDrugName(name) : null;
  const strength = (s: NonNullable<Medication['ingredient']>[number]['strength']) => {
    const n = s?.numerator;
    if (n?.value === undefined) return null;
    const d = s?.denominator;
    const per =
      d && (d.value !== 1 || d.unit || d.code) ? `/${d.value === 1 ? '' : `${d.value} `}${d.unit ?? d.code ?? ''}` : '';
    return `${n.value} ${n.unit ?? n.code ?? ''}${per}`.trim();
  };
  const fromResource = (referenced?.ingredient ?? []).flatMap((i) => {
    const n = conceptText(i.itemCodeableConcept) ?? i.itemReference?.display ?? null;
    return n ? [{ name: n, strength: strength(i.strength) }] : [];
  });
  return {
    name,
    codes: medicationCodes(concept),
    ingredients: fromResource.length ? fromResource : (parsed?.ingredients ?? []),
    form: conceptText(referenced?.form) ?? parsed?.form ?? null,
  };
}

/** The mass strength in mg of a one-ingredient product written "5 MG" (not per mL or per actuation), else null. */
export function unitStrengthMg(ingredients: MedicationView['ingredients']): number | null {
  if (ingredients.length !== 1) return null;
  const m = /^(\d+(?:\.\d+)?)\s*(mg|mcg|µg|ug|g)$/i.exec(ingredients[0]!.strength ?? '');
  if (!m) return null;
  const unit = massUnit(m[2]!);
  if (!unit) return null;
  const factor = { g: 1000, mg: 1, mcg: 0.001 }[unit];
  return Number((Number(m[1]) * factor).toPrecision(6));
}
