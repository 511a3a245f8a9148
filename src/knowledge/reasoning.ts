/**
 * Care-plan reasoning as a pure function over a knowledge snapshot: from the safety findings of
 * a medication list to what a prescriber can act on (contract: src/domain/care-reasoning.ts).
 *
 * - **Switch** (allergy, contraindication, drug to avoid at this renal function or age, a
 *   serious interaction): the flagged drug's indication is the recorded problem it `treats`
 *   (else the uses the knowledge base holds, said so); candidates are the drugs that treat it
 *   and the members of its therapeutic class. Each candidate is re-checked for this patient with
 *   all six checks as if it replaced the flagged drug; one that raises anything of moderate
 *   severity or above is excluded (and named as excluded), so it is never offered. No known
 *   indication means no alternative, and the action says so.
 * - **Dose adjustment** (above the maximum of a `dose_range` band): the band's maximum, with
 *   the renal value, its date and formula, and an order that keeps the strength the patient
 *   already has and lowers the frequency when that fits.
 * - **Duplicate** (the same ingredient twice): stop one, keep the other at its checked dose.
 * - **Monitoring** from `monitors` facts and interaction management; **guidelines** from the
 *   `guideline_recommendation` facts of the recorded problems and the drugs.
 *
 * Every item names the facts it rests on. Nothing here invents a drug, a dose or a source: what
 * the knowledge base does not hold is reported as not held.
 */
import type { AttrsOf, StoredFact } from './model.js';
import {
  candidateMedication,
  checkCandidate,
  normaliseRoute,
  preparePatient,
  allFindings,
  criteriaMet,
  inBand,
  renalApplies,
  type CheckInput,
  type PreparedPatient,
  type ResolvedMedication,
} from './checks.js';
import { estimateRenal, patientFacts, convertMass, type PatientFacts, type RenalEstimate } from './renal.js';
import { ancestors, type KbSnapshot } from './snapshot.js';
import { toKbFact } from './statements.js';
import type { SafetyCheckKind, SafetyFinding } from '../domain/knowledge.js';
import type {
  CareAction,
  CareReasoningResult,
  ChainLink,
  CheckedAlternative,
  GuidelineItem,
  MonitoringItem,
} from '../domain/care-reasoning.js';
import type { z } from 'zod';
import type { CareReasoningInput } from '../domain/care-reasoning.js';
import { SEVERITY_RANK } from '../domain/plan.js';

export type ReasoningInput = z.output<typeof CareReasoningInput>;

/** How many alternatives an action shows, candidates it re-checks, and actions a case gets. */
export const LIMITS = { alternatives: 3, candidates: 24, excludedShown: 6, actions: 12 } as const;

const uniq = <T>(xs: Iterable<T>) => [...new Set(xs)];
// No thousands separator: "1,000 mg" reads as 1 mg in much of the world.
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : String(Math.round(n * 100) / 100));
const FREQ: Record<number, string> = {
  1: 'once daily',
  2: 'twice daily',
  3: 'three times daily',
  4: 'four times daily',
};
const freqText = (n: number) => FREQ[n] ?? `${fmt(n)} times daily`;
const ROUTE_TEXT: Record<string, string> = {
  oral: 'orally',
  iv: 'intravenously',
  im: 'intramuscularly',
  sc: 'subcutaneously',
};

/** Findings that get an action: every high or critical one, and moderate ones that rule a drug out. */
const needsAction = (f: SafetyFinding) =>
  SEVERITY_RANK[f.severity] >= SEVERITY_RANK.high ||
  (f.severity === 'moderate' && (f.kind === 'older_adult' || f.kind === 'contraindication'));

/**
 * A candidate is ruled out by any high or critical finding, and by a moderate one that says
 * "do not use" (an allergy or cross-reactivity, a contraindication, an older-adult "avoid", a
 * dose band to avoid). A moderate interaction or class duplicate is managed rather than avoided:
 * it is shown as a caution with its management advice, and that check does not count as passed.
 */
const rulesOut = (f: SafetyFinding) =>
  SEVERITY_RANK[f.severity] >= SEVERITY_RANK.high ||
  (f.severity === 'moderate' && f.kind !== 'interaction' && f.kind !== 'duplicate_therapy');

interface Ctx {
  kb: KbSnapshot;
  input: ReasoningInput;
  p: PreparedPatient;
  patient: PatientFacts;
  renal: RenalEstimate;
  cited: Set<string>;
  names: Set<string>;
}

const entityName = (kb: KbSnapshot, id: string) => kb.entities.get(id)?.name ?? id;
/** "SGLT2 inhibitors" → "sglt2 inhibitor", so a guideline naming one member of a class matches the class. */
const singular = (name: string) => name.replace(/s$/, '');

function cite(ctx: Ctx, ids: Iterable<string>): string[] {
  const out = uniq(ids).filter((id) => ctx.kb.facts.has(id));
  for (const id of out) ctx.cited.add(id);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Indications and candidates

interface Indication {
  conditionId: string;
  /** The record's term, when the indication is one of the recorded problems. */
  recordedAs: string | null;
  factIds: string[];
}

/** What the flagged drug is for: recorded problems it treats, else every use the KB holds. */
function indicationsOf(ctx: Ctx, m: ResolvedMedication): { list: Indication[]; fromRecord: boolean } {
  const all = new Map<string, Indication>();
  for (const [x, via] of m.set)
    for (const f of ctx.kb.bySubject('treats', x)) {
      const c = f.object!;
      if (all.has(c)) continue;
      const rec = ctx.p.conditions.get(c);
      all.set(c, { conditionId: c, recordedAs: rec?.term ?? null, factIds: [f.id, ...via, ...(rec?.factIds ?? [])] });
    }
  const recorded = [...all.values()].filter((i) => i.recordedAs !== null);
  return recorded.length ? { list: recorded, fromRecord: true } : { list: [...all.values()], fromRecord: false };
}

/** Ingredients under a drug or class (transitively through member_of_class), with the membership facts. */
function ingredientsUnder(kb: KbSnapshot, id: string, via: string[] = [], seen = new Set<string>()) {
  const out: Array<{ id: string; via: string[] }> = [];
  if (seen.has(id)) return out;
  seen.add(id);
  const type = kb.entities.get(id)?.type;
  if (type === 'ingredient') return [{ id, via }];
  if (type !== 'drug_class') return out;
  for (const f of kb.byObject('member_of_class', id))
    out.push(...ingredientsUnder(kb, f.subject, [...via, f.id], seen));
  return out;
}

/** Per snapshot, per ingredient: the names of it and its classes, and the uses it is never proposed for. */
const profileCache = new WeakMap<KbSnapshot, Map<string, { names: string[]; neverFor: Set<string> }>>();
function profile(kb: KbSnapshot, ingredientId: string) {
  let byId = profileCache.get(kb);
  if (!byId) profileCache.set(kb, (byId = new Map<string, { names: string[]; neverFor: Set<string> }>()));
  let p = byId.get(ingredientId);
  if (!p) {
    const classes = [...ancestors(kb, ingredientId).keys()];
    p = {
      names: classes.map((id) => entityName(kb, id).toLowerCase()),
      // Its own use, or its class's, marked "never proposed as an alternative" for a condition (opioids for pain …).
      neverFor: new Set(
        classes.flatMap((x) =>
          kb
            .bySubject('treats', x)
            .filter((f) => (f.attrs as AttrsOf<'treats'>).alternative === false)
            .map((f) => f.object!),
        ),
      ),
    };
    byId.set(ingredientId, p);
  }
  return p;
}

interface Candidate {
  id: string;
  basis: 'same_indication' | 'same_class';
  sameClass: boolean;
  indication: Indication | null;
  note: string | null;
  factIds: string[];
  /** Named by a guideline statement for the indication (ranked first among equals). */
  inGuideline: boolean;
}

function candidatesFor(
  ctx: Ctx,
  m: ResolvedMedication,
  indications: Indication[],
  finding: SafetyFinding,
): Candidate[] {
  const { kb } = ctx;
  const taken = new Set(ctx.p.meds.flatMap((x) => x.ingredients.map((i) => i.id)));
  const out = new Map<string, Candidate>();
  const add = (c: Candidate) => {
    if (taken.has(c.id) || out.has(c.id)) return;
    if (kb.entities.get(c.id)?.type !== 'ingredient') return;
    const never = profile(kb, c.id).neverFor;
    if (c.indication ? never.has(c.indication.conditionId) : indications.some((i) => never.has(i.conditionId))) return;
    out.set(c.id, c);
  };
  for (const ind of indications) {
    const guidelineText = kb
      .bySubject('guideline_recommendation', ind.conditionId)
      .map((f) => String(f.attrs.statement).toLowerCase());
    for (const f of kb.byObject('treats', ind.conditionId)) {
      if ((f.attrs as AttrsOf<'treats'>).alternative === false) continue;
      for (const ing of ingredientsUnder(kb, f.subject)) {
        const names = profile(kb, ing.id).names;
        add({
          id: ing.id,
          basis: 'same_indication',
          sameClass: false,
          indication: ind,
          note: String((f.attrs as AttrsOf<'treats'>).note ?? '') || null,
          factIds: [...ind.factIds, f.id, ...ing.via],
          inGuideline: guidelineText.some((t) => names.some((n) => t.includes(n) || t.includes(singular(n)))),
        });
      }
    }
  }
  // Members of the flagged drug's own therapeutic classes (direct classes only: "another statin", not "another drug").
  if (indications.length)
    for (const ing of m.ingredients)
      for (const f of kb.bySubject('member_of_class', ing.id)) {
        const cls = kb.entities.get(f.object!);
        if (!cls || cls.type !== 'drug_class' || cls.attrs.classKind === 'risk_group') continue;
        for (const member of ingredientsUnder(kb, cls.id)) {
          const known = out.get(member.id);
          if (known) {
            known.sameClass = true;
            known.factIds = [...known.factIds, f.id, ...member.via];
            continue;
          }
          add({
            id: member.id,
            basis: 'same_class',
            sameClass: true,
            indication: null,
            note: null,
            factIds: [f.id, ...member.via],
            inGuideline: false,
          });
        }
      }
  // Like-for-like first (same class and same use), then other classes for the recorded use, then for uses the KB holds.
  // (After an allergy the drug's own class comes last: the allergy usually covers it.)
  const classRank = (c: Candidate) => (c.sameClass ? (finding.kind === 'allergy' ? 3 : c.indication ? 0 : 1) : 2);
  const rank = (c: Candidate) =>
    classRank(c) + (c.indication?.recordedAs || c.sameClass ? 0 : 1) - (c.inGuideline ? 0.5 : 0);
  return [...out.values()].sort(
    (a, b) => rank(a) - rank(b) || entityName(kb, a.id).localeCompare(entityName(kb, b.id)),
  );
}

// ---------------------------------------------------------------------------------------------
// Doses

/** Dose-range facts that apply to this patient for a drug: route, age band and renal band. */
function applicableRanges(ctx: Ctx, ingredientId: string, route: string | null): StoredFact[] {
  const facts = ctx.kb.bySubject('dose_range', ingredientId);
  const routes = uniq(facts.map((f) => String(f.attrs.route)));
  const useRoute = route ?? (routes.includes('oral') ? 'oral' : (routes[0] ?? null));
  return facts.filter((f) => {
    if (!inBand(f, useRoute, ctx.patient.ageYears ?? 18)) return false;
    const criteria = criteriaMet(f, ctx.patient, ctx.input.renal);
    return (criteria.state === 'none' || criteria.state === 'met') && renalApplies(f, ctx.renal).applies;
  });
}

const bandText = (a: AttrsOf<'dose_range'>) => {
  if (!a.renal) return '';
  const metric = a.renal.metric === 'egfr' ? 'eGFR' : 'CrCl';
  if (a.renal.min !== null && a.renal.max !== null) return ` at ${metric} ${a.renal.min}–${a.renal.max - 1}`;
  return a.renal.min !== null ? ` at ${metric} ≥ ${a.renal.min}` : ` at ${metric} below ${a.renal.max}`;
};

/** "up to 2,000 mg per day (oral)": the most specific range held for a candidate, or null. */
function doseOf(ctx: Ctx, ingredientId: string, route: string | null): { text: string; factIds: string[] } | null {
  const ranges = applicableRanges(ctx, ingredientId, route);
  const rulesOut = ranges.find((f) => f.attrs.action !== 'range');
  if (rulesOut) return null;
  const pick = (per: string) =>
    ranges
      .filter((f) => f.attrs.per === per && f.attrs.max !== null)
      .sort(
        (a, b) => (a.attrs.renal ? 0 : 1) - (b.attrs.renal ? 0 : 1) || Number(a.attrs.max) - Number(b.attrs.max),
      )[0];
  const f = pick('day') ?? pick('dose') ?? pick('week');
  if (!f) return null;
  const a = f.attrs as AttrsOf<'dose_range'>;
  const range = a.min !== null ? `${fmt(a.min)}–${fmt(a.max!)}` : `up to ${fmt(a.max!)}`;
  return {
    text: `${range} ${a.unit} per ${a.per} (${a.route}${bandText(a)})${a.note ? `; ${a.note.replace(/\.$/, '')}` : ''}`,
    factIds: [f.id],
  };
}

/** The renal figures a band reads, with value, date and formula. */
function renalBasisFor(ctx: Ctx, metric: 'egfr' | 'crcl'): string {
  const lines = ctx.renal.basis.filter(
    (b) => (metric === 'crcl' ? /CrCl/.test(b) : /eGFR/.test(b)) && !/not used/.test(b),
  );
  if (lines.length) return lines.join('; ');
  if (metric === 'crcl' && ctx.renal.egfr !== null)
    return `${ctx.renal.basis.filter((b) => /eGFR/.test(b) && !/not used/.test(b)).join('; ')} (no weight recorded, so eGFR stands in for CrCl)`;
  return ctx.renal.basis.join('; ');
}

function doseAdjustment(ctx: Ctx, finding: SafetyFinding, m: ResolvedMedication, fact: StoredFact): CareAction {
  const a = fact.attrs as AttrsOf<'dose_range'>;
  const name = m.med.name;
  const max = a.max!;
  const unit = a.unit;
  const route = normaliseRoute(m.med.route);
  const how = route ? ` ${ROUTE_TEXT[route]}` : '';
  const strength = m.med.dose ? convertMass(m.med.dose.value, m.med.dose.unit, unit) : null;
  const freq = m.med.frequencyPerDay;
  let order: string | null = null;
  let parts: CareAction['dose'] = { strength: null, unit, timesPerDay: null, max, per: a.per, renal: a.renal !== null };
  if (strength !== null && strength > 0) {
    if (a.per === 'dose') {
      if (freq !== null) {
        order = `${name} ${fmt(max)} ${unit}${how} ${freqText(freq)}`;
        parts = { ...parts, strength: max, timesPerDay: freq };
      }
    } else {
      const times = Math.floor((max + 1e-9) / strength);
      if (a.per === 'day' && times >= 1 && (freq === null || times < freq)) {
        order = `${name} ${fmt(strength)} ${unit}${how} ${freqText(times)} (${fmt(strength * times)} ${unit} per day)`;
        parts = { ...parts, strength, timesPerDay: times };
      }
    }
  }
  const renalLine = a.renal ? renalBasisFor(ctx, a.renal.metric) : null;
  const usual = a.min !== null ? ` (range ${fmt(a.min)}–${fmt(max)} ${unit} per ${a.per})` : '';
  const text =
    `Reduce ${name} to at most ${fmt(max)} ${unit} per ${a.per}${bandText(a)}${usual}.` +
    (order
      ? ` Suggested order, keeping the strength already prescribed: ${order}.`
      : strength !== null && a.per !== 'dose'
        ? ` The current strength (${fmt(strength)} ${unit}) is more than the maximum allows per dose: a lower strength is needed.`
        : '') +
    (renalLine ? ` Renal function: ${renalLine}.` : '') +
    (a.note ? ` Source note: ${a.note.replace(/\.$/, '')}.` : '');
  const factIds = cite(ctx, finding.factIds);
  const chain: ChainLink[] = [
    { kind: 'finding', text: finding.summary, factIds },
    {
      kind: 'dose',
      text: `Dose range held${bandText(a)}: ${a.min !== null ? `${fmt(a.min)}–` : 'up to '}${fmt(max)} ${unit} per ${a.per}`,
      factIds: cite(ctx, [fact.id]),
    },
  ];
  if (renalLine) chain.push({ kind: 'renal', text: `Renal function the band was read on: ${renalLine}`, factIds: [] });
  return actionOf(`dose:${name}`, 'dose_adjustment', finding, name, {
    text,
    order,
    dose: parts,
    actionable: true,
    chain,
    factIds,
  });
}

// ---------------------------------------------------------------------------------------------
// Switching

const CHECK_LABEL: Record<SafetyCheckKind, string> = {
  interaction: 'interactions with every other active drug',
  allergy: 'recorded allergies (with cross-reactivity)',
  contraindication: 'contraindications for the recorded problems',
  dose: 'dose bands for age and renal function',
  duplicate_therapy: 'duplicate therapy',
  older_adult: 'older-adult criteria',
};

function checkedAlternative(
  ctx: Ctx,
  c: Candidate,
  m: ResolvedMedication,
): { ok: true; alt: CheckedAlternative } | { ok: false; reason: string; ruleClass: string | null; factIds: string[] } {
  const { kb } = ctx;
  const cand = candidateMedication(kb, c.id, m.med.route);
  const checks = checkCandidate(kb, ctx.p, cand, new Set([m]), rulesOut);
  const name = cand.med.name;
  const blocking = checks.flatMap((k) => k.findings).find(rulesOut);
  if (blocking) {
    // A rule written for a class the candidate belongs to rules out every member alike.
    const rule = kb.facts.get(blocking.factIds[0]!);
    const ends = rule ? [rule.subject, rule.object] : [];
    const ruleClass =
      ends.find(
        (e): e is string => !!e && e !== c.id && cand.set.has(e) && kb.entities.get(e)?.type === 'drug_class',
      ) ?? null;
    return {
      ok: false,
      reason: `${blocking.kind.replace('_', ' ')}, ${blocking.severity}: ${blocking.summary}`,
      ruleClass,
      factIds: blocking.factIds,
    };
  }
  // A candidate held only for another route (an intravenous carbapenem for an oral antibiotic) is not a like-for-like option.
  const route = normaliseRoute(m.med.route);
  const doseFacts = kb.bySubject('dose_range', c.id);
  const routes = new Set(doseFacts.map((f) => String(f.attrs.route)));
  if (route && routes.size && !routes.has(route) && !routes.has('any'))
    return {
      ok: false,
      reason: `route: held only as ${[...routes].join(', ')}, not ${route}`,
      ruleClass: null,
      factIds: doseFacts.map((f) => f.id),
    };
  // Recorded problems the KB does not know limit every candidate alike: the action says so once.
  const own = (k: (typeof checks)[number]) => k.unchecked.filter((u) => !u.reason.startsWith('condition'));
  const passed = checks.filter((k) => !own(k).length && !k.findings.length).map((k) => k.kind);
  const notChecked = checks.flatMap((k) => own(k).map((u) => ({ check: k.kind, reason: u.reason })));
  const cautions = checks.flatMap((k) =>
    k.findings.map(
      (f) =>
        `${f.severity} ${f.kind.replace('_', ' ')}: ${f.summary}${f.management ? ` (${f.management.replace(/\.$/, '')})` : ''}`,
    ),
  );
  const dose = doseOf(ctx, c.id, normaliseRoute(m.med.route));
  const cautionFacts = checks.flatMap((k) => k.findings.flatMap((f) => f.factIds));
  const factIds = cite(ctx, [...c.factIds, ...(dose?.factIds ?? []), ...cautionFacts]);
  const chain: ChainLink[] = [
    {
      kind: 'candidate',
      text:
        (c.basis === 'same_indication'
          ? `${name} is used for ${entityName(kb, c.indication!.conditionId)}${c.indication!.recordedAs ? ` (recorded as “${c.indication!.recordedAs}”)` : ''}${c.note ? `: ${c.note}` : ''}`
          : `${name} is in the same class as ${m.med.name}`) +
        (c.sameClass
          ? c.basis === 'same_indication'
            ? `, and in the same class as ${m.med.name} (like-for-like)`
            : ''
          : `; a different class from ${m.med.name}: confirm it fits the rest of the regimen`),
      factIds: cite(ctx, c.factIds),
    },
    {
      kind: 'checks',
      text: `Re-checked for this patient in place of ${m.med.name}: ${passed.length ? `passed ${passed.map((k) => CHECK_LABEL[k]).join('; ')}` : 'no check completed'}${notChecked.length ? `. Not checked: ${notChecked.map((n) => n.reason).join('; ')}` : ''}${cautions.length ? `. Cautions: ${cautions.join('; ')}` : ''}`,
      factIds: cite(ctx, cautionFacts),
    },
  ];
  if (dose)
    chain.push({ kind: 'dose', text: `Dose held for this patient: ${dose.text}`, factIds: cite(ctx, dose.factIds) });
  return {
    ok: true,
    alt: {
      entityId: c.id,
      name,
      basis: c.basis,
      sameClass: c.sameClass,
      indication: c.indication ? entityName(kb, c.indication.conditionId) : null,
      passed,
      notChecked,
      cautions,
      dose: dose?.text ?? null,
      note: c.note,
      fullyChecked: notChecked.length === 0,
      chain,
      factIds,
    },
  };
}

const pickFinding = (f: SafetyFinding): CareAction['finding'] => ({
  kind: f.kind,
  severity: f.severity,
  summary: f.summary,
  medications: f.medications,
});

/** An action for a finding: what every kind starts from (nothing proposed, not actionable), and its own fields. */
const actionOf = (
  id: string,
  kind: CareAction['kind'],
  finding: SafetyFinding,
  medication: string,
  own: Partial<CareAction> & Pick<CareAction, 'text' | 'chain' | 'factIds'>,
): CareAction => ({
  id,
  kind,
  finding: pickFinding(finding),
  medication,
  alsoFor: [],
  order: null,
  dose: null,
  alternatives: [],
  excluded: [],
  noAlternativeReason: null,
  actionable: false,
  ...own,
});

function switchAction(ctx: Ctx, finding: SafetyFinding, m: ResolvedMedication, why: string): CareAction {
  const { kb } = ctx;
  const name = m.med.name;
  const findingFacts = cite(ctx, finding.factIds);
  const chain: ChainLink[] = [{ kind: 'finding', text: finding.summary, factIds: findingFacts }];
  const { list: indications, fromRecord } = indicationsOf(ctx, m);
  const switchOf = (own: Parameters<typeof actionOf>[4]) => actionOf(`switch:${name}`, 'switch', finding, name, own);
  if (!indications.length) {
    const reason = `The indication for ${name} is unknown: no recorded problem is one the knowledge base lists it for, and it holds no use for ${name}. No alternative can be chosen from the knowledge base; decide with the prescriber what it is for.`;
    return switchOf({ text: `${why} ${reason}`, noAlternativeReason: reason, chain, factIds: findingFacts });
  }
  for (const i of indications) ctx.names.add(entityName(kb, i.conditionId));
  const indicationNames = indications.map(
    (i) => `${entityName(kb, i.conditionId)}${i.recordedAs ? ` (recorded as “${i.recordedAs}”)` : ''}`,
  );
  chain.push({
    kind: 'indication',
    text: fromRecord
      ? `${name} is used here for ${indicationNames.join(', ')}`
      : `The record does not say what ${name} is for; the knowledge base lists it for ${indicationNames.join(', ')}`,
    factIds: cite(
      ctx,
      indications.flatMap((i) => i.factIds),
    ),
  });
  const alternatives: CheckedAlternative[] = [];
  const excluded: Array<{ name: string; reason: string; factIds: string[] }> = [];
  let tried = 0;
  /** Classes a class-level rule has ruled out for this patient, with the reason (their other members fail alike). */
  const ruledOutClasses = new Map<string, { reason: string; factIds: string[] }>();
  for (const c of candidatesFor(ctx, m, indications, finding)) {
    if (alternatives.filter((a) => a.fullyChecked).length >= LIMITS.alternatives || tried >= LIMITS.candidates) break;
    const set = candidateMedication(kb, c.id, m.med.route).set;
    const sameRule = [...ruledOutClasses].find(([cls]) => set.has(cls));
    if (sameRule) {
      excluded.push({
        name: entityName(kb, c.id),
        reason: `${sameRule[1].reason} (the rule is for ${entityName(kb, sameRule[0])})`,
        // The rule, and the fact that puts the candidate in the rule's class.
        factIds: [...sameRule[1].factIds, ...(set.get(sameRule[0]) ?? [])],
      });
      continue;
    }
    tried++;
    const r = checkedAlternative(ctx, c, m);
    if (r.ok) alternatives.push(r.alt);
    else {
      excluded.push({ name: entityName(kb, c.id), reason: r.reason, factIds: r.factIds });
      if (r.ruleClass) ruledOutClasses.set(r.ruleClass, { reason: r.reason.split(':')[0]!, factIds: r.factIds });
    }
  }
  alternatives.sort((a, b) => Number(b.fullyChecked) - Number(a.fullyChecked));
  const shown = alternatives.slice(0, LIMITS.alternatives);
  for (const a of shown) ctx.names.add(a.name);
  const unknownProblems = ctx.p.unresolved.filter((u) => u.reason.startsWith('condition')).map((u) => u.term);
  if (shown.length && unknownProblems.length)
    chain.push({
      kind: 'checks',
      text: `Recorded problems the knowledge base does not hold, so no alternative was checked against them: ${unknownProblems.join('; ')}`,
      factIds: [],
    });
  // Show the variety of reasons (one allergy, one interaction …) before more of the same.
  const seenKind = new Set<string>();
  const varied = [
    ...excluded.filter((e) => {
      const kind = e.reason.split(',')[0]!;
      return !seenKind.has(kind) && seenKind.add(kind);
    }),
  ];
  const excludedShown = [...varied, ...excluded.filter((e) => !varied.includes(e))].slice(0, LIMITS.excludedShown);
  if (excludedShown.length)
    chain.push({
      kind: 'excluded',
      text: `Considered and ruled out: ${excludedShown.map((e) => `${e.name} (${e.reason})`).join('; ')}`,
      factIds: cite(
        ctx,
        excludedShown.flatMap((e) => e.factIds),
      ),
    });
  const noAlternativeReason = shown.length
    ? null
    : `No checked alternative: ${tried ? `every candidate the knowledge base holds for ${indications.map((i) => entityName(kb, i.conditionId)).join(', ')} failed a check for this patient` : `the knowledge base holds no other drug for ${indications.map((i) => entityName(kb, i.conditionId)).join(', ')}`}. Seek specialist or pharmacist advice.`;
  const best = shown[0];
  const text = best
    ? `${why} Consider ${shown.map((a) => a.name).join(', or ')} instead of ${name}; ${best.fullyChecked ? (best.cautions.length ? `${best.name} was checked for this patient and nothing rules it out (cautions: ${best.cautions.join('; ')})` : `${best.name} passed every check for this patient`) : `${best.name} passed the checks that could run (not checked: ${best.notChecked.map((n) => n.reason).join('; ')})`}.`
    : `${why} ${noAlternativeReason}`;
  return switchOf({
    text,
    alternatives: shown,
    excluded: excludedShown,
    noAlternativeReason,
    actionable: shown.some((a) => a.fullyChecked),
    chain,
    factIds: uniq([...findingFacts, ...chain.flatMap((l) => l.factIds), ...shown.flatMap((a) => a.factIds)]),
  });
}

// ---------------------------------------------------------------------------------------------
// Duplicates

function reviewAction(ctx: Ctx, finding: SafetyFinding, meds: readonly ResolvedMedication[]): CareAction {
  const factIds = cite(ctx, finding.factIds);
  const names = meds.map((m) => m.med.name);
  return actionOf(`review:${finding.summary}`, 'review', finding, names[0]!, {
    text: `${finding.summary}. ${finding.management ?? ''} Review which of ${names.join(', ')} can be stopped or tapered.`.trim(),
    chain: [{ kind: 'finding', text: finding.summary, factIds }],
    factIds,
  });
}

/** The same ingredient, or a shared class that counts as duplicate therapy. */
function sameTherapy(kb: KbSnapshot, a: ResolvedMedication, b: ResolvedMedication): boolean {
  if (a.ingredients.some((i) => b.ingredients.some((j) => j.id === i.id))) return true;
  return [...a.set.keys()].some((c) => b.set.has(c) && kb.entities.get(c)?.attrs.duplicateCheck === true);
}

const sharedClassName = (kb: KbSnapshot, a: ResolvedMedication, b: ResolvedMedication) =>
  [...a.set.keys()]
    .filter((c) => b.set.has(c) && kb.entities.get(c)?.attrs.duplicateCheck === true)
    .map((c) => entityName(kb, c))[0] ?? 'the same kind of medicine';

function duplicateAction(
  ctx: Ctx,
  finding: SafetyFinding,
  pair: ResolvedMedication[],
  doseFindings: SafetyFinding[],
): CareAction {
  const withinRange = (m: ResolvedMedication) =>
    m.med.dose !== null &&
    m.med.frequencyPerDay !== null &&
    m.ingredients.length === 1 &&
    applicableRanges(ctx, m.ingredients[0]!.id, normaliseRoute(m.med.route)).some((f) => f.attrs.action === 'range') &&
    // Its own dose findings only (a combined-dose finding names both and is what stopping one answers).
    !doseFindings.some(
      (f) =>
        f.medications.length === 1 &&
        f.medications[0] === m.med.name &&
        SEVERITY_RANK[f.severity] >= SEVERITY_RANK.moderate,
    );
  const keep = pair.find(withinRange) ?? null;
  const stop = keep ? pair.find((m) => m !== keep)! : null;
  const factIds = cite(ctx, finding.factIds);
  const chain: ChainLink[] = [{ kind: 'finding', text: finding.summary, factIds }];
  if (keep && stop) {
    const d = keep.med.dose!;
    const route = normaliseRoute(keep.med.route);
    const order = `${keep.med.name} ${fmt(d.value)} ${d.unit}${route ? ` ${ROUTE_TEXT[route]}` : ''} ${freqText(keep.med.frequencyPerDay!)}`;
    const ranges = applicableRanges(ctx, keep.ingredients[0]!.id, route).filter((f) => f.attrs.action === 'range');
    chain.push({
      kind: 'dose',
      text: `${keep.med.name} alone is within the dose range held for this patient`,
      factIds: cite(
        ctx,
        ranges.map((f) => f.id),
      ),
    });
    return actionOf(`duplicate:${stop.med.name}`, 'stop_duplicate', finding, stop.med.name, {
      text: `Stop ${stop.med.name}; continue ${order}, which alone is within the dose range held for this patient${finding.kind === 'interaction' ? ` (both are ${sharedClassName(ctx.kb, keep, stop)})` : ''}.`,
      order,
      actionable: true,
      chain,
      factIds: uniq([...factIds, ...chain.flatMap((l) => l.factIds)]),
    });
  }
  return actionOf(
    `duplicate:${pair.map((m) => m.med.name).join('+')}`,
    'review',
    finding,
    pair[0]?.med.name ?? finding.medications[0]!,
    {
      text: `Stop one of ${finding.medications.join(' and ')}: neither dose could be confirmed within range alone (dose or frequency not recorded, or no range held).`,
      chain,
      factIds,
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Monitoring and guidelines

const MONITOR_WORDS = /monitor|check|measure|INR|potassium|level|ECG|blood count|renal function|creatinine/i;

function monitoringPlan(ctx: Ctx, findings: readonly SafetyFinding[]): MonitoringItem[] {
  const { kb, p } = ctx;
  const byLab = new Map<string, MonitoringItem>();
  for (const m of p.meds)
    for (const [x, via] of m.set)
      for (const f of kb.bySubject('monitors', x)) {
        const lab = entityName(kb, f.object!);
        ctx.names.add(lab);
        const note = String((f.attrs as AttrsOf<'monitors'>).note);
        const key = f.object!;
        const item = byLab.get(key);
        if (item) {
          if (!item.medications.includes(m.med.name)) item.medications.push(m.med.name);
          if (!item.what.includes(note)) item.what = `${item.what.replace(/\.?$/, '.')} ${note}`;
          item.factIds = uniq([...item.factIds, ...cite(ctx, [f.id, ...via])]);
        } else
          byLab.set(key, {
            test: lab,
            medications: [m.med.name],
            what: note,
            from: 'monitors',
            factIds: cite(ctx, [f.id, ...via]),
          });
      }
  const items = [...byLab.values()];
  const seen = new Set<string>();
  for (const f of findings) {
    if (f.kind !== 'interaction' || !f.management || !MONITOR_WORDS.test(f.management)) continue;
    if (SEVERITY_RANK[f.severity] < SEVERITY_RANK.moderate) continue;
    const key = `${f.medications.join('+')}|${f.management}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push({
      test: f.medications.join(' + '),
      medications: f.medications,
      what: f.management,
      from: 'interaction_management',
      factIds: cite(ctx, f.factIds.slice(0, 1)),
    });
  }
  return items;
}

function guidelines(ctx: Ctx): GuidelineItem[] {
  const { kb, p } = ctx;
  const out = new Map<string, GuidelineItem>();
  const add = (subject: string, recordedAs: string | null, extra: string[]) => {
    for (const f of kb.bySubject('guideline_recommendation', subject)) {
      if (out.has(f.id)) continue;
      cite(ctx, [f.id, ...extra]);
      out.set(f.id, {
        subject: entityName(kb, subject),
        recordedAs,
        statement: String((f.attrs as AttrsOf<'guideline_recommendation'>).statement),
        source: `${f.source.label}: ${f.source.citation}`,
        factId: f.id,
      });
    }
  };
  for (const [id, cond] of p.conditions) add(id, cond.term, []);
  for (const m of p.meds) for (const [x] of m.set) add(x, m.med.name, []);
  return [...out.values()];
}

// ---------------------------------------------------------------------------------------------

/** Per snapshot: entity name → id, for the Chinese names of what a result names. */
const idByName = new WeakMap<KbSnapshot, Map<string, string>>();
function zhNames(
  kb: KbSnapshot,
  names: ReadonlySet<string>,
  meds: readonly ResolvedMedication[],
): Record<string, string> {
  const out: Record<string, string> = {};
  let ids = idByName.get(kb);
  if (!ids) {
    ids = new Map<string, string>();
    for (const e of kb.entities.values()) if (!ids.has(e.name)) ids.set(e.name, e.id);
    idByName.set(kb, ids);
  }
  const byName = new Map<string, string>();
  for (const n of names) {
    const id = ids.get(n);
    if (id) byName.set(n, id);
  }
  for (const m of meds) {
    const ing = m.ingredients[0];
    if (m.ingredients.length === 1 && ing) byName.set(m.med.name, ing.id);
  }
  for (const [name, id] of byName) {
    const zh = kb.bySubject('known_as', id).find((f) => String(f.attrs.lang).startsWith('zh'));
    if (zh) out[name] = String(zh.attrs.name);
  }
  return out;
}

/** Reason over one snapshot. Pure: the same snapshot and input give the same result. */
export function reasonCarePlan(kb: KbSnapshot, input: ReasoningInput): CareReasoningResult {
  const checkInput: CheckInput = { ...input, kind: 'interaction' };
  const p = preparePatient(kb, checkInput);
  const findings = allFindings(kb, p);
  const patient = patientFacts(input.ageBand, input.sex, input.weightKg);
  const ctx: Ctx = {
    kb,
    input,
    p,
    patient,
    renal: estimateRenal(input.renal, patient),
    cited: new Set(),
    names: new Set(),
  };
  const byName = new Map<string, ResolvedMedication>();
  for (const m of p.meds) if (!byName.has(m.med.name)) byName.set(m.med.name, m);
  const started = (m: ResolvedMedication) =>
    input.medications.find((x) => x.name === m.med.name)?.startedDaysBeforeCase ?? Infinity;
  const doseFindings = findings.filter((f) => f.kind === 'dose');

  const actions: CareAction[] = [];
  const byId = new Map<string, CareAction>();
  const deferred = new Map<string, SafetyFinding>();
  const push = (make: () => CareAction, id: string, f: SafetyFinding) => {
    // One action per drug and kind: a later finding about the same drug is listed as answered by it.
    const known = byId.get(id);
    if (known) {
      if (known.finding.summary !== f.summary && !known.alsoFor.includes(f.summary)) {
        known.alsoFor.push(f.summary);
        known.factIds = uniq([...known.factIds, ...cite(ctx, f.factIds)]);
      }
      return;
    }
    if (actions.length >= LIMITS.actions) return;
    const a = make();
    byId.set(id, a);
    actions.push(a);
  };
  for (const f of findings) {
    if (!needsAction(f)) continue;
    const meds = f.medications.map((n) => byName.get(n)).filter((m): m is ResolvedMedication => m !== undefined);
    if (!meds.length) continue;
    // The same ingredient twice, or two drugs of one class taken for the same purpose (two anticoagulants), or a
    // combined dose of one ingredient over its maximum: stop one.
    if (
      f.kind !== 'allergy' &&
      f.kind !== 'contraindication' &&
      meds.length === 2 &&
      sameTherapy(kb, meds[0]!, meds[1]!)
    ) {
      push(() => duplicateAction(ctx, f, meds, doseFindings), `duplicate:${f.summary}`, f);
      continue;
    }
    const doseFact = f.kind === 'dose' ? kb.facts.get(f.factIds[0]!) : undefined;
    if (doseFact?.relation === 'dose_range' && doseFact.attrs.action === 'range' && doseFact.attrs.max !== null) {
      push(() => doseAdjustment(ctx, f, meds[0]!, doseFact), `dose:${meds[0]!.med.name}`, f);
      continue;
    }
    if (f.kind === 'duplicate_therapy') continue;
    // A count criterion (three or more CNS-active drugs) asks for fewer drugs, not a swap of each one.
    if (f.kind === 'older_adult' && meds.length > 2) {
      push(() => reviewAction(ctx, f, meds), `review:${f.summary}`, f);
      continue;
    }
    const why =
      f.kind === 'interaction' || meds.length > 1
        ? `${f.summary} (${f.severity}).`
        : `${meds[0]!.med.name} should not be used as prescribed: ${f.summary} (${f.severity}).`;
    // For a pair, the drug started most recently is offered for change first.
    const order = [...meds].sort((a, b) => started(a) - started(b));
    for (const [i, m] of order.entries()) {
      const id = `switch:${m.med.name}`;
      // Once changing the first drug of a pair has a checked option, the other side is only worked out if
      // something else is found about that drug too (it would otherwise be pruned below).
      if (i > 0 && !byId.has(id) && byId.get(`switch:${order[0]!.med.name}`)?.actionable) {
        deferred.set(id, f);
        continue;
      }
      push(() => switchAction(ctx, f, m, why), id, f);
      const later = deferred.get(id);
      if (later) {
        deferred.delete(id);
        push(() => switchAction(ctx, later, m, why), id, later);
      }
    }
  }
  // A pair where changing one drug has a checked option: the other side's "no alternative" adds nothing, unless it answers more.
  const pruned = actions.filter(
    (a) =>
      a.actionable ||
      a.alsoFor.length > 0 ||
      !actions.some((b) => b !== a && b.actionable && b.finding.summary === a.finding.summary),
  );
  const monitoring = monitoringPlan(ctx, findings);
  const guidelineItems = guidelines(ctx);
  for (const f of findings) cite(ctx, f.factIds);
  for (const m of p.meds) ctx.names.add(m.med.name);
  const renal = ctx.renal.egfr !== null || ctx.renal.crcl !== null || ctx.renal.basis.length ? ctx.renal : null;
  return {
    findings,
    actions: pruned,
    monitoring,
    guidelines: guidelineItems,
    renal,
    namesZh: zhNames(kb, ctx.names, p.meds),
    facts: [...ctx.cited].map((id) => toKbFact(kb.facts.get(id)!, kb)),
  };
}
