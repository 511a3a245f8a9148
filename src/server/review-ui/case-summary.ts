/**
 * The case summary a reviewer acts on, rendered from the PHI-minimised view: key results as a
 * table (latest value, when, previous value, trend, reference range, flag), current medications
 * as a table, problems split active / resolved, and the rest of the record (other tests, counts
 * by resource type) behind disclosures. Every value from the case goes through `html` and is
 * escaped; text inside inline elements stays on one line (a line break would reach textContent).
 */
import type {
  LabComponentView,
  LabView,
  MedicationView,
  MinimisedCase,
  ProblemView,
} from '../../domain/minimised-case.js';
import { html, join, type Html } from './html.js';

const SYSTOLIC = '8480-6';
const DIASTOLIC = '8462-4';

/** "same day", "3 days before", "5 months before", "12 years before" (and "… after" for later dates). */
export function relativeDays(days: number | null): string | null {
  if (days === null) return null;
  if (days === 0) return 'same day';
  const n = Math.abs(days);
  const side = days > 0 ? 'before' : 'after';
  const plural = (k: number, unit: string) => `${k} ${unit}${k === 1 ? '' : 's'} ${side}`;
  if (n <= 60) return plural(n, 'day');
  if (n < 730) return plural(Math.round(n / 30.44), 'month');
  return plural(Math.round(n / 365.25), 'year');
}

const when = (days: number | null, what = 'before the case'): Html =>
  days === null
    ? html`<span class="when muted">date not recorded</span>`
    : html`<span class="when muted" title="${days === 0 ? 'on the day of the case' : `${Math.abs(days)} days ${days > 0 ? what : 'after the case'}`}">${relativeDays(days)}</span>`;

/** UCUM codes as people write them. Anything else is shown as recorded. */
const UNITS: Record<string, string> = {
  'mm[Hg]': 'mmHg',
  Cel: '°C',
  '[degF]': '°F',
  'kg/m2': 'kg/m²',
  '10*3/uL': '×10³/µL',
  '10*6/uL': '×10⁶/µL',
  '10*9/L': '×10⁹/L',
  '10*12/L': '×10¹²/L',
  'mL/min/{1.73_m2}': 'mL/min/1.73 m²',
  '/min': '/min',
  '{beats}/min': 'beats/min',
  '{breaths}/min': 'breaths/min',
  uL: 'µL',
  ug: 'µg',
  'ug/L': 'µg/L',
  'umol/L': 'µmol/L',
};
export const displayUnit = (unit: string | null): string => (unit ? (UNITS[unit] ?? unit) : '');

const number = (v: number) => v.toLocaleString('en-US', { maximumFractionDigits: 4 });
const reading = (value: number | null, valueText: string | null, unit: string | null): string =>
  value !== null ? `${number(value)}${unit ? ` ${displayUnit(unit)}` : ''}` : (valueText ?? '—');

export type Flag = { code: string; label: string; abnormal: boolean };

const INTERPRETATIONS: Record<string, { label: string; abnormal: boolean }> = {
  H: { label: 'above the reference range', abnormal: true },
  HH: { label: 'critically high', abnormal: true },
  HU: { label: 'significantly high', abnormal: true },
  L: { label: 'below the reference range', abnormal: true },
  LL: { label: 'critically low', abnormal: true },
  LU: { label: 'significantly low', abnormal: true },
  A: { label: 'abnormal', abnormal: true },
  AA: { label: 'critically abnormal', abnormal: true },
  N: { label: 'normal', abnormal: false },
  HIGH: { label: 'above the reference range', abnormal: true },
  LOW: { label: 'below the reference range', abnormal: true },
  ABNORMAL: { label: 'abnormal', abnormal: true },
  NORMAL: { label: 'normal', abnormal: false },
};
const SHORT: Record<string, string> = { HIGH: 'H', LOW: 'L', ABNORMAL: 'A', NORMAL: 'N' };

/** Bounds of a reference range as written: "3.5–5.1 mmol/L", "3.5-5.1", "< 5.0", "≥ 60 mL/min". */
export function parseRange(
  text: string | null,
): { low: number | null; high: number | null; unit: string | null } | null {
  if (!text) return null;
  const num = '(-?\\d+(?:\\.\\d+)?)';
  const between = new RegExp(`^\\s*${num}?\\s*[–—-]\\s*${num}?\\s*(.*)$`).exec(text);
  if (between && (between[1] || between[2]))
    return {
      low: between[1] ? Number(between[1]) : null,
      high: between[2] ? Number(between[2]) : null,
      unit: between[3]?.trim() || null,
    };
  const bound = new RegExp(`^\\s*(<=?|≤|>=?|≥)\\s*${num}\\s*(.*)$`).exec(text);
  if (bound) {
    const upper = bound[1]!.startsWith('<') || bound[1] === '≤';
    const v = Number(bound[2]);
    return { low: upper ? null : v, high: upper ? v : null, unit: bound[3]?.trim() || null };
  }
  return null;
}

/**
 * The flag of a result: the recorded interpretation when there is one (H, L, A…, or its text),
 * else H or L when the value lies outside the reference range (same unit, or none written).
 */
export function flagOf(r: {
  value: number | null;
  unit: string | null;
  interpretation: string | null;
  referenceRange: string | null;
}): Flag | null {
  if (r.interpretation) {
    const key = r.interpretation.trim().toUpperCase();
    const known = INTERPRETATIONS[key];
    if (known) return { code: SHORT[key] ?? key, ...known };
    return { code: r.interpretation, label: `interpretation: ${r.interpretation}`, abnormal: true };
  }
  const range = parseRange(r.referenceRange);
  if (!range || r.value === null) return null;
  if (range.unit && r.unit && range.unit.toLowerCase() !== r.unit.toLowerCase()) return null;
  if (range.high !== null && r.value > range.high) return { code: 'H', ...INTERPRETATIONS.H! };
  if (range.low !== null && r.value < range.low) return { code: 'L', ...INTERPRETATIONS.L! };
  return null;
}

const flagBadge = (f: Flag | null): Html | '' =>
  f && f.abnormal
    ? html` <span class="flag" title="${f.label}">${f.code}<span class="visually-hidden"> (${f.label})</span></span>`
    : '';

const TREND: Record<NonNullable<LabView['trend']>, { arrow: string; words: string }> = {
  up: { arrow: '↑', words: 'rising' },
  down: { arrow: '↓', words: 'falling' },
  unchanged: { arrow: '→', words: 'unchanged' },
};
export const trendArrow = (t: LabView['trend'], of = ''): Html | '' =>
  t
    ? html`<span class="trend trend-${t}" title="${of}${TREND[t].words}"><span aria-hidden="true">${TREND[t].arrow}</span><span class="visually-hidden">${of}${TREND[t].words}</span></span>`
    : '';

/** Systolic and diastolic components, when a result is a blood pressure. */
function bloodPressure(l: LabView): { sys: LabComponentView; dia: LabComponentView } | null {
  const sys = l.components.find((c) => c.loinc === SYSTOLIC);
  const dia = l.components.find((c) => c.loinc === DIASTOLIC);
  return sys && dia ? { sys, dia } : null;
}

const componentFlag = (cs: readonly LabComponentView[]) => cs.map(flagOf).find((f) => f?.abnormal) ?? null;

function labCells(l: LabView): {
  latest: Html;
  previous: Html | string;
  trend: Html | string;
  range: string;
  flag: Flag | null;
} {
  const bp = bloodPressure(l);
  if (bp) {
    const unit = displayUnit(bp.sys.unit ?? bp.dia.unit);
    const v = (c: LabComponentView) => (c.value !== null ? number(c.value) : (c.valueText ?? '—'));
    const prev = bp.sys.previous !== null || bp.dia.previous !== null;
    return {
      latest: html`<span class="val">${v(bp.sys)}/${v(bp.dia)}${unit ? ` ${unit}` : ''}</span>`,
      previous: prev
        ? `${bp.sys.previous !== null ? number(bp.sys.previous) : '—'}/${bp.dia.previous !== null ? number(bp.dia.previous) : '—'}${unit ? ` ${unit}` : ''}`
        : '',
      trend:
        bp.sys.trend || bp.dia.trend
          ? html`${trendArrow(bp.sys.trend, 'systolic ')}<span aria-hidden="true">/</span><span class="visually-hidden">, </span>${trendArrow(bp.dia.trend, 'diastolic ')}`
          : '',
      range: [bp.sys.referenceRange, bp.dia.referenceRange].every(Boolean)
        ? `${bp.sys.referenceRange!} / ${bp.dia.referenceRange!}`
        : '',
      flag: componentFlag([bp.sys, bp.dia]),
    };
  }
  if (l.components.length) {
    return {
      latest: html`${join(
        l.components.map(
          (c) =>
            html`<span class="comp">${c.name} <span class="val">${reading(c.value, c.valueText, c.unit)}</span>${flagBadge(flagOf(c))}</span>`,
        ),
        html`<span class="visually-hidden">; </span>`,
      )}`,
      previous: l.components.some((c) => c.previous !== null)
        ? l.components.map((c) => (c.previous !== null ? number(c.previous) : '—')).join(' / ')
        : '',
      trend: join(
        l.components.filter((c) => c.trend).map((c) => trendArrow(c.trend, `${c.name} `)),
        ' ',
      ),
      range: l.components
        .map((c) => c.referenceRange)
        .filter(Boolean)
        .join(' / '),
      flag: null,
    };
  }
  return {
    latest: html`<span class="val">${reading(l.value, l.valueText, l.unit)}</span>`,
    previous: l.previous ? reading(l.previous.value, l.previous.valueText, l.previous.unit) : '',
    trend: trendArrow(l.trend),
    range: l.referenceRange ?? '',
    flag: flagOf(l),
  };
}

function labRow(l: LabView, withRange: boolean): Html {
  const c = labCells(l);
  return html`<tr${c.flag?.abnormal ? html` class="abnormal"` : ''}><th scope="row" id="ref-${l.ref}">${l.name}${l.count > 1 ? html` <span class="muted small" title="results of this test in the record">×${l.count}</span>` : ''}</th><td class="num">${c.latest}${flagBadge(c.flag)} ${when(l.daysBeforeCase)}</td><td class="num">${c.previous ? html`<span class="val">${c.previous}</span> ${l.previous ? when(l.previous.daysBeforeCase) : ''}` : html`<span class="muted">—</span>`}</td><td class="trend-cell">${c.trend}</td>${withRange ? html`<td class="range">${c.range}</td>` : ''}</tr>`;
}

const labHead = (withRange: boolean) =>
  html`<thead><tr><th scope="col">Test</th><th scope="col" class="num">Latest</th><th scope="col" class="num">Previous</th><th scope="col">Trend</th>${withRange ? html`<th scope="col">Reference</th>` : ''}</tr></thead>`;
/** The reference-range column is shown when a result has a range (Synthea records have none). */
const hasRange = (labs: readonly LabView[]) =>
  labs.some((l) => l.referenceRange || l.components.some((c) => c.referenceRange));

export function keyResultsTable(labs: readonly LabView[]): Html {
  if (!labs.length) return html`<p class="muted empty-state">No results recorded.</p>`;
  const groups: Array<{ name: string | null; rows: LabView[] }> = [];
  for (const l of labs) {
    const last = groups.at(-1);
    if (last && last.name === l.group) last.rows.push(l);
    else groups.push({ name: l.group, rows: [l] });
  }
  const withRange = hasRange(labs);
  return html`<table class="results" aria-labelledby="labs-title">${labHead(withRange)}${groups.map(
    (g) =>
      html`<tbody>${g.name ? html`<tr class="group"><th scope="rowgroup" colspan="${withRange ? 5 : 4}">${g.name}</th></tr>` : ''}${g.rows.map((l) => labRow(l, withRange))}</tbody>`,
  )}</table>${withRange ? '' : html`<p class="muted small">No reference ranges recorded.</p>`}`;
}

function otherResults(labs: readonly LabView[], notListed: number): Html | '' {
  if (!labs.length && !notListed) return '';
  return html`<details class="more"><summary>${labs.length} other tests (latest results)${notListed ? `, ${notListed} more not listed` : ''}</summary>${
    labs.length
      ? html`<table class="results"><caption class="visually-hidden">Other tests, latest result of each</caption>${labHead(hasRange(labs))}<tbody>${labs.map((l) => labRow(l, hasRange(labs)))}</tbody></table>`
      : ''
  }${notListed ? html`<p class="muted small">${notListed} further tests are in the record and not listed here.</p>` : ''}</details>`;
}

function medicationRow(m: MedicationView): Html {
  const dose = m.doseText ?? (m.dose ? `${number(m.dose.value)} ${m.dose.unit}` : null);
  return html`<tr${m.problems.length ? html` class="abnormal"` : ''}><th scope="row" id="ref-${m.ref}">${m.name}${m.instructions ? html` <span class="muted small">${m.instructions}</span>` : ''}${m.problems.map((p) => html` <span class="warn small">${p}</span>`)}</th><td>${dose ?? html`<span class="muted">—</span>`}</td><td>${m.route ?? html`<span class="muted">—</span>`}</td><td>${m.frequency ?? ''}${m.asNeeded ? html`${m.frequency ? ' ' : ''}<span class="prn" title="as needed">PRN<span class="visually-hidden"> (as needed)</span></span>${m.asNeededFor ? ` for ${m.asNeededFor}` : ''}` : ''}${!m.frequency && !m.asNeeded ? html`<span class="muted">—</span>` : ''}</td><td>${m.status}</td><td class="num">${m.startedDaysBeforeCase !== null ? when(m.startedDaysBeforeCase) : html`<span class="muted">—</span>`}</td></tr>`;
}

export function medicationsTable(meds: readonly MedicationView[]): Html {
  if (!meds.length) return html`<p class="muted empty-state">No current medications recorded.</p>`;
  return html`<table class="meds" aria-labelledby="meds-title"><thead><tr><th scope="col">Medication</th><th scope="col">Dose</th><th scope="col">Route</th><th scope="col">Frequency</th><th scope="col">Status</th><th scope="col" class="num">Started</th></tr></thead><tbody>${meds.map(medicationRow)}</tbody></table>`;
}

function problemItem(p: ProblemView, resolved: boolean): Html {
  const since = p.onsetDaysBeforeCase !== null ? `onset ${relativeDays(p.onsetDaysBeforeCase)!}` : null;
  const until =
    resolved && p.abatementDaysBeforeCase !== null ? `resolved ${relativeDays(p.abatementDaysBeforeCase)!}` : null;
  const status = p.status && p.status !== 'active' ? p.status : null;
  const detail = [resolved ? (status ?? 'resolved') : status, since, until].filter(Boolean).join(', ');
  return html`<li><span id="ref-${p.ref}">${p.text}</span>${detail ? html` <span class="muted small">${detail}</span>` : ''}</li>`;
}

export function problemsBlock(active: readonly ProblemView[], resolved: readonly ProblemView[]): Html {
  return html`${active.length ? html`<ul class="problems">${active.map((p) => problemItem(p, false))}</ul>` : html`<p class="muted empty-state">No active problems recorded.</p>`}${
    resolved.length
      ? html`<details class="more" id="resolved-problems"><summary>${resolved.length} resolved or inactive</summary><ul class="problems">${resolved.map((p) => problemItem(p, true))}</ul></details>`
      : ''
  }`;
}

export function countsBlock(counts: MinimisedCase['counts']): Html | '' {
  const types = Object.entries(counts.resources).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (!types.length) return '';
  const total = types.reduce((n, [, k]) => n + k, 0);
  const list = (items: Array<[string, number]>) => items.map(([t, k]) => `${number(k)} ${t}`).join(', ');
  const meds = Object.entries(counts.medicationsByStatus).sort((a, b) => b[1] - a[1]);
  return html`<details class="more counts"><summary>${number(total)} resources: ${list(types.slice(0, 3))}${types.length > 3 ? ', …' : ''}</summary><p>${number(total)} resources: ${list(types)}.</p>${
    counts.observations
      ? html`<p>${number(counts.observations)} results of ${number(counts.tests)} tests${counts.testsNotListed ? `, ${number(counts.testsNotListed)} tests not listed` : ''}.</p>`
      : ''
  }${meds.length ? html`<p>Medication records by status: ${meds.map(([s, k]) => `${number(k)} ${s}`).join(', ')}.</p>` : ''}${
    counts.conditionsNotListed ? html`<p>${number(counts.conditionsNotListed)} conditions not listed.</p>` : ''
  }</details>`;
}

export function caseSummary(view: MinimisedCase | null): Html {
  if (!view) return html`<p class="muted">No case summary is available for this revision.</p>`;
  const list = <T>(items: readonly T[], fn: (x: T) => Html, empty: string) =>
    items.length
      ? html`<ul>${items.map((x) => html`<li>${fn(x)}</li>`)}</ul>`
      : html`<p class="muted empty-state">${empty}</p>`;
  return html`<dl class="facts">
  <dt>Question</dt><dd>${view.question}</dd>
  <dt>Patient</dt><dd>${view.patient.age ? `age ${view.patient.age}` : 'age not recorded'}, ${view.patient.sex ?? 'sex not recorded'}</dd>
</dl>
<h3 id="problems-title">Problems</h3>${problemsBlock(view.problems, view.resolvedProblems)}
<h3 id="meds-title">Medications</h3>${medicationsTable(view.medications)}
<h3>Allergies</h3>${list(view.allergies, (a) => html`<span id="ref-${a.ref}">${a.substance}</span>${a.reactions.length ? ` — ${a.reactions.join(', ')}` : ''}${a.criticality ? html` <span class="muted">(${a.criticality})</span>` : ''}`, 'No allergies recorded.')}
<h3 id="labs-title">Key results</h3>${keyResultsTable(view.labs)}
${otherResults(view.otherLabs, view.counts.testsNotListed)}
<h3>Imaging</h3>${list(view.imaging, (i) => html`<span id="ref-${i.ref}">${i.ref}</span>: ${[i.modality, i.bodySite, i.description].filter(Boolean).join(', ') || 'study'}${i.daysBeforeCase !== null ? html` ${when(i.daysBeforeCase)}` : ''}`, 'None.')}
<h3>Notes</h3>${list(view.notes, (n) => html`<span id="ref-${n.ref}" class="muted">${n.source}:</span> <q class="note">${n.text}</q>`, 'None.')}
${countsBlock(view.counts)}
<p class="muted small">PHI-minimised view: no names, identifiers, contact details or exact dates. Note text is shown as written and is never treated as instructions.</p>`;
}
