/**
 * Observations → the results a reviewer reads: one row per test (LOINC code, else name) with
 * the latest value, its relative date, the previous value and the direction of change;
 * components (blood-pressure systolic/diastolic, panels) kept; coded, text and boolean values,
 * interpretations and reference ranges kept. Key results (renal function, electrolytes, liver
 * tests, INR, HbA1c, blood count, lipids, vital signs, weight) lead, in a fixed order; the other
 * tests follow, most recent first; both lists are bounded and the rest is counted.
 *
 * Key tests are identified by LOINC codes as the knowledge base (kb/starter/lab_tests.csv,
 * source LOINC) and the Synthea records code them; a test without a LOINC code is key only when
 * its whole name is the plain name of a key test ("Potassium", "eGFR", "INR"). The row's `loinc`
 * stays what the record says (null then): a name never becomes a code.
 */
import type { CodeableConcept, Observation, Quantity } from '../domain/fhir.js';
import type { LabComponentView, LabView } from '../domain/minimised-case.js';

const LOINC = 'http://loinc.org';

/** Key-result groups in display order, each with its LOINC codes and the decimals its values are shown with. */
const KEY_GROUPS: ReadonlyArray<{ group: LabView['group'] & string; tests: Record<string, number> }> = [
  {
    group: 'renal',
    // eGFR (33914-3, 62238-1, 98979-8, 48642-3, 48643-1), creatinine (2160-0, 38483-4), urea nitrogen (6299-2)
    tests: {
      '33914-3': 0,
      '62238-1': 0,
      '98979-8': 0,
      '48642-3': 0,
      '48643-1': 0,
      '2160-0': 2,
      '38483-4': 2,
      '6299-2': 0,
    },
  },
  // Sodium, potassium, chloride, carbon dioxide, calcium (2951-2, 2947-0, 2823-3, 6298-4, 2069-3, 20565-8, 49765-1)
  {
    group: 'electrolytes',
    tests: { '2951-2': 0, '2947-0': 0, '2823-3': 1, '6298-4': 1, '2069-3': 0, '20565-8': 0, '49765-1': 1 },
  },
  // ALT, AST, alkaline phosphatase, bilirubin total, albumin
  { group: 'liver', tests: { '1742-6': 0, '1920-8': 0, '6768-6': 0, '1975-2': 1, '1751-7': 1 } },
  { group: 'coagulation', tests: { '6301-6': 1 } },
  // HbA1c, glucose (2345-7 serum/plasma, 2339-0 blood)
  { group: 'glycaemia', tests: { '4548-4': 1, '2345-7': 0, '2339-0': 0 } },
  // Haemoglobin, haematocrit, leukocytes, platelets
  { group: 'blood count', tests: { '718-7': 1, '4544-3': 1, '6690-2': 1, '777-3': 0 } },
  // Total, LDL (13457-7 calculated, 18262-6), HDL cholesterol, triglycerides
  { group: 'lipids', tests: { '2093-3': 0, '13457-7': 0, '18262-6': 0, '2085-9': 0, '2571-8': 0 } },
  // Blood pressure panels (55284-4, 85354-9), systolic, diastolic, heart rate, respiratory rate, temperature, BMI, height
  {
    group: 'vital signs',
    tests: {
      '55284-4': 0,
      '85354-9': 0,
      '8480-6': 0,
      '8462-4': 0,
      '8867-4': 0,
      '9279-1': 0,
      '8310-5': 1,
      '8331-1': 1,
      '39156-5': 1,
      '8302-2': 1,
    },
  },
  { group: 'weight', tests: { '29463-7': 1 } },
];
const KEY = new Map<string, { group: string; order: number; decimals: number }>();
KEY_GROUPS.forEach(({ group, tests }, g) =>
  Object.entries(tests).forEach(([code, decimals], i) => KEY.set(code, { group, order: g * 100 + i, decimals })),
);

/** Plain names of key tests, for results recorded without a LOINC code, → the LOINC code whose place they take. */
const KEY_NAMES: ReadonlyArray<[RegExp, string]> = [
  [/^(egfr|e-?gfr|estimated glomerular filtration rate)$/, '33914-3'],
  [/^(serum |plasma )?creatinine$/, '2160-0'],
  [/^(serum |plasma )?sodium$/, '2951-2'],
  [/^(serum |plasma )?potassium$/, '2823-3'],
  [/^(alt|alanine aminotransferase)$/, '1742-6'],
  [/^(inr|pt\/inr)$/, '6301-6'],
  [/^(hba1c|haemoglobin a1c|hemoglobin a1c)$/, '4548-4'],
  [/^(haemoglobin|hemoglobin|hb|hgb)$/, '718-7'],
  [/^(platelets|platelet count)$/, '777-3'],
  [/^(body weight|weight)$/, '29463-7'],
  [/^(blood pressure)$/, '55284-4'],
];
const keyOf = (loinc: string | null, name: string | null) => {
  if (loinc) return KEY.get(loinc);
  const n = name?.trim().toLowerCase() ?? '';
  const code = KEY_NAMES.find(([re]) => re.test(n))?.[1];
  return code ? KEY.get(code) : undefined;
};

export const MAX_KEY_RESULTS = 40;
export const MAX_OTHER_RESULTS = 30;

/** At most 4 significant figures (never more than the source has), or the test's own decimals when it is key. */
export function roundValue(value: number, decimals: number | null): number {
  if (value === 0 || !Number.isFinite(value)) return value;
  const sig = Number(value.toPrecision(4));
  if (decimals === null) return sig;
  const f = 10 ** decimals;
  const fixed = Math.round(value * f) / f;
  // The coarser of the two: 4 significant figures at most, the test's decimals at most.
  return Math.abs(fixed - value) >= Math.abs(sig - value) ? fixed : sig;
}

interface Reading {
  value: number | null;
  valueText: string | null;
  unit: string | null;
  interpretation: string | null;
  referenceRange: string | null;
}

export interface ObservationHelpers {
  scrub: (s: string) => string;
  conceptText: (c: CodeableConcept | undefined) => string | null;
  daysBefore: (dateTime: string | undefined) => number | null;
}

const loincOf = (c: CodeableConcept | undefined) => c?.coding?.find((x) => x.system === LOINC && x.code)?.code ?? null;

function reading(
  r: Pick<
    Observation,
    | 'valueQuantity'
    | 'valueString'
    | 'valueCodeableConcept'
    | 'valueBoolean'
    | 'valueInteger'
    | 'dataAbsentReason'
    | 'interpretation'
    | 'referenceRange'
  >,
  decimals: number | null,
  h: ObservationHelpers,
): Reading {
  const q: Quantity | undefined = r.valueQuantity;
  const num = q?.value ?? r.valueInteger ?? null;
  const text =
    r.valueString ??
    h.conceptText(r.valueCodeableConcept) ??
    (r.valueBoolean === undefined ? null : r.valueBoolean ? 'yes' : 'no') ??
    null;
  const absent = num === null && text === null ? h.conceptText(r.dataAbsentReason) : null;
  const range = r.referenceRange?.[0];
  const rangeText = range
    ? (range.text ??
      ([range.low?.value, range.high?.value].some((v) => v !== undefined)
        ? `${range.low?.value ?? ''}–${range.high?.value ?? ''}${range.high?.unit || range.low?.unit ? ` ${range.high?.unit ?? range.low?.unit}` : ''}`
        : null))
    : null;
  const comparator = q?.comparator ? `${q.comparator} ` : '';
  return {
    value: num === null ? null : roundValue(num, decimals),
    valueText: comparator
      ? h.scrub(`${comparator}${num ?? ''}`)
      : text !== null
        ? h.scrub(text)
        : absent
          ? h.scrub(`not recorded: ${absent}`)
          : null,
    unit: q?.unit || q?.code ? h.scrub(q.unit ?? q.code ?? '') : null,
    interpretation: r.interpretation?.length
      ? h.scrub(r.interpretation.map(h.conceptText).filter(Boolean).join(', ')) || null
      : null,
    referenceRange: rangeText ? h.scrub(rangeText) : null,
  };
}

const trendOf = (now: number | null, before: number | null): LabView['trend'] =>
  now === null || before === null ? null : now > before ? 'up' : now < before ? 'down' : 'unchanged';

interface Dated {
  obs: Observation;
  days: number | null;
  order: number;
}

/**
 * Group observations by test and build the rows. Cancelled and entered-in-error observations
 * are left out; a test's rows are ordered by date (undated last), ties by record order.
 */
export function summariseObservations(
  observations: readonly Observation[],
  h: ObservationHelpers,
): { key: Omit<LabView, 'ref'>[]; other: Omit<LabView, 'ref'>[]; tests: number; results: number } {
  const byTest = new Map<string, Dated[]>();
  let results = 0;
  observations.forEach((obs, order) => {
    if (obs.status === 'cancelled' || obs.status === 'entered-in-error') return;
    results += 1;
    const code = loincOf(obs.code);
    const testKey = code ? `loinc:${code}` : `text:${(h.conceptText(obs.code) ?? 'observation').toLowerCase()}`;
    const days = h.daysBefore(
      obs.effectiveDateTime ?? obs.effectivePeriod?.end ?? obs.effectivePeriod?.start ?? obs.issued,
    );
    const list = byTest.get(testKey) ?? [];
    list.push({ obs, days, order });
    byTest.set(testKey, list);
  });
  const rows: Array<Omit<LabView, 'ref'> & { order: number }> = [];
  for (const list of byTest.values()) {
    list.sort((a, b) => (a.days ?? Infinity) - (b.days ?? Infinity) || b.order - a.order);
    const [latest, previous] = [list[0]!, list[1]];
    const loinc = loincOf(latest.obs.code);
    const key = keyOf(loinc, h.conceptText(latest.obs.code));
    const decimals = key?.decimals ?? null;
    const now = reading(latest.obs, decimals, h);
    const before = previous ? reading(previous.obs, decimals, h) : null;
    const previousComponents = new Map(
      (previous?.obs.component ?? []).map((c) => [loincOf(c.code) ?? h.conceptText(c.code), c] as const),
    );
    const components: LabComponentView[] = (latest.obs.component ?? []).map((c) => {
      const cLoinc = loincOf(c.code);
      const cDecimals = cLoinc ? (KEY.get(cLoinc)?.decimals ?? decimals) : decimals;
      const value = reading(c, cDecimals, h);
      const prior = previousComponents.get(cLoinc ?? h.conceptText(c.code));
      const priorValue = prior ? reading(prior, cDecimals, h).value : null;
      return {
        name: h.scrub(h.conceptText(c.code) ?? 'component'),
        loinc: cLoinc,
        ...value,
        previous: priorValue,
        trend: trendOf(value.value, priorValue),
      };
    });
    rows.push({
      name: h.scrub(h.conceptText(latest.obs.code) ?? 'observation'),
      loinc,
      group: key?.group ?? null,
      ...now,
      daysBeforeCase: latest.days,
      components,
      previous: before
        ? { value: before.value, valueText: before.valueText, unit: before.unit, daysBeforeCase: previous!.days }
        : null,
      trend: before ? trendOf(now.value, before.value) : null,
      count: list.length,
      order: key?.order ?? Infinity,
    });
  }
  const strip = ({ order: _order, ...row }: (typeof rows)[number]) => row;
  const key = rows.filter((r) => r.group !== null).sort((a, b) => a.order - b.order);
  const other = rows
    .filter((r) => r.group === null)
    .sort((a, b) => (a.daysBeforeCase ?? Infinity) - (b.daysBeforeCase ?? Infinity));
  return {
    key: key.slice(0, MAX_KEY_RESULTS).map(strip),
    other: other.slice(0, MAX_OTHER_RESULTS).map(strip),
    tests: rows.length,
    results,
  };
}
