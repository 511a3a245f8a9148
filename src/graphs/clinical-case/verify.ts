/**
 * Deterministic verification before any human sees a plan:
 *   - every citation resolves to evidence retrieved in this case (or the case record, or a
 *     reviewer comment); unresolved or missing citations mark the claim unsupported;
 *   - every medication named in a recommendation, together with the current ones, is checked
 *     against the knowledge base for interactions, allergies, contraindications and dose;
 *   - instructions embedded in case text are flagged (never obeyed);
 *   - unavailable tools are reported.
 */
import type { InjectionHit } from '../../clinical/injection.js';
import type { MinimisedCase } from '../../domain/minimised-case.js';
import { coreDrugName } from '../../clinical/drug-name.js';
import { callTool, DEFAULT_CALL_POLICY } from '../../tools/common.js';
import { SafetyCheckResult, type SafetyCheckKind } from '../../domain/knowledge.js';
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
      } else if (rec.citations.length === 0 && rec.supported) {
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

  // Medications named by the plan that the case does not have (e.g. a model proposing a new drug).
  const current = new Set(view.medications.map((m) => coreDrugName(m.name)));
  const newNames = [...named].filter((m) => m && !current.has(m));
  if (view.medications.length + newNames.length > 0) {
    const kb = tools.knowledgeBase;
    const outcomes = await Promise.all(
      VERIFY_KINDS.map((kind) =>
        kb
          ? callTool(
              'knowledge-base',
              (signal) => kb.check(checkInput(view, kind, [], 'verification', newNames), signal),
              tools.policy ?? DEFAULT_CALL_POLICY,
              tools.now,
              SafetyCheckResult,
            )
          : Promise.resolve(null),
      ),
    );
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
        add({
          code: 'safety',
          severity: f.severity,
          message: `${f.kind}: ${f.summary}`,
          location: null,
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
