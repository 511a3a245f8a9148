/**
 * The graph's rules over plan steps (the step schemas are in src/domain/steps.ts): the safety
 * rule, enforced in code, that merges the mandatory safety steps into any plan (an interaction
 * check when there are two or more medications, an allergy check and a dose check for every
 * medication, an older-adult prescribing check from age 65, and an imaging analysis for every
 * imaging study, and care-plan reasoning over the findings; no planner, deterministic or model,
 * can remove them), and which steps are ready to run.
 */
import type { MinimisedCase } from '../../domain/minimised-case.js';
import type { PlanStep } from '../../domain/steps.js';

/** What makes two steps "the same check": type plus target. */
export function stepKey(step: Pick<PlanStep, 'type' | 'inputs'>): string {
  const target =
    step.type === 'imaging_analysis'
      ? (step.inputs.studyRef ?? '')
      : step.type === 'kb_lookup' || step.type === 'literature_search'
        ? [...step.inputs.terms]
            .map((t) => t.toLowerCase())
            .sort()
            .join(',')
        : [...step.inputs.medicationRefs].sort().join(',');
  return `${step.type}|${target}`;
}

/** From this age the older-adult prescribing criteria (AGS Beers) apply to every medication review. */
export const OLDER_ADULT_AGE = 65;

/** Whole years from the view's age ("67", "90+"), or null when not recorded. */
const ageYears = (age: string | null) => {
  const m = age ? /^\s*(\d{1,3})/.exec(age) : null;
  return m ? Number(m[1]) : null;
};

/** The safety steps a case requires, whatever the planner proposed. */
export function mandatorySteps(view: MinimisedCase): PlanStep[] {
  const steps: PlanStep[] = [];
  const meds = view.medications;
  const empty = { medicationRefs: [], studyRef: null, terms: [] };
  if (meds.length >= 2) {
    steps.push({
      id: 'safety:interactions',
      type: 'interaction_check',
      purpose: 'Check every pair of active medications for interactions (mandatory)',
      inputs: { ...empty, medicationRefs: meds.map((m) => m.ref) },
      dependsOn: [],
      mandatory: true,
    });
  }
  for (const m of meds) {
    steps.push({
      id: `safety:allergy:${m.ref}`,
      type: 'allergy_check',
      purpose: `Check ${m.ref} against recorded allergies, including cross-reactivity (mandatory)`,
      inputs: { ...empty, medicationRefs: [m.ref] },
      dependsOn: [],
      mandatory: true,
    });
    steps.push({
      id: `safety:dose:${m.ref}`,
      type: 'dose_check',
      purpose: `Check the dose of ${m.ref} against the adult range, adjusted for renal function (mandatory)`,
      inputs: { ...empty, medicationRefs: [m.ref] },
      dependsOn: [],
      mandatory: true,
    });
  }
  const age = ageYears(view.patient.age);
  if (meds.length > 0 && age !== null && age >= OLDER_ADULT_AGE) {
    steps.push({
      id: 'safety:older-adult',
      type: 'older_adult_check',
      purpose: `Check the medications against older-adult prescribing criteria (AGS Beers), age ${age} (mandatory)`,
      inputs: { ...empty, medicationRefs: meds.map((m) => m.ref) },
      dependsOn: [],
      mandatory: true,
    });
  }
  if (meds.length > 0) {
    steps.push({
      id: 'care:reasoning',
      type: 'care_reasoning',
      purpose:
        'Reason over the knowledge base for every serious finding: checked alternatives, dose adjustments, monitoring and guideline statements (mandatory)',
      inputs: { ...empty, medicationRefs: meds.map((m) => m.ref) },
      // After the checks, so the trace reads finding → recommendation; it re-derives the findings over one snapshot.
      dependsOn: steps.map((s) => s.id),
      mandatory: true,
    });
  }
  for (const s of view.imaging) {
    steps.push({
      id: `safety:imaging:${s.ref}`,
      type: 'imaging_analysis',
      purpose: `Analyse imaging study ${s.ref} with the imaging model (mandatory)`,
      inputs: { ...empty, studyRef: s.ref },
      dependsOn: [],
      mandatory: true,
    });
  }
  return steps;
}

/**
 * Merge the mandatory steps into a proposed plan. A proposed step that covers a mandatory one
 * is kept (and marked mandatory); missing mandatory steps are added; dependencies on unknown
 * steps are dropped so the plan stays executable; duplicate ids are made unique.
 */
export function mergeMandatory(
  proposed: readonly PlanStep[],
  view: MinimisedCase,
): { steps: PlanStep[]; added: string[] } {
  const knownRefs = new Set([...view.medications.map((m) => m.ref), ...view.imaging.map((s) => s.ref)]);
  const steps: PlanStep[] = [];
  const byKey = new Map<string, PlanStep>();
  const ids = new Set<string>();
  for (const raw of proposed) {
    const step = {
      ...raw,
      inputs: { ...raw.inputs, medicationRefs: raw.inputs.medicationRefs.filter((r) => knownRefs.has(r)) },
    };
    if (step.type === 'imaging_analysis' && (!step.inputs.studyRef || !knownRefs.has(step.inputs.studyRef))) continue;
    const key = stepKey(step);
    if (byKey.has(key)) continue;
    let id = step.id;
    for (let n = 2; ids.has(id); n++) id = `${step.id}-${n}`;
    const kept = { ...step, id };
    ids.add(id);
    byKey.set(key, kept);
    steps.push(kept);
  }
  const added: string[] = [];
  for (const required of mandatorySteps(view)) {
    const existing = byKey.get(stepKey(required));
    if (existing) {
      existing.mandatory = true;
      continue;
    }
    let id = required.id;
    for (let n = 2; ids.has(id); n++) id = `${required.id}-${n}`;
    steps.push({ ...required, id });
    ids.add(id);
    added.push(id);
  }
  const finalIds = new Set(steps.map((s) => s.id));
  for (const s of steps) s.dependsOn = s.dependsOn.filter((d) => finalIds.has(d) && d !== s.id);
  return { steps: breakCycles(steps), added };
}

/** Drop dependencies that would create a cycle (keeps the first-listed order). */
function breakCycles(steps: PlanStep[]): PlanStep[] {
  const order = new Map(steps.map((s, i) => [s.id, i]));
  for (const s of steps) s.dependsOn = s.dependsOn.filter((d) => (order.get(d) ?? Infinity) < order.get(s.id)!);
  return steps;
}

/** Steps whose dependencies are all done and that are not done themselves. */
export function readySteps(steps: readonly PlanStep[], done: ReadonlySet<string>): PlanStep[] {
  return steps.filter((s) => !done.has(s.id) && s.dependsOn.every((d) => done.has(d)));
}
