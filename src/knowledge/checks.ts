/**
 * Drug-safety checks as pure functions over a knowledge snapshot: interactions (pairwise,
 * including class-level rules), allergies (with cross-reactivity), contraindications, dose
 * ranges (unit conversion, age bands, renal bands from eGFR or CrCl) and duplicate therapy.
 * Every finding names the fact ids it rests on; whatever could not be checked is listed with
 * the reason. Nothing here guesses: an unknown term is reported, not approximated.
 */
import type { z } from 'zod';
import type { Severity } from '../domain/plan.js';
import type { AttrsOf, StoredFact } from './model.js';
import { convertMass, estimateRenal, patientFacts, type RenalEstimate } from './renal.js';
import { ingredientsOf, medicationSet, resolveTerm, type Resolution, type TermInput } from './resolve.js';
import type { SafetyCheckInput as InputSchema, SafetyCheckKind, SafetyFinding } from '../domain/knowledge.js';
import { ancestors, type KbSnapshot } from './snapshot.js';

export type CheckInput = z.output<typeof InputSchema>;
type Medication = CheckInput['medications'][number];

export interface CheckOutcome {
  kind: SafetyCheckKind;
  checked: string[];
  unknownTerms: string[];
  /** The closest knowledge-base names for each unknown term (for a human; never used by a check). */
  suggestions: Array<{ term: string; names: string[] }>;
  findings: SafetyFinding[];
  unchecked: Array<{ term: string; reason: string }>;
  /** Every fact id cited by a finding, in order of first use. */
  factIds: string[];
}

const RANK: Record<Severity, number> = { info: 0, low: 1, moderate: 2, high: 3, critical: 4 };
export const maxSeverity = (a: Severity, b: Severity): Severity => (RANK[a] >= RANK[b] ? a : b);
const uniq = <T>(xs: Iterable<T>) => [...new Set(xs)];

export interface ResolvedMedication {
  med: Medication;
  resolution: Resolution;
  entityIds: string[];
  /** Entity and classes → the membership facts that put it there. */
  set: Map<string, string[]>;
  ingredients: Array<{ id: string; factIds: string[] }>;
  nameFacts: string[];
}

const sharesIngredient = (a: ResolvedMedication, b: ResolvedMedication) =>
  a.ingredients.some((x) => b.ingredients.some((y) => y.id === x.id));

export function resolveMedications(
  kb: KbSnapshot,
  meds: readonly Medication[],
): { resolved: ResolvedMedication[]; unknown: Resolution[] } {
  const resolved: ResolvedMedication[] = [];
  const unknown: Resolution[] = [];
  for (const med of meds) {
    const resolution = resolveTerm(kb, { text: med.name, codes: med.codes }, 'medication');
    if (!resolution.entities.length) {
      unknown.push(resolution);
      continue;
    }
    const entityIds = resolution.entities.map((e) => e.id);
    resolved.push({
      med,
      resolution,
      entityIds,
      set: medicationSet(kb, entityIds),
      ingredients: entityIds.flatMap((id) => ingredientsOf(kb, id)),
      nameFacts: resolution.entities.flatMap((e) => e.factIds),
    });
  }
  return { resolved, unknown };
}

const label = (r: ResolvedMedication) => r.med.name;
const via = (kb: KbSnapshot, r: ResolvedMedication, classId: string) => {
  const e = r.resolution.entities[0]!;
  return classId === e.id || r.ingredients.some((i) => i.id === classId)
    ? ''
    : ` (${r.med.name} is in ${kb.entities.get(classId)?.name ?? classId})`;
};

// ---------------------------------------------------------------------------------------------

/**
 * Per snapshot, per entity: the interaction rules touching it, by the entity at the other end.
 * Built on first use of an entity and kept with the snapshot (a new revision is a new snapshot),
 * so a check looks pairs up instead of walking every rule of every medication: with a licensed
 * compendium a drug has hundreds of rules, and a 20-drug list has 190 pairs.
 */
const partnerCache = new WeakMap<KbSnapshot, Map<string, Map<string, StoredFact[]>>>();
function partnersOf(kb: KbSnapshot, id: string): Map<string, StoredFact[]> {
  let byEntity = partnerCache.get(kb);
  if (!byEntity) partnerCache.set(kb, (byEntity = new Map<string, Map<string, StoredFact[]>>()));
  let partners = byEntity.get(id);
  if (!partners) {
    partners = new Map<string, StoredFact[]>();
    const add = (other: string, f: StoredFact) => {
      const list = partners!.get(other);
      if (!list) partners!.set(other, [f]);
      else if (!list.includes(f)) list.push(f);
    };
    for (const f of kb.bySubject('interacts_with', id)) add(f.object!, f);
    for (const f of kb.byObject('interacts_with', id)) add(f.subject, f);
    byEntity.set(id, partners);
  }
  return partners;
}

/** Interactions between every pair, or (with `focus`) only the pairs that include `meds[focus]`. */
function interactions(kb: KbSnapshot, meds: ResolvedMedication[], focus?: number): SafetyFinding[] {
  const findings: SafetyFinding[] = [];
  for (let i = 0; i < meds.length; i++) {
    for (let j = i + 1; j < meds.length; j++) {
      if (focus !== undefined && i !== focus && j !== focus) continue;
      const a = meds[i]!;
      const b = meds[j]!;
      // The same ingredient twice is duplicate therapy, not an interaction.
      if (sharesIngredient(a, b)) continue;
      let matches: Map<string, { fact: StoredFact; viaFacts: string[]; why: string }> | null = null;
      // Every rule between the medication (or one of its classes) and the other one (or one of its classes).
      for (const [mine, viaMine] of a.set) {
        const partners = partnersOf(kb, mine);
        if (partners.size === 0) continue;
        for (const [other, viaB] of b.set) {
          const rules = partners.get(other);
          if (!rules) continue;
          for (const fact of rules) {
            matches ??= new Map();
            if (matches.has(fact.id)) continue;
            matches.set(fact.id, {
              fact,
              viaFacts: [...viaMine, ...viaB],
              why: `${via(kb, a, mine)}${via(kb, b, other)}`,
            });
          }
        }
      }
      if (!matches) continue;
      const ranked = [...matches.values()].sort(
        (p, q) =>
          RANK[q.fact.attrs.severity as Severity] - RANK[p.fact.attrs.severity as Severity] ||
          p.viaFacts.length - q.viaFacts.length,
      );
      const top = ranked[0]!;
      const others = ranked.slice(1).map((m) => `${String(m.fact.attrs.mechanism)}`);
      findings.push({
        kind: 'interaction',
        severity: top.fact.attrs.severity as Severity,
        summary: `${label(a)} with ${label(b)}: ${String(top.fact.attrs.mechanism).split('. ')[0]!.replace(/\.$/, '')}`,
        explanation:
          `${String(top.fact.attrs.mechanism)}${top.why}${others.length ? ` Also: ${others.join(' ')}` : ''}`.trim(),
        management: String(top.fact.attrs.management),
        medications: [label(a), label(b)],
        factIds: uniq([...ranked.map((m) => m.fact.id), ...ranked.flatMap((m) => m.viaFacts)]),
      });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------

interface AllergyRule {
  target: string;
  severity: Severity;
  note: string;
  factIds: string[];
}

/** What an allergy entry rules out: its own cross-reactivity rules, or those of the class it stands for. */
function allergyRules(kb: KbSnapshot, entityId: string, nameFacts: string[]): AllergyRule[] {
  const entity = kb.entities.get(entityId)!;
  const rulesOf = (subject: string, extra: string[]) =>
    kb.bySubject('cross_reacts_with', subject).map((f) => ({
      target: f.object!,
      severity: f.attrs.severity as Severity,
      note: String(f.attrs.note),
      factIds: [f.id, ...extra],
    }));
  if (entity.type === 'allergen_class') return rulesOf(entityId, nameFacts);
  if (entity.type === 'drug_class')
    return [
      { target: entityId, severity: 'critical', note: `Documented allergy to ${entity.name}.`, factIds: nameFacts },
    ];
  const rules: AllergyRule[] = [];
  for (const ing of ingredientsOf(kb, entityId)) {
    rules.push({
      target: ing.id,
      severity: 'critical',
      note: `Documented allergy to ${kb.entities.get(ing.id)!.name}.`,
      factIds: [...nameFacts, ...ing.factIds],
    });
    rules.push(...rulesOf(ing.id, [...nameFacts, ...ing.factIds]));
    // An allergy to one member stands for its class: apply the rules of allergen classes whose home class holds it.
    for (const [cls, viaFacts] of ancestors(kb, ing.id)) {
      for (const home of kb.byObject('cross_reacts_with', cls)) {
        if (home.attrs.sameClass !== true || kb.entities.get(home.subject)?.type !== 'allergen_class') continue;
        for (const r of rulesOf(home.subject, [...nameFacts, ...ing.factIds, ...viaFacts])) {
          rules.push({ ...r, note: `${kb.entities.get(ing.id)!.name} is in ${kb.entities.get(cls)!.name}; ${r.note}` });
        }
      }
    }
  }
  return rules;
}

/** A recorded allergy and what it rules out. */
export interface ResolvedAllergy {
  term: string;
  rules: AllergyRule[];
}

/** Resolve the recorded allergies once; an unknown one is reported in `out` and rules nothing out. */
function resolveAllergies(
  kb: KbSnapshot,
  allergyTerms: ReadonlyArray<string | TermInput>,
  out: Pick<CheckOutcome, 'unknownTerms' | 'suggestions' | 'unchecked'>,
): ResolvedAllergy[] {
  const resolved: ResolvedAllergy[] = [];
  for (const input of allergyTerms) {
    const term = typeof input === 'string' ? input : input.text;
    const r = resolveTerm(kb, input, 'allergy');
    if (!r.entities.length) {
      out.unknownTerms.push(term);
      out.suggestions.push({ term, names: r.suggestions });
      out.unchecked.push({
        term,
        reason: `allergy “${term}” is not in the knowledge base${r.suggestions.length ? ` (did you mean ${r.suggestions.join(', ')}?)` : ''}; medications were not checked against it`,
      });
      continue;
    }
    resolved.push({ term, rules: r.entities.flatMap((e) => allergyRules(kb, e.id, e.factIds)) });
  }
  return resolved;
}

function allergyHits(meds: readonly ResolvedMedication[], allergies: readonly ResolvedAllergy[]): SafetyFinding[] {
  const findings: SafetyFinding[] = [];
  for (const { term, rules } of allergies) {
    for (const m of meds) {
      const hits = rules
        .filter((rule) => m.set.has(rule.target))
        .map((rule) => ({ ...rule, factIds: [...rule.factIds, ...(m.set.get(rule.target) ?? [])] }));
      if (!hits.length) continue;
      hits.sort((p, q) => RANK[q.severity] - RANK[p.severity]);
      const top = hits[0]!;
      findings.push({
        kind: 'allergy',
        severity: top.severity,
        summary: `${m.med.name} with a recorded allergy to ${term}`,
        explanation: top.note,
        management:
          top.severity === 'critical' || top.severity === 'high'
            ? 'Do not give unless the allergy has been assessed and excluded; choose an alternative.'
            : 'Review the allergy history (reaction type and timing) before giving.',
        medications: [m.med.name],
        factIds: uniq(hits.flatMap((h) => h.factIds)),
      });
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------

/** The recorded conditions and every condition they are a kind of → the term and the facts that map it. */
export function resolveConditions(
  kb: KbSnapshot,
  conditionTerms: ReadonlyArray<string | TermInput>,
  out: Pick<CheckOutcome, 'unchecked'>,
  what: string,
): Map<string, { term: string; factIds: string[] }> {
  const conditions = new Map<string, { term: string; factIds: string[] }>();
  for (const input of conditionTerms) {
    const term = typeof input === 'string' ? input : input.text;
    const r = resolveTerm(kb, input, 'condition');
    if (!r.entities.length)
      out.unchecked.push({
        term,
        reason: `condition “${term}” is not in the knowledge base; ${what} for it were not checked`,
      });
    for (const e of r.entities) {
      for (const [id, viaFacts] of ancestors(kb, e.id))
        if (!conditions.has(id)) conditions.set(id, { term, factIds: [...e.factIds, ...viaFacts] });
    }
  }
  return conditions;
}

function contraindicationHits(
  kb: KbSnapshot,
  meds: readonly ResolvedMedication[],
  conditions: ReadonlyMap<string, { term: string; factIds: string[] }>,
): SafetyFinding[] {
  const findings: SafetyFinding[] = [];
  for (const m of meds) {
    for (const [x, viaFacts] of m.set) {
      for (const f of kb.bySubject('contraindicated_in', x)) {
        const cond = conditions.get(f.object!);
        if (!cond) continue;
        findings.push({
          kind: 'contraindication',
          severity: f.attrs.severity as Severity,
          summary: `${m.med.name} in ${kb.entities.get(f.object!)!.name} (recorded as “${cond.term}”)`,
          explanation: `${String(f.attrs.note)}${via(kb, m, x)}`,
          management: null,
          medications: [m.med.name],
          factIds: uniq([f.id, ...viaFacts, ...cond.factIds]),
        });
      }
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------

const ROUTES: Record<string, 'oral' | 'iv' | 'im' | 'sc'> = {
  oral: 'oral',
  po: 'oral',
  'by mouth': 'oral',
  'per os': 'oral',
  sublingual: 'oral',
  enteral: 'oral',
  口服: 'oral',
  iv: 'iv',
  intravenous: 'iv',
  'intravenous use': 'iv',
  静脉: 'iv',
  静脉注射: 'iv',
  静滴: 'iv',
  im: 'im',
  intramuscular: 'im',
  肌注: 'im',
  肌内注射: 'im',
  sc: 'sc',
  sq: 'sc',
  subcut: 'sc',
  subcutaneous: 'sc',
  皮下注射: 'sc',
};
export const normaliseRoute = (route: string | null) =>
  route
    ? (ROUTES[
        route
          .trim()
          .toLowerCase()
          .replace(/\s+route$/, '')
      ] ?? null)
    : null;

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100));

/**
 * Whether a band's patient criteria hold: `none` (no criteria), `met`, `not_met`, or `unknown`
 * when the unknown values could still decide it. Creatinine counts only when recent.
 */
export function criteriaMet(
  f: StoredFact,
  patient: { ageYears: number | null; weightKg: number | null },
  renal: CheckInput['renal'],
): { state: 'none' | 'met' | 'not_met' | 'unknown'; text: string } {
  const c = (f.attrs as AttrsOf<'dose_range'>).criteria;
  if (!c) return { state: 'none', text: '' };
  const creat =
    renal?.creatinineMgDl != null && (renal.creatinineDaysAgo == null || renal.creatinineDaysAgo <= renal.windowDays)
      ? renal.creatinineMgDl
      : null;
  const tests: Array<{ label: string; value: number | null; ok: (v: number) => boolean }> = [];
  if (c.ageMin !== null) tests.push({ label: `age ≥ ${c.ageMin}`, value: patient.ageYears, ok: (v) => v >= c.ageMin! });
  if (c.weightMaxKg !== null)
    tests.push({ label: `weight ≤ ${c.weightMaxKg} kg`, value: patient.weightKg, ok: (v) => v <= c.weightMaxKg! });
  if (c.creatinineMinMgDl !== null)
    tests.push({
      label: `creatinine ≥ ${c.creatinineMinMgDl} mg/dL`,
      value: creat,
      ok: (v) => v >= c.creatinineMinMgDl!,
    });
  const met = tests.filter((t) => t.value !== null && t.ok(t.value));
  const unknown = tests.filter((t) => t.value === null);
  const text = `${met.map((t) => `${t.label} (${fmt(t.value!)})`).join(', ') || 'none met'}${unknown.length ? `; unknown: ${unknown.map((t) => t.label).join(', ')}` : ''}`;
  if (met.length >= c.atLeast) return { state: 'met', text };
  if (met.length + unknown.length >= c.atLeast) return { state: 'unknown', text };
  return { state: 'not_met', text };
}

/** A dose band's route (its own or `any`) and age band fit; the renal band and criteria are checked apart. */
export function inBand(f: StoredFact, route: string | null, ageYears: number): boolean {
  const a = f.attrs as AttrsOf<'dose_range'>;
  return (
    (a.route === 'any' || a.route === route) && ageYears >= a.ageMin && (a.ageMax === null || ageYears <= a.ageMax)
  );
}

export function renalApplies(
  f: StoredFact,
  renal: RenalEstimate,
): { applies: boolean; known: boolean; value: number | null; note: string } {
  const band = f.attrs.renal as { metric: 'egfr' | 'crcl'; min: number | null; max: number | null } | null;
  if (!band) return { applies: true, known: true, value: null, note: '' };
  let value = band.metric === 'crcl' ? renal.crcl : renal.egfr;
  let note = '';
  if (value === null && band.metric === 'crcl' && renal.egfr !== null) {
    value = renal.egfr;
    note = ' (eGFR used in place of CrCl: no weight recorded)';
  }
  if (value === null) return { applies: false, known: false, value: null, note };
  return {
    applies: (band.min === null || value >= band.min) && (band.max === null || value < band.max),
    known: true,
    value,
    note,
  };
}

function doses(
  kb: KbSnapshot,
  meds: readonly ResolvedMedication[],
  input: CheckInput,
  out: Pick<CheckOutcome, 'unchecked'>,
): SafetyFinding[] {
  const patient = patientFacts(input.ageBand, input.sex, input.weightKg);
  const renal = estimateRenal(input.renal, patient);
  const findings: SafetyFinding[] = [];
  for (const m of meds) {
    const name = m.med.name;
    if (m.ingredients.length !== 1) {
      out.unchecked.push({
        term: name,
        reason: m.ingredients.length
          ? 'combination product: dose not checked per ingredient'
          : 'names a class, not a drug: dose not checked',
      });
      continue;
    }
    const ing = m.ingredients[0]!;
    const facts = kb.bySubject('dose_range', ing.id);
    if (!facts.length) {
      out.unchecked.push({ term: name, reason: 'no dose range in the knowledge base' });
      continue;
    }
    if (patient.ageYears !== null && patient.ageYears < 18) {
      out.unchecked.push({ term: name, reason: 'patient under 18: the knowledge base holds adult ranges only' });
      continue;
    }
    const route = normaliseRoute(m.med.route);
    const routes = uniq(facts.map((f) => String(f.attrs.route)).filter((r) => r !== 'any'));
    let useRoute: string | null = route;
    let routeNote = '';
    if (!route) {
      if (routes.length > 1) {
        out.unchecked.push({
          term: name,
          reason: `route not stated and ranges differ by route (${routes.join(', ')})`,
        });
        continue;
      }
      useRoute = routes[0] ?? null;
      routeNote = useRoute ? ` Route not stated; the only range held (${useRoute}) was applied.` : '';
    }
    const ageNote = patient.ageYears === null ? ' Age not recorded; adult ranges applied.' : '';
    const criteriaNotes = new Map<string, string>();
    const applicable = facts.filter((f) => {
      if (!inBand(f, useRoute, patient.ageYears ?? 18)) return false;
      const c = criteriaMet(f, patient, input.renal);
      if (c.state === 'unknown')
        out.unchecked.push({
          term: name,
          reason: `dose-reduction criteria not assessable (${c.text}): ${f.id} not checked`,
        });
      if (c.state === 'met') criteriaNotes.set(f.id, ` Criteria met: ${c.text}.`);
      return c.state === 'met' || c.state === 'none';
    });
    if (applicable.some((f) => f.attrs.renal) && renal.egfr === null && renal.crcl === null) {
      out.unchecked.push({
        term: name,
        reason: `renal function unknown (${renal.basis.join('; ') || 'no eGFR or creatinine recorded'}): renal dose bands not checked`,
      });
    }
    const perDose = m.med.dose ? convertMass(m.med.dose.value, m.med.dose.unit, 'mg') : null;
    if (m.med.dose && perDose === null)
      out.unchecked.push({ term: name, reason: `dose unit “${m.med.dose.unit}” cannot be compared with a mass range` });
    for (const f of applicable) {
      const a = f.attrs;
      const r = renalApplies(f, renal);
      if (!r.applies) continue;
      const renalWhy = a.renal ? ` ${renal.basis.join('; ')}${r.note}.` : '';
      const cite = uniq([f.id, ...m.nameFacts, ...ing.factIds]);
      if (a.action !== 'range') {
        findings.push({
          kind: 'dose',
          severity: a.action === 'contraindicated' ? 'critical' : 'high',
          summary: `${name}: ${a.action === 'contraindicated' ? 'contraindicated' : 'avoid'} at this level of renal function`,
          explanation: `${String(a.note)}${renalWhy}`.trim(),
          management: 'Choose an alternative or seek specialist advice.',
          medications: [name],
          factIds: cite,
        });
        continue;
      }
      if (perDose === null || !m.med.dose) continue;
      const unit = a.unit as 'g' | 'mg' | 'mcg';
      const dose = convertMass(m.med.dose.value, m.med.dose.unit, unit)!;
      const freq = m.med.frequencyPerDay;
      let amount: number | null = dose;
      let per = 'dose';
      if (a.per === 'day' || a.per === 'week') {
        per = a.per;
        if (freq === null) {
          amount = null;
          if (a.max !== null && dose > (a.max as number)) {
            amount = dose;
            per = `dose (frequency not stated; a single dose already exceeds the ${a.per === 'day' ? 'daily' : 'weekly'} maximum)`;
          } else
            out.unchecked.push({
              term: name,
              reason: `frequency not stated: ${a.per === 'day' ? 'daily' : 'weekly'} total not checked against ${f.id}`,
            });
        } else amount = dose * freq * (a.per === 'week' ? 7 : 1);
      }
      if (amount === null) continue;
      const max = a.max as number | null;
      const min = a.min as number | null;
      const stated = `${fmt(m.med.dose.value)} ${m.med.dose.unit}${freq !== null ? ` × ${fmt(freq)}/day` : ''}`;
      const bandText = a.renal ? ' in this renal band' : '';
      // Frequencies arrive rounded to 4 significant digits (once weekly = 0.1429/day): allow that rounding, 0.1 %.
      if (max !== null && amount > max * 1.001) {
        findings.push({
          kind: 'dose',
          severity: amount > 2 * max ? 'critical' : 'high',
          summary: `${name}: ${fmt(amount)} ${unit} per ${per.split(' ')[0]} is above the maximum of ${fmt(max)} ${unit}${bandText}`,
          explanation:
            `Prescribed ${stated} = ${fmt(amount)} ${unit} per ${per}. Maximum ${fmt(max)} ${unit} per ${String(a.per)}${bandText}.${criteriaNotes.get(f.id) ?? ''}${renalWhy}${routeNote}${ageNote} ${String(a.note)}`.trim(),
          management: a.renal
            ? 'Reduce the dose to the renal band, or choose an alternative.'
            : 'Reduce the dose to within the range, or document why a higher dose is intended.',
          medications: [name],
          factIds: cite,
        });
      } else if (min !== null && amount < min * 0.999) {
        findings.push({
          kind: 'dose',
          severity: 'low',
          summary: `${name}: ${fmt(amount)} ${unit} per ${per.split(' ')[0]} is below the usual minimum of ${fmt(min)} ${unit}`,
          explanation:
            `Prescribed ${stated}. Usual minimum ${fmt(min)} ${unit} per ${String(a.per)}; may be intended (titration, frailty).${routeNote}${ageNote}`.trim(),
          management: null,
          medications: [name],
          factIds: cite,
        });
      }
    }
  }
  findings.push(...combinedDoses(kb, meds, renal, patient.ageYears));
  return findings;
}

/**
 * The same ingredient in two or more medications (a brand and its generic, two products): the
 * daily total of all of them against the daily maximum, which no single one may exceed alone.
 * Only single-ingredient medications with a mass dose and a frequency are added up.
 */
function combinedDoses(
  kb: KbSnapshot,
  meds: readonly ResolvedMedication[],
  renal: RenalEstimate,
  ageYears: number | null,
): SafetyFinding[] {
  const groups = new Map<string, ResolvedMedication[]>();
  for (const m of meds) {
    if (m.ingredients.length !== 1 || !m.med.dose || m.med.frequencyPerDay === null) continue;
    const id = m.ingredients[0]!.id;
    groups.set(id, [...(groups.get(id) ?? []), m]);
  }
  const findings: SafetyFinding[] = [];
  for (const [id, group] of groups) {
    if (group.length < 2) continue;
    const routes = new Set(group.map((m) => normaliseRoute(m.med.route) ?? 'oral'));
    if (routes.size !== 1) continue;
    const route = [...routes][0]!;
    const age = ageYears ?? 18;
    const maxima = kb.bySubject('dose_range', id).filter((f) => {
      const a = f.attrs as AttrsOf<'dose_range'>;
      return (
        a.action === 'range' &&
        a.criteria === null &&
        a.per === 'day' &&
        a.max !== null &&
        inBand(f, route, age) &&
        renalApplies(f, renal).applies
      );
    });
    const f = maxima.sort((x, y) => Number(x.attrs.max) - Number(y.attrs.max))[0];
    if (!f) continue;
    const unit = f.attrs.unit as 'g' | 'mg' | 'mcg';
    const parts = group.map((m) => ({
      m,
      perDay: convertMass(m.med.dose!.value, m.med.dose!.unit, unit)! * m.med.frequencyPerDay!,
    }));
    if (parts.some((p) => !Number.isFinite(p.perDay))) continue;
    const total = parts.reduce((n, p) => n + p.perDay, 0);
    const max = Number(f.attrs.max);
    if (total <= max * 1.001) continue;
    const names = group.map((m) => m.med.name);
    findings.push({
      kind: 'dose',
      severity: total > 2 * max ? 'critical' : 'high',
      summary: `${names.join(' + ')}: ${fmt(total)} ${unit} of ${kb.entities.get(id)!.name} per day in total is above the maximum of ${fmt(max)} ${unit}`,
      explanation: `${parts.map((p) => `${p.m.med.name} ${fmt(p.perDay)} ${unit}/day`).join(' + ')} = ${fmt(total)} ${unit}/day; the maximum is ${fmt(max)} ${unit} per day.`,
      management: 'Stop one of them (they contain the same drug), and keep the total within the maximum.',
      medications: names,
      factIds: uniq([f.id, ...group.flatMap((m) => [...m.nameFacts, ...m.ingredients[0]!.factIds])]),
    });
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------

function duplicates(kb: KbSnapshot, meds: ResolvedMedication[], focus?: number): SafetyFinding[] {
  const findings: SafetyFinding[] = [];
  for (let i = 0; i < meds.length; i++) {
    for (let j = i + 1; j < meds.length; j++) {
      if (focus !== undefined && i !== focus && j !== focus) continue;
      const a = meds[i]!;
      const b = meds[j]!;
      const shared = a.ingredients.filter((x) => b.ingredients.some((y) => y.id === x.id));
      if (shared.length) {
        const names = shared.map((s) => kb.entities.get(s.id)!.name).join(', ');
        findings.push({
          kind: 'duplicate_therapy',
          severity: 'high',
          summary: `${a.med.name} and ${b.med.name} both contain ${names}`,
          explanation: `The same ingredient (${names}) is prescribed twice under different names; the total dose may exceed the maximum.`,
          management: 'Stop one of them, or confirm the combined dose is intended.',
          medications: [a.med.name, b.med.name],
          factIds: uniq([
            ...a.nameFacts,
            ...b.nameFacts,
            ...shared.flatMap((s) => s.factIds),
            ...b.ingredients.flatMap((s) => s.factIds),
          ]),
        });
        continue;
      }
      const classes = [...a.set.keys()].filter(
        (c) => b.set.has(c) && kb.entities.get(c)?.attrs.duplicateCheck === true,
      );
      // Report the most specific shared class only (e.g. SSRIs rather than antidepressants).
      const specific = classes.filter((c) => !classes.some((d) => d !== c && ancestors(kb, d).has(c)));
      for (const c of specific) {
        const cls = kb.entities.get(c)!;
        findings.push({
          kind: 'duplicate_therapy',
          severity: 'moderate',
          summary: `${a.med.name} and ${b.med.name} are both ${cls.name}`,
          explanation: `Two drugs of the same class (${cls.name}) add side effects with little added benefit.`,
          management: 'Confirm both are intended (e.g. a switch in progress); otherwise stop one.',
          medications: [a.med.name, b.med.name],
          factIds: uniq([...(a.set.get(c) ?? []), ...(b.set.get(c) ?? []), ...a.nameFacts, ...b.nameFacts]).filter(
            Boolean,
          ),
        });
      }
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------

const OLDER_ADULT_SEVERITY = { avoid: 'moderate', caution: 'low' } as const satisfies Record<string, Severity>;

/**
 * Older-adult prescribing (AGS Beers Criteria and the like): a drug or class to avoid or use
 * with caution from a given age; drug–disease rules fire only with the condition recorded,
 * drug–drug rules only with the other drug also taken. Age unknown = not checked, said so.
 */
function olderAdult(kb: KbSnapshot, meds: ResolvedMedication[], input: CheckInput, out: CheckOutcome): SafetyFinding[] {
  const age = patientFacts(input.ageBand, input.sex, input.weightKg).ageYears;
  if (age === null) {
    for (const m of meds)
      out.unchecked.push({
        term: m.med.name,
        reason: 'age not recorded: older-adult prescribing criteria not checked',
      });
    return [];
  }
  const conditions = resolveConditions(kb, input.conditions, out, 'older-adult drug–disease criteria');
  return olderAdultHits(kb, meds, age, conditions);
}

/** A medication's older-adult rules (its own and its classes'), gathered once per resolved medication. */
const olderRuleCache = new WeakMap<ResolvedMedication, Array<{ x: string; viaFacts: string[]; f: StoredFact }>>();
function olderRules(kb: KbSnapshot, m: ResolvedMedication) {
  let rules = olderRuleCache.get(m);
  if (!rules) {
    rules = [];
    for (const [x, viaFacts] of m.set) for (const f of kb.bySubject('older_adult', x)) rules.push({ x, viaFacts, f });
    olderRuleCache.set(m, rules);
  }
  return rules;
}

/** Older-adult criteria at `age`; with `focus`, only those that involve `meds[focus]`. */
function olderAdultHits(
  kb: KbSnapshot,
  meds: readonly ResolvedMedication[],
  age: number,
  conditions: ReadonlyMap<string, { term: string; factIds: string[] }>,
  focus?: number,
): SafetyFinding[] {
  const findings: SafetyFinding[] = [];
  const seenPairs = new Set<string>();
  const countSeen = new Set<string>();
  const focused = focus === undefined ? null : meds[focus]!;
  for (const m of meds) {
    for (const { x, viaFacts, f } of olderRules(kb, m)) {
      {
        const a = f.attrs as AttrsOf<'older_adult'>;
        if (age < a.ageMin) continue;
        // Focused on one drug: another drug's rules matter only when they name the focused one.
        if (focused && m !== focused && !a.minCount && !(a.with && focused.set.has(a.with))) continue;
        const action = a.action;
        const grade = [a.quality ? `quality of evidence ${a.quality}` : '', a.strength ? `strength ${a.strength}` : '']
          .filter(Boolean)
          .join(', ');
        const base = {
          kind: 'older_adult' as const,
          severity: OLDER_ADULT_SEVERITY[action],
          management: `${a.recommendation}${grade ? ` (${grade})` : ''}`,
        };
        const verb = action === 'avoid' ? 'avoid' : 'use with caution';
        if (a.minCount) {
          // Counted once per rule, reported at once naming every member (the same ingredient twice counts once).
          if (countSeen.has(f.id)) continue;
          countSeen.add(f.id);
          const members: ResolvedMedication[] = [];
          for (const other of meds)
            if (other.set.has(f.subject) && !members.some((x) => sharesIngredient(x, other))) members.push(other);
          if (members.length < a.minCount) continue;
          if (focused && !members.includes(focused)) continue;
          const names = members.map((x) => x.med.name);
          findings.push({
            ...base,
            summary: `${names.join(', ')} at age ${age}: ${members.length} ${kb.entities.get(f.subject)?.name ?? f.subject} together: ${verb}`,
            explanation: a.rationale,
            medications: names,
            factIds: uniq([f.id, ...members.flatMap((x) => [...(x.set.get(f.subject) ?? []), ...x.nameFacts])]),
          });
          continue;
        }
        if (a.condition) {
          if (focused && m !== focused) continue;
          const cond = conditions.get(a.condition);
          if (!cond) continue;
          findings.push({
            ...base,
            summary: `${m.med.name} at age ${age} with ${kb.entities.get(a.condition)!.name} (recorded as “${cond.term}”): ${verb}`,
            explanation: `${a.rationale}${via(kb, m, x)}`,
            medications: [m.med.name],
            factIds: uniq([f.id, ...viaFacts, ...m.nameFacts, ...cond.factIds]),
          });
        } else if (a.with) {
          for (const other of meds) {
            if (other === m) continue;
            if (focused && m !== focused && other !== focused) continue;
            // The same ingredient under two names is duplicate therapy, not a drug–drug criterion.
            if (sharesIngredient(m, other)) continue;
            const viaOther = other.set.get(a.with);
            if (!viaOther) continue;
            const key = [f.id, ...[m.med.name, other.med.name].sort()].join('|');
            if (seenPairs.has(key)) continue;
            seenPairs.add(key);
            findings.push({
              ...base,
              summary: `${m.med.name} with ${other.med.name} at age ${age}: ${verb}`,
              explanation: `${a.rationale}${via(kb, m, x)}${via(kb, other, a.with)}`,
              medications: [m.med.name, other.med.name],
              factIds: uniq([f.id, ...viaFacts, ...viaOther, ...m.nameFacts, ...other.nameFacts]),
            });
          }
        } else {
          if (focused && m !== focused) continue;
          findings.push({
            ...base,
            summary: `${m.med.name} at age ${age}: ${verb} in older adults`,
            explanation: `${a.rationale}${via(kb, m, x)}`,
            medications: [m.med.name],
            factIds: uniq([f.id, ...viaFacts, ...m.nameFacts]),
          });
        }
      }
    }
  }
  return findings;
}

// ---------------------------------------------------------------------------------------------

/** Run one check kind over a snapshot. Pure: the same snapshot and input give the same outcome. */
export function runCheck(kb: KbSnapshot, input: CheckInput): CheckOutcome {
  const { resolved, unknown } = resolveMedications(kb, input.medications);
  const out: CheckOutcome = {
    kind: input.kind,
    checked: resolved.map((r) => r.med.name),
    unknownTerms: unknown.map((r) => r.term),
    suggestions: unknown.map((r) => ({ term: r.term, names: r.suggestions })),
    findings: [],
    unchecked: [],
    factIds: [],
  };
  for (const r of unknown) {
    const s = r.suggestions;
    out.unchecked.push({
      term: r.term,
      reason: r.conflict
        ? `${r.conflict}: not checked until the record is corrected`
        : `not in the knowledge base${s.length ? ` (did you mean ${s.join(', ')}?)` : ''}: not checked`,
    });
  }
  switch (input.kind) {
    case 'interaction':
      out.findings = interactions(kb, resolved);
      break;
    case 'allergy':
      out.findings = allergyHits(resolved, resolveAllergies(kb, input.allergies, out));
      break;
    case 'contraindication':
      out.findings = contraindicationHits(
        kb,
        resolved,
        resolveConditions(kb, input.conditions, out, 'contraindications'),
      );
      break;
    case 'dose':
      out.findings = doses(kb, resolved, input, out);
      break;
    case 'duplicate_therapy':
      out.findings = duplicates(kb, resolved);
      break;
    case 'older_adult':
      out.findings = olderAdult(kb, resolved, input, out);
      break;
  }
  out.findings = out.findings.filter((f) => f.factIds.length > 0);
  out.findings.sort((p, q) => RANK[q.severity] - RANK[p.severity]);
  out.factIds = uniq(out.findings.flatMap((f) => f.factIds));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Re-checking candidate drugs (alternatives) for one patient

/** A patient's record resolved once, so many candidate drugs can be re-checked against it cheaply. */
export interface PreparedPatient {
  input: CheckInput;
  meds: ResolvedMedication[];
  allergies: ResolvedAllergy[];
  conditions: Map<string, { term: string; factIds: string[] }>;
  /** Allergy and condition entries the knowledge base does not know: what a candidate was not checked against. */
  unresolved: Array<{ term: string; reason: string }>;
  ageYears: number | null;
}

export function preparePatient(kb: KbSnapshot, input: CheckInput): PreparedPatient {
  const scratch: Pick<CheckOutcome, 'unknownTerms' | 'suggestions' | 'unchecked'> = {
    unknownTerms: [],
    suggestions: [],
    unchecked: [],
  };
  const allergies = resolveAllergies(kb, input.allergies, scratch);
  const conditions = resolveConditions(kb, input.conditions, scratch, 'contraindications and older-adult criteria');
  return {
    input,
    meds: resolveMedications(kb, input.medications).resolved,
    allergies,
    conditions,
    unresolved: scratch.unchecked,
    ageYears: patientFacts(input.ageBand, input.sex, input.weightKg).ageYears,
  };
}

/** Every finding of the six checks for a prepared patient (what runCheck gives kind by kind, resolved once). */
export function allFindings(kb: KbSnapshot, p: PreparedPatient): SafetyFinding[] {
  const scratch: Pick<CheckOutcome, 'unchecked'> = { unchecked: [] };
  const findings = [
    ...interactions(kb, p.meds),
    ...allergyHits(p.meds, p.allergies),
    ...contraindicationHits(kb, p.meds, p.conditions),
    ...doses(kb, p.meds, p.input, scratch),
    ...duplicates(kb, p.meds),
    ...(p.ageYears === null ? [] : olderAdultHits(kb, p.meds, p.ageYears, p.conditions)),
  ];
  return findings.filter((f) => f.factIds.length > 0).sort((a, b) => RANK[b.severity] - RANK[a.severity]);
}

/** Per snapshot: an ingredient's class set and ingredients, for candidates re-checked again and again. */
const candidateCache = new WeakMap<KbSnapshot, Map<string, Pick<ResolvedMedication, 'set' | 'ingredients'>>>();

/** A drug the knowledge base holds, as a medication without a dose (what an alternative is before it is prescribed). */
export function candidateMedication(kb: KbSnapshot, ingredientId: string, route: string | null): ResolvedMedication {
  const e = kb.entities.get(ingredientId)!;
  let byId = candidateCache.get(kb);
  if (!byId) candidateCache.set(kb, (byId = new Map<string, Pick<ResolvedMedication, 'set' | 'ingredients'>>()));
  let shape = byId.get(ingredientId);
  if (!shape)
    byId.set(ingredientId, (shape = { set: medicationSet(kb, [e.id]), ingredients: ingredientsOf(kb, e.id) }));
  return {
    med: { name: e.name, codes: [], dose: null, route, frequencyPerDay: null },
    resolution: {
      term: e.name,
      entities: [{ id: e.id, type: e.type, name: e.name, matchedName: e.name, match: 'exact', factIds: [] }],
      suggestions: [],
    },
    entityIds: [e.id],
    set: shape.set,
    ingredients: shape.ingredients,
    nameFacts: [],
  };
}

export interface CandidateCheck {
  kind: SafetyCheckKind;
  /** Findings that involve the candidate, most severe first. */
  findings: SafetyFinding[];
  /** What this check could not establish for the candidate (e.g. renal function unknown). */
  unchecked: Array<{ term: string; reason: string }>;
}

/**
 * All six checks for `candidate` as if it were added to the patient's medicines without
 * `removed` (the drug it would replace): interactions with every other active drug, the
 * recorded allergies (with cross-reactivity), contraindications, the dose bands for this
 * patient's age and renal function, duplicate therapy and older-adult criteria. Only findings
 * that involve the candidate are returned.
 */
export function checkCandidate(
  kb: KbSnapshot,
  p: PreparedPatient,
  candidate: ResolvedMedication,
  removed: ReadonlySet<ResolvedMedication>,
  /** Stop at the first check with a finding this says rules the candidate out (the cheap checks run first). */
  stopAt?: (f: SafetyFinding) => boolean,
): CandidateCheck[] {
  const list = [...p.meds.filter((m) => !removed.has(m)), candidate];
  const focus = list.length - 1;
  const keep = (fs: SafetyFinding[]) =>
    fs.filter((f) => f.factIds.length > 0).sort((a, b) => RANK[b.severity] - RANK[a.severity]);
  const unresolvedFor = (what: RegExp) => p.unresolved.filter((u) => what.test(u.reason));
  const runs: Array<() => CandidateCheck> = [
    () => ({
      kind: 'allergy',
      findings: keep(allergyHits([candidate], p.allergies)),
      unchecked: unresolvedFor(/^allergy/),
    }),
    () => ({ kind: 'duplicate_therapy', findings: keep(duplicates(kb, list, focus)), unchecked: [] }),
    () => ({
      kind: 'contraindication',
      findings: keep(contraindicationHits(kb, [candidate], p.conditions)),
      unchecked: unresolvedFor(/^condition/),
    }),
    // Without a dose yet, only the bands that rule the drug out (avoid / contraindicated) can fire.
    () => {
      const doseOut: Pick<CheckOutcome, 'unchecked'> = { unchecked: [] };
      return { kind: 'dose', findings: keep(doses(kb, [candidate], p.input, doseOut)), unchecked: doseOut.unchecked };
    },
    () =>
      p.ageYears === null
        ? {
            kind: 'older_adult',
            findings: [],
            unchecked: [{ term: candidate.med.name, reason: 'age not recorded: older-adult criteria not checked' }],
          }
        : {
            kind: 'older_adult',
            findings: keep(olderAdultHits(kb, list, p.ageYears, p.conditions, focus)),
            unchecked: [],
          },
    () => ({ kind: 'interaction', findings: keep(interactions(kb, list, focus)), unchecked: [] }),
  ];
  const out: CandidateCheck[] = [];
  for (const run of runs) {
    const c = run();
    out.push(c);
    if (stopAt && c.findings.some(stopAt)) break;
  }
  return out;
}
