/**
 * Wording the knowledge base's care-plan reasoning (src/domain/care-reasoning.ts) for a plan:
 * the clinician-facing statement of each action, its "why" chain with citations, and the
 * patient explanations in the case's language. Pure functions over the reasoning step's result.
 */
import type { CareAction, CareReasoningResult } from '../domain/care-reasoning.js';
import type { DraftInput } from '../domain/agents.js';
import type { PlanLanguage, Recommendation } from '../domain/plan.js';
import { clip } from './knowledge-planner.js';
import { phrasesFor, type ChangeReason } from './patient-communication/index.js';

/** The care-reasoning result of this draft, when its step ran. */
export function reasoningOf(input: Pick<DraftInput, 'steps' | 'results'>): CareReasoningResult | null {
  for (const s of input.steps)
    if (s.type === 'care_reasoning' && input.results[s.id]?.status === 'ok') return input.results[s.id]!.reasoning;
  return null;
}

export const kbCites = (factIds: readonly string[]) => [...new Set(factIds)].map((id) => `kb:${id}`);

const CHECKS = 6;
const TAG: Record<CareAction['kind'], string> = {
  switch: 'CHANGE',
  dose_adjustment: 'DOSE',
  stop_duplicate: 'STOP',
  review: 'REVIEW',
};

/** The clinician-facing statement: the action, then each checked option with its dose and checks. */
export function actionText(a: CareAction): string {
  const tag = a.kind === 'switch' && !a.alternatives.length ? 'REVIEW' : TAG[a.kind];
  const options = a.alternatives.map(
    (alt, i) =>
      `(${i + 1}) ${alt.name}${alt.dose ? `: ${alt.dose}` : ': no dose range held'}${alt.note ? `; ${alt.note.replace(/\.$/, '')}` : ''}; passed ${alt.passed.length} of ${CHECKS} checks${alt.notChecked.length ? ` (not checked: ${alt.notChecked.map((n) => n.reason).join('; ')})` : ''}${alt.cautions.length ? `; cautions: ${alt.cautions.join('; ')}` : ''}`,
  );
  const excluded = a.excluded.length
    ? ` Ruled out for this patient: ${a.excluded.map((e) => `${e.name} (${e.reason})`).join('; ')}.`
    : '';
  const also = a.alsoFor.length ? ` This also answers: ${a.alsoFor.join('; ')}.` : '';
  return `${tag} ${a.medication}: ${a.text}${options.length ? ` Options: ${options.join('. ')}.` : ''}${excluded}${also}`;
}

export const actionMedications = (a: CareAction) => [a.medication, ...a.alternatives.map((x) => x.name)];

/** The chain of facts behind an action, as the plan's `why`. */
export function whyOf(a: CareAction): Recommendation['why'] {
  const steps = [
    ...a.chain,
    ...a.alternatives.flatMap((alt) => alt.chain.map((l) => ({ ...l, text: `${alt.name}: ${l.text}` }))),
  ];
  // A step is at most 4,000 characters (the plan schema's bound); a record's own text can be longer.
  return steps.slice(0, 20).map((l) => ({ text: clip(l.text, 4000), citations: kbCites(l.factIds) }));
}

function reasonOf(a: CareAction): ChangeReason {
  switch (a.finding.kind) {
    case 'allergy':
      return 'allergy';
    case 'interaction':
      return 'interaction';
    case 'contraindication':
      return 'condition';
    case 'older_adult':
      return a.finding.medications.length > 1 ? 'interaction' : 'age';
    case 'dose':
      return /renal/i.test(a.finding.summary) ? 'kidney' : 'dose';
    default:
      return 'other';
  }
}

/** Plain-language explanations for the patient, one per finding acted on, then the tests to expect. */
export function patientTexts(
  r: CareReasoningResult,
  language: PlanLanguage,
): Array<{ text: string; factIds: string[] }> {
  const say = phrasesFor(language);
  const name = (n: string) => (language === 'zh-CN' ? (r.namesZh[n] ?? n) : n);
  const out: Array<{ text: string; factIds: string[] }> = [];
  const done = new Set<string>();
  for (const a of r.actions) {
    const key = `${a.finding.kind}|${a.finding.summary}`;
    // A pair gets one explanation: the first action that has checked options, else the first.
    if (done.has(key)) continue;
    const sameFinding = r.actions.filter((x) => `${x.finding.kind}|${x.finding.summary}` === key);
    const pick = sameFinding.find((x) => x.alternatives.length) ?? sameFinding[0]!;
    if (pick !== a) continue;
    done.add(key);
    const drug = name(a.medication);
    const other = a.finding.medications.find((m) => m !== a.medication) ?? null;
    const reason = reasonOf(a);
    let text: string;
    if (a.kind === 'dose_adjustment' && a.dose) text = say.lowerDose({ drug, dose: a.dose, kidney: a.dose.renal });
    else if (a.kind === 'stop_duplicate' && other) text = say.stopDuplicate({ stop: drug, keep: name(other) });
    else if (a.kind === 'switch' && a.alternatives.some((x) => x.fullyChecked))
      text = say.switchDrug({
        drug,
        // Only options every check ran for are put to the patient.
        alternatives: a.alternatives.filter((x) => x.fullyChecked).map((x) => name(x.name)),
        reason,
        other: other ? name(other) : null,
      });
    else text = say.reviewDrug({ drug, reason, other: other ? name(other) : null });
    out.push({ text, factIds: a.factIds });
  }
  const tests = r.monitoring.filter((m) => m.from === 'monitors');
  if (tests.length) {
    const names = [...new Set(tests.map((m) => say.testName(m.test)))];
    out.push({ text: say.tests({ tests: names }), factIds: tests.flatMap((m) => m.factIds) });
  }
  if (out.length) out.push({ text: say.closing(), factIds: out.flatMap((o) => o.factIds).slice(0, 10) });
  return out;
}
