/**
 * Deterministic verification before any human sees a plan:
 *   - every citation resolves to evidence retrieved in this case (or the case record, or a
 *     reviewer comment); unresolved or missing citations mark the claim unsupported;
 *   - every medication named in a recommendation, together with the current ones, is checked
 *     against the knowledge base for interactions, allergies, contraindications and dose;
 *   - instructions embedded in case text are flagged (never obeyed);
 *   - unavailable tools are reported.
 */
import { scanText, type InjectionHit } from '../../clinical/injection.js';
import type { MinimisedCase } from '../../domain/minimised-case.js';
import { coreDrugName } from '../../clinical/drug-name.js';
import { callTool, DEFAULT_CALL_POLICY } from '../../tools/common.js';
import {
  MentionsResult,
  type StatementConcept,
  SafetyCheckResult,
  type SafetyCheckInput,
  type SafetyCheckKind,
} from '../../domain/knowledge.js';
import { SECTION_NAMES, type Plan, type VerificationFinding } from '../../domain/plan.js';
import type { PlanStep, StepResult } from '../../domain/steps.js';
import { decideSupport, type CitedEvidence } from './support.js';
import { checkInput, kbCodes, type ToolBox } from './executor.js';

/** What a detector hit is, in words, where it is not an instruction as such. */
const WHAT_HIT: Readonly<Record<string, string>> = {
  markup: 'contains active markup (HTML or a script link)',
  'confusable-letters': 'writes words with look-alike letters from another script, as used to slip past checks',
};

/** How many places a hidden-characters finding names before it says “…”. */
const HIDDEN_POINTERS_LISTED = 5;

const VERIFY_KINDS: SafetyCheckKind[] = [
  'interaction',
  'allergy',
  'contraindication',
  'dose',
  'duplicate_therapy',
  'older_adult',
];

export interface VerifyInput {
  plan: Plan;
  view: MinimisedCase;
  /** The case's steps: a literature citation is about what its step searched for. */
  steps?: readonly PlanStep[];
  results: Readonly<Record<string, StepResult>>;
  injections: readonly InjectionHit[];
  /** Reviewer comments so far: `review:r<n>` cites those of revision n. */
  reviewerComments: ReadonlyArray<{ revision: number; comments: string }>;
}

export async function verifyPlan(
  input: VerifyInput,
  tools: ToolBox,
): Promise<{ plan: Plan; findings: VerificationFinding[] }> {
  const { view } = input;
  const findings: VerificationFinding[] = [];
  let n = 0;
  const add = (f: Omit<VerificationFinding, 'id'>) => findings.push({ ...f, id: `v${++n}` });

  // Everything a statement may cite, with what each is about (read by the knowledge base below).
  const cited = citable(input);
  const known = new Set(cited.keys());

  const plan: Plan = structuredClone(input.plan);
  // A model's plan does not decide its own support: `supported` is recomputed from the citations.
  const modelWritten = plan.mode === 'llm';
  if (modelWritten) for (const section of SECTION_NAMES) for (const rec of plan.sections[section]) rec.supported = true;
  // Scanned before bounding, so nothing in text left out escapes the detector.
  const written = modelWritten ? SECTION_NAMES.flatMap((section) => plan.sections[section]) : [];
  if (modelWritten) boundPlan(plan, add);
  const shown = new Set(SECTION_NAMES.flatMap((section) => plan.sections[section].map((r) => r.id)));
  const named = new Set<string>();
  for (const section of SECTION_NAMES) {
    for (const rec of plan.sections[section]) {
      const unresolved = [...new Set([...rec.citations, ...rec.why.flatMap((w) => w.citations)])].filter(
        (c) => !known.has(c),
      );
      if (unresolved.length) {
        rec.supported = false;
        add({
          code: 'unresolved_citation',
          severity: 'high',
          message: `“${rec.text.slice(0, 80)}” cites evidence not retrieved in this case: ${unresolved.join(', ')}`,
          location: rec.id,
          citations: unresolved,
        });
      } else if (rec.citations.length === 0 && (rec.supported || modelWritten)) {
        rec.supported = false;
        add({
          code: 'uncited_claim',
          severity: 'moderate',
          message: `“${rec.text.slice(0, 80)}” cites no evidence`,
          location: rec.id,
          citations: [],
        });
      }
      for (const m of rec.medications) named.add(coreDrugName(m));
    }
  }

  // A model's text is case text too: the same detector as for case data, on every statement.
  for (const rec of written)
    for (const hit of scanText(rec.id, [rec.text, ...rec.why.map((w) => w.text)].join('\n')))
      add({
        code: 'embedded_instruction',
        severity: 'high',
        message: `A statement the model wrote ${WHAT_HIT[hit.rule] ?? 'contains an instruction or approval claim aimed at the system or the reviewer'} (${hit.rule}); ${shown.has(rec.id) ? 'it was shown as text' : `it was in statement ${rec.id}, left out by the bounds,`} and not followed: “${hit.excerpt}”`,
        location: shown.has(rec.id) ? rec.id : null,
        citations: [],
      });

  // What the statements say, read by code: the medicines each names and the doses it proposes.
  const kb = tools.knowledgeBase;
  const read = await readStatements(plan, view, tools, cited);
  if (read.error)
    add({
      code: 'kb_unavailable',
      severity: 'high',
      message: `The plan's statements could not be read for the medicines they name: ${read.error}. A clinician must check every drug and dose in them.`,
      location: null,
      citations: [],
    });
  if (modelWritten)
    for (const u of read.unlisted)
      add({
        code: 'unlisted_medication',
        severity: 'moderate',
        message: `“${u.text}” (${u.name}) is named in the statement but not in its list of medications; it was checked anyway`,
        location: u.recId,
        citations: [],
      });

  // Support is decided by code: what each statement cites must be about what it says.
  if (!read.error && kb) {
    for (const section of SECTION_NAMES)
      for (const rec of plan.sections[section]) {
        const ids = [...new Set([...rec.citations, ...rec.why.flatMap((w) => w.citations)])];
        if (!ids.length || ids.some((c) => !known.has(c))) continue;
        rec.support = decideSupport(ids, read.concepts.get(rec.id) ?? [], read.about);
        if (rec.support.status !== 'unsupported') continue;
        rec.supported = false;
        add({
          code: 'unsupported_claim',
          severity: 'moderate',
          message: `“${rec.text.slice(0, 80)}”: ${rec.support.reason}`,
          location: rec.id,
          citations: ids,
        });
      }
  }

  // Medications named by the plan that the case does not have (e.g. a model proposing a new drug).
  const current = new Set(view.medications.map((m) => coreDrugName(m.name)));
  const newNames = [...named].filter((m) => m && !current.has(m) && !read.coveredNames.has(m));
  if (view.medications.length + newNames.length + read.extras.length > 0) {
    // The regimen as it stands (with any drug the plan lists), and, when statements propose drugs or doses,
    // the regimen they propose: a proposal's findings are added, the current ones never hidden.
    const proposes = read.extras.length > 0 || read.overrides.size > 0;
    const runChecks = (proposed: boolean) =>
      Promise.all(
        VERIFY_KINDS.map((kind) =>
          kb
            ? callTool(
                'knowledge-base',
                (signal) => {
                  const base = checkInput(view, kind, [], 'verification', newNames);
                  return kb.check(proposed ? withProposals(base, read) : base, signal);
                },
                tools.policy ?? DEFAULT_CALL_POLICY,
                tools.now,
                SafetyCheckResult,
              )
            : Promise.resolve(null),
        ),
      );
    const [asIs, asProposed] = await Promise.all([
      runChecks(false),
      proposes ? runChecks(true) : Promise.resolve(null),
    ]);
    // Findings the proposed regimen adds: only these point at the statement that proposed them.
    const introduced = new Set<object>();
    const outcomes = asIs.map((o, i) => {
      const p = asProposed?.[i];
      if (!o || o.status !== 'ok' || !p || p.status !== 'ok') return o;
      const seen = new Set(o.data.findings.map((f) => `${f.kind}|${f.summary}`));
      // New findings, and dose findings about a proposed dose even when the recorded dose has them too
      // ("increase to 3 g twice daily" keeps a problem the plan should have removed).
      const added = p.data.findings.filter(
        (f) =>
          !seen.has(`${f.kind}|${f.summary}`) ||
          (f.kind === 'dose' && f.medications.some((m) => read.proposedIn.has(m))),
      );
      for (const f of added) introduced.add(f);
      return { ...o, data: { ...o.data, findings: [...o.data.findings, ...added] } };
    });
    // One finding per unknown term, however many check kinds reported it, with the closest knowledge-base names.
    const unknown = new Map<string, Set<string>>();
    for (const [i, kind] of VERIFY_KINDS.entries()) {
      const outcome = outcomes[i];
      if (!outcome || outcome.status === 'unavailable') {
        add({
          code: 'kb_unavailable',
          severity: 'high',
          message: `Medications could not be verified for ${kind} safety: ${outcome ? outcome.reason : 'the knowledge base is not configured'}. A clinician must check them.`,
          location: null,
          citations: [],
        });
        continue;
      }
      for (const f of outcome.data.findings) {
        // A finding the plan's proposals introduce points at the statement that proposed the drug or dose.
        const at = introduced.has(f)
          ? (f.medications.map((m) => read.proposedIn.get(m)).find((x) => x !== undefined) ?? null)
          : null;
        add({
          code: 'safety',
          severity: f.severity,
          message: `${f.kind}: ${f.summary}${at ? ` (proposed in ${at})` : ''}`,
          location: at,
          citations: f.factIds.map((id) => `kb:${id}`),
        });
      }
      for (const term of outcome.data.unknownTerms) {
        const names = unknown.get(term) ?? new Set<string>();
        for (const s of outcome.data.suggestions ?? []) if (s.term === term) s.names.forEach((n) => names.add(n));
        unknown.set(term, names);
      }
    }
    for (const [term, names] of unknown)
      add({
        code: 'unknown_term',
        severity: 'moderate',
        message: `The knowledge base does not know “${term}”; it was not checked${names.size ? ` (closest knowledge-base names: ${[...names].join(', ')})` : ' (no close knowledge-base name)'}`,
        location: null,
        citations: [],
      });
  }

  view.medications.forEach((m, i) => {
    for (const problem of m.problems)
      add({
        code: 'dosage_problem',
        severity: 'high',
        message: `${m.name}: ${problem}`,
        location: `/medications/${i}`,
        citations: [`case:${m.ref}`],
      });
  });

  // Invisible characters: one finding per set of code points, naming where they were (a real
  // record can carry the same stray character in dozens of fields; one line each would bury the
  // findings that matter).
  const hidden = new Map<string, string[]>();
  for (const hit of input.injections) {
    if (hit.rule === 'hidden-characters') {
      hidden.set(hit.excerpt, [...(hidden.get(hit.excerpt) ?? []), hit.pointer]);
      continue;
    }
    add({
      code: 'embedded_instruction',
      severity: 'high',
      message: `Case text ${WHAT_HIT[hit.rule] ?? 'contains an instruction aimed at the system'} (${hit.rule}); it was treated as data and not followed: “${hit.excerpt}”`,
      location: hit.pointer,
      citations: [],
    });
  }
  for (const [excerpt, pointers] of hidden) {
    const where =
      pointers.length === 1
        ? 'here'
        : `in ${pointers.length} places (${pointers.slice(0, HIDDEN_POINTERS_LISTED).join(', ')}${pointers.length > HIDDEN_POINTERS_LISTED ? ', …' : ''})`;
    add({
      code: 'hidden_characters',
      severity: 'moderate',
      message: `The record has invisible or direction-changing characters ${where} (${excerpt}); they were removed before the text was used. Check the source record.`,
      location: pointers[0] ?? null,
      citations: [],
    });
  }
  for (const u of plan.unavailable)
    add({
      code: 'tool_unavailable',
      severity: 'moderate',
      message: `${u.type} (${u.stepId}) was not done: ${u.reason}`,
      location: u.stepId,
      citations: [],
    });
  return { plan, findings };
}

interface StatementReading {
  /** New medicines the statements name, with the dose they propose (KB names). */
  extras: Array<{
    name: string;
    dose: { value: number; unit: string } | null;
    route: string | null;
    frequencyPerDay: number | null;
  }>;
  /** Proposed doses for current medicines, by index in the view. */
  overrides: Map<
    number,
    { dose: { value: number; unit: string }; route: string | null; frequencyPerDay: number | null }
  >;
  /** Current medicines (by index in the view) a statement stops or replaces. */
  stopped: Set<number>;
  /** Medication name (as passed to the checks) → the statement that proposed it. */
  proposedIn: Map<string, string>;
  /** Names a statement listed that its text already covers (checked once, with the text's dose). */
  coveredNames: Set<string>;
  unlisted: Array<{ recId: string; text: string; name: string }>;
  /** The concepts each statement names, by statement id. */
  concepts: Map<string, StatementConcept[]>;
  /** What each cited id is about. */
  about: Map<string, CitedEvidence>;
  error: string | null;
}

/** Read every statement for the medicines it names, through the knowledge base's normalisation. */
async function readStatements(
  plan: Plan,
  view: MinimisedCase,
  tools: ToolBox,
  cited: ReadonlyMap<string, Citable>,
): Promise<StatementReading> {
  const reading: StatementReading = {
    extras: [],
    overrides: new Map(),
    stopped: new Set(),
    proposedIn: new Map(),
    coveredNames: new Set(),
    unlisted: [],
    concepts: new Map(),
    about: new Map(),
    error: null,
  };
  const kb = tools.knowledgeBase;
  const recs = SECTION_NAMES.flatMap((section) => plan.sections[section]);
  if (!kb || !recs.length) return reading;
  // Only what the statements cite is read for what it is about.
  const ids = new Set(recs.flatMap((r) => [...r.citations, ...r.why.flatMap((w) => w.citations)]));
  const wanted = [...cited].filter(([id]) => ids.has(id));
  const outcome = await callTool(
    'knowledge-base',
    (signal) =>
      kb.mentions(
        {
          statements: recs.map((r) => ({ id: r.id, text: r.text, listed: r.medications.slice(0, 100) })),
          current: view.medications.map((m) => coreDrugName(m.name)),
          evidence: wanted.flatMap(([id, c]) => (c.read ? [{ id, ...c.read }] : [])).slice(0, 5000),
          facts: wanted.flatMap(([id]) => (id.startsWith('kb:') ? [id.slice(3)] : [])).slice(0, 5000),
        },
        signal,
      ),
    tools.policy ?? DEFAULT_CALL_POLICY,
    tools.now,
    MentionsResult,
  );
  if (outcome.status !== 'ok') return { ...reading, error: outcome.reason };
  for (const s of outcome.data.statements) reading.concepts.set(s.id, s.concepts);
  for (const a of [...outcome.data.evidence, ...outcome.data.facts])
    reading.about.set(a.id, { raw: new Set(a.raw), up: new Set(a.up), label: cited.get(a.id)?.label ?? a.id });
  const currentIndex = new Map<string, number>();
  outcome.data.current.forEach((c, i) => c.entityIds.forEach((id) => currentIndex.has(id) || currentIndex.set(id, i)));
  const seenExtra = new Set<string>();
  // What a statement proposes is read from a model's text only. A knowledge-driven plan's options were
  // each re-checked by the care reasoning as a replacement for the flagged drug; re-checking every drug
  // its statements name (options, ruled-out candidates) as if all were added at once would only add noise.
  if (plan.mode !== 'llm') return reading;
  for (const s of outcome.data.statements) {
    const listedIds = new Set(s.listed.flatMap((l) => l.entityIds));
    for (const m of s.mentions) {
      // One finding per unlisted medicine per statement, however often it is named.
      if (!listedIds.has(m.entityId)) {
        listedIds.add(m.entityId);
        reading.unlisted.push({ recId: s.id, text: m.text, name: m.name });
      }
      for (const l of s.listed) if (l.entityIds.includes(m.entityId)) reading.coveredNames.add(coreDrugName(l.name));
      const i = currentIndex.get(m.entityId);
      if (i !== undefined) {
        // A current medicine the statement stops or replaces is not in the regimen after the change.
        if (m.stopped) {
          reading.stopped.add(i);
          continue;
        }
        // A dose written for a current medicine is a proposed change of dose.
        if (m.dose && !reading.overrides.has(i)) {
          reading.overrides.set(i, { dose: m.dose, route: m.route, frequencyPerDay: m.frequencyPerDay });
          reading.proposedIn.set(coreDrugName(view.medications[i]!.name), s.id);
        }
        continue;
      }
      // A new medicine named only to be avoided ("instead of naproxen") is not proposed.
      if (m.stopped || seenExtra.has(m.entityId)) continue;
      seenExtra.add(m.entityId);
      // Named as the statement writes it, so a finding reads like the plan.
      const name = coreDrugName(m.text);
      reading.extras.push({ name, dose: m.dose, route: m.route, frequencyPerDay: m.frequencyPerDay });
      reading.proposedIn.set(name, s.id);
    }
  }
  return reading;
}

/**
 * The check input for the regimen after the plan's changes: current medicines at any proposed
 * dose, without those a statement stops or replaces, plus the new ones.
 */
function withProposals(input: SafetyCheckInput, reading: StatementReading): SafetyCheckInput {
  const meds = input.medications.flatMap((m, i) => {
    if (reading.stopped.has(i)) return [];
    const o = reading.overrides.get(i);
    return [
      o
        ? { ...m, dose: o.dose, route: o.route ?? m.route, frequencyPerDay: o.frequencyPerDay ?? m.frequencyPerDay }
        : m,
    ];
  });
  return {
    ...input,
    medications: [
      ...meds,
      ...reading.extras.map((e) => ({
        name: e.name,
        dose: e.dose,
        route: e.route,
        frequencyPerDay: e.frequencyPerDay,
      })),
    ].slice(0, 100),
  };
}

/** Bounds on a model's plan: statements, characters per statement (and per why step), characters in all. */
export const MODEL_PLAN_BOUNDS = { statements: 80, statementChars: 1500, totalChars: 60_000 } as const;

/**
 * Keep a model's plan within MODEL_PLAN_BOUNDS: a statement or why step longer than the bound is
 * cut (and says so); statements past the count or the total are left out. Either is reported in
 * one finding with the numbers, never silently.
 */
function boundPlan(plan: Plan, add: (f: Omit<VerificationFinding, 'id'>) => void): void {
  const B = MODEL_PLAN_BOUNDS;
  const cut = (text: string) =>
    text.length > B.statementChars
      ? `${text.slice(0, B.statementChars)} […${text.length - B.statementChars} characters cut]`
      : text;
  let kept = 0;
  let chars = 0;
  let written = 0;
  let writtenChars = 0;
  let shortened = 0;
  let dropped = 0;
  for (const section of SECTION_NAMES) {
    const out: Plan['sections'][typeof section] = [];
    for (const rec of plan.sections[section]) {
      written++;
      const size = rec.text.length + rec.why.reduce((n, w) => n + w.text.length, 0);
      writtenChars += size;
      const bounded = { ...rec, text: cut(rec.text), why: rec.why.map((w) => ({ ...w, text: cut(w.text) })) };
      const boundedSize = bounded.text.length + bounded.why.reduce((n, w) => n + w.text.length, 0);
      // Once one statement does not fit, none after it is shown either (the plan reads in order).
      if (dropped || kept >= B.statements || chars + boundedSize > B.totalChars) {
        dropped++;
        continue;
      }
      if (boundedSize < size) shortened++;
      kept++;
      chars += boundedSize;
      out.push(bounded);
    }
    plan.sections[section] = out;
  }
  if (dropped || shortened)
    add({
      code: 'plan_bounds',
      severity: 'moderate',
      message: `The model wrote ${written} statements (${writtenChars} characters); the bounds are ${B.statements} statements, ${B.statementChars} characters per statement or why step, ${B.totalChars} characters in all.${shortened ? ` ${shortened} statement${shortened === 1 ? ' was' : 's were'} cut to the bound (marked “characters cut”).` : ''}${dropped ? ` ${dropped} statement${dropped === 1 ? ' was' : 's were'} left out.` : ''} Ask for a revision if they matter.`,
      location: null,
      citations: [],
    });
}

/** One thing a statement may cite: how a reviewer names it, and what the knowledge base should read for its subject. */
interface Citable {
  label: string;
  read: { kind: 'medication' | 'problem' | 'allergy' | 'lab' | 'text'; text: string; codes: CodeRef[] } | null;
}
type CodeRef = { system: 'rxnorm' | 'atc' | 'icd10' | 'snomed' | 'loinc'; code: string };

const clipLabel = (s: string) => (s.length > 80 ? `${s.slice(0, 79)}…` : s);

/**
 * Every id a statement of this case may cite — retrieved evidence, case record elements, reviewer
 * comments — each with its label and what to read for its subject: a record element by its codes
 * and name; a literature record by what its step searched for and its title; an image finding by
 * its title; a reviewer's comments by their text. A knowledge-base fact is read by its id.
 */
function citable(input: VerifyInput): Map<string, Citable> {
  const { view, results } = input;
  const out = new Map<string, Citable>();
  const termsOf = new Map((input.steps ?? []).map((s) => [s.id, s.inputs.terms]));
  for (const r of Object.values(results))
    for (const e of r.evidence) {
      const text =
        e.kind === 'pubmed'
          ? // What its step searched for, its title and its supporting sentence (a statement may quote it).
            [...(termsOf.get(r.stepId) ?? []), e.title, e.quote?.text ?? e.detail ?? ''].join('; ')
          : e.kind === 'imaging'
            ? `${e.title}; ${e.detail ?? ''}`
            : e.title;
      // The same record found by several steps is about what each of them searched for.
      const before = out.get(e.id)?.read?.text;
      out.set(e.id, {
        label: clipLabel(e.title || e.detail || e.id),
        read: e.kind === 'kb_fact' ? null : { kind: 'text', text: before ? `${before}; ${text}` : text, codes: [] },
      });
    }
  const element = (ref: string, label: string, read: Citable['read']) => out.set(`case:${ref}`, { label, read });
  for (const p of [...view.problems, ...view.resolvedProblems])
    element(p.ref, `the case record: problem ${clipLabel(p.text)}`, {
      kind: 'problem',
      text: p.text,
      codes: kbCodes(p.codes),
    });
  for (const m of view.medications)
    element(m.ref, `the case record: medication ${clipLabel(m.name)}`, {
      kind: 'medication',
      text: m.name,
      codes: m.codes,
    });
  for (const a of view.allergies)
    element(a.ref, `the case record: allergy ${clipLabel(a.substance)}`, {
      kind: 'allergy',
      text: a.substance,
      codes: kbCodes(a.codes),
    });
  for (const l of [...view.labs, ...view.otherLabs])
    element(l.ref, `the case record: result ${clipLabel(l.name)}`, {
      kind: 'lab',
      text: l.name,
      codes: l.loinc ? [{ system: 'loinc', code: l.loinc }] : [],
    });
  for (const i of view.imaging) {
    const text = [i.modality, i.bodySite, i.description].filter(Boolean).join(' ');
    element(i.ref, `the case record: imaging study ${clipLabel(text)}`, { kind: 'text', text, codes: [] });
  }
  for (const n of view.notes)
    element(n.ref, `the case record: note (${n.source})`, { kind: 'text', text: n.text, codes: [] });
  for (const c of input.reviewerComments)
    out.set(`review:r${c.revision}`, {
      label: `reviewer comments on revision ${c.revision}`,
      read: { kind: 'text', text: c.comments, codes: [] },
    });
  return out;
}
