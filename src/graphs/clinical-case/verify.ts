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
  SafetyCheckResult,
  type SafetyCheckInput,
  type SafetyCheckKind,
} from '../../domain/knowledge.js';
import { SECTION_NAMES, type Plan, type VerificationFinding } from '../../domain/plan.js';
import type { StepResult } from '../../domain/steps.js';
import { checkInput, type ToolBox } from './executor.js';

/** How many places a hidden-characters finding names before it says “…”. */
const HIDDEN_POINTERS_LISTED = 5;

const VERIFY_KINDS: SafetyCheckKind[] = ['interaction', 'allergy', 'contraindication', 'dose'];

export interface VerifyInput {
  plan: Plan;
  view: MinimisedCase;
  results: Readonly<Record<string, StepResult>>;
  injections: readonly InjectionHit[];
  reviewRevisions: readonly number[];
}

export async function verifyPlan(
  input: VerifyInput,
  tools: ToolBox,
): Promise<{ plan: Plan; findings: VerificationFinding[] }> {
  const { view, results } = input;
  const findings: VerificationFinding[] = [];
  let n = 0;
  const add = (f: Omit<VerificationFinding, 'id'>) => findings.push({ ...f, id: `v${++n}` });

  const known = new Set<string>();
  for (const r of Object.values(results)) for (const e of r.evidence) known.add(e.id);
  for (const list of [view.problems, view.medications, view.allergies, view.labs, view.imaging, view.notes])
    for (const x of list) known.add(`case:${x.ref}`);
  for (const rev of input.reviewRevisions) known.add(`review:r${rev}`);

  const plan: Plan = structuredClone(input.plan);
  // A model's plan does not decide its own support: `supported` is recomputed from the citations.
  const modelWritten = plan.mode === 'llm';
  if (modelWritten) for (const section of SECTION_NAMES) for (const rec of plan.sections[section]) rec.supported = true;
  if (modelWritten) boundPlan(plan, add);
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
  if (modelWritten)
    for (const section of SECTION_NAMES)
      for (const rec of plan.sections[section])
        for (const hit of scanText(rec.id, rec.text))
          add({
            code: 'embedded_instruction',
            severity: 'high',
            message: `A statement the model wrote contains an instruction or approval claim aimed at the system or the reviewer (${hit.rule}); it was shown as text and not followed: “${hit.excerpt}”`,
            location: rec.id,
            citations: [],
          });

  // What the statements say, read by code: the medicines each names and the doses it proposes.
  const kb = tools.knowledgeBase;
  const read = await readStatements(plan, view, tools);
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
    const outcomes = asIs.map((o, i) => {
      const p = asProposed?.[i];
      if (!o || o.status !== 'ok' || !p || p.status !== 'ok') return o;
      const seen = new Set(o.data.findings.map((f) => `${f.kind}|${f.summary}`));
      const added = p.data.findings.filter((f) => !seen.has(`${f.kind}|${f.summary}`));
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
        // A finding about a drug or dose a statement proposed points at that statement.
        const at = f.medications.map((m) => read.proposedIn.get(m)).find((x) => x !== undefined) ?? null;
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
      message: `Case text contains an instruction aimed at the system (${hit.rule}); it was treated as data and not followed: “${hit.excerpt}”`,
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
  /** Medication name (as passed to the checks) → the statement that proposed it. */
  proposedIn: Map<string, string>;
  /** Names a statement listed that its text already covers (checked once, with the text's dose). */
  coveredNames: Set<string>;
  unlisted: Array<{ recId: string; text: string; name: string }>;
  error: string | null;
}

/** Read every statement for the medicines it names, through the knowledge base's normalisation. */
async function readStatements(plan: Plan, view: MinimisedCase, tools: ToolBox): Promise<StatementReading> {
  const reading: StatementReading = {
    extras: [],
    overrides: new Map(),
    proposedIn: new Map(),
    coveredNames: new Set(),
    unlisted: [],
    error: null,
  };
  const kb = tools.knowledgeBase;
  const recs = SECTION_NAMES.flatMap((section) => plan.sections[section]);
  if (!kb || !recs.length) return reading;
  const outcome = await callTool(
    'knowledge-base',
    (signal) =>
      kb.mentions(
        {
          statements: recs.map((r) => ({ id: r.id, text: r.text, listed: r.medications.slice(0, 100) })),
          current: view.medications.map((m) => coreDrugName(m.name)),
        },
        signal,
      ),
    tools.policy ?? DEFAULT_CALL_POLICY,
    tools.now,
    MentionsResult,
  );
  if (outcome.status !== 'ok') return { ...reading, error: outcome.reason };
  const currentIndex = new Map<string, number>();
  outcome.data.current.forEach((c, i) => c.entityIds.forEach((id) => currentIndex.has(id) || currentIndex.set(id, i)));
  const seenExtra = new Set<string>();
  for (const s of outcome.data.statements) {
    const listedIds = new Set(s.listed.flatMap((l) => l.entityIds));
    for (const m of s.mentions) {
      if (!listedIds.has(m.entityId)) reading.unlisted.push({ recId: s.id, text: m.text, name: m.name });
      for (const l of s.listed) if (l.entityIds.includes(m.entityId)) reading.coveredNames.add(coreDrugName(l.name));
      const i = currentIndex.get(m.entityId);
      if (i !== undefined) {
        // A dose written for a current medicine is a proposed change of dose.
        if (m.dose && !reading.overrides.has(i)) {
          reading.overrides.set(i, { dose: m.dose, route: m.route, frequencyPerDay: m.frequencyPerDay });
          reading.proposedIn.set(coreDrugName(view.medications[i]!.name), s.id);
        }
        continue;
      }
      if (seenExtra.has(m.entityId)) continue;
      seenExtra.add(m.entityId);
      // Named as the statement writes it, so a finding reads like the plan.
      const name = coreDrugName(m.text);
      reading.extras.push({ name, dose: m.dose, route: m.route, frequencyPerDay: m.frequencyPerDay });
      reading.proposedIn.set(name, s.id);
    }
  }
  return reading;
}

/** The check input for the regimen the plan proposes: current medicines at any proposed dose, plus the new ones. */
function withProposals(input: SafetyCheckInput, reading: StatementReading): SafetyCheckInput {
  const meds = input.medications.map((m, i) => {
    const o = reading.overrides.get(i);
    return o
      ? { ...m, dose: o.dose, route: o.route ?? m.route, frequencyPerDay: o.frequencyPerDay ?? m.frequencyPerDay }
      : m;
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

/** At most this many statements in a model's plan; the rest are left out, and the finding says how many. */
export const MAX_MODEL_STATEMENTS = 80;

function boundPlan(plan: Plan, add: (f: Omit<VerificationFinding, 'id'>) => void): void {
  let kept = 0;
  let dropped = 0;
  for (const section of SECTION_NAMES) {
    const recs = plan.sections[section];
    const room = Math.max(0, MAX_MODEL_STATEMENTS - kept);
    if (recs.length > room) {
      dropped += recs.length - room;
      plan.sections[section] = recs.slice(0, room);
    }
    kept += plan.sections[section].length;
  }
  if (dropped)
    add({
      code: 'plan_bounds',
      severity: 'moderate',
      message: `The model wrote ${kept + dropped} statements; the first ${MAX_MODEL_STATEMENTS} are shown and ${dropped} were left out. Ask for a revision if they matter.`,
      location: null,
      citations: [],
    });
}
