/**
 * The deterministic, knowledge-driven planner used when no model is configured. It derives
 * the steps from the case itself: a knowledge-base lookup of every medication, problem and
 * allergen; contraindication and duplicate-therapy checks; literature searches for the main
 * problems (the problem as a search concept, without stage and qualifiers, plus the core names
 * of the first medications). Mandatory safety steps are merged in afterwards by code, as for
 * any planner.
 */
import { coreDrugName } from '../clinical/drug-name.js';
import type { MinimisedCase } from '../domain/minimised-case.js';
import type { PlanStep } from '../domain/steps.js';

const MAX_LITERATURE_SEARCHES = 3;
/** Step terms are at most 200 characters (the step schema's bound); case text can be longer. */
const MAX_TERM = 200;

/** Text cut to `max` characters at a word boundary where there is one. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return (space > max / 2 ? cut.slice(0, space) : cut).trim();
}

/**
 * A problem as a literature concept: without bracketed qualifiers, stage/grade/class suffixes
 * and "unspecified", e.g. "Chronic kidney disease stage 3b" → "Chronic kidney disease",
 * "Community-acquired pneumonia (suspected)" → "Community-acquired pneumonia". Type numbers
 * ("Type 2 diabetes mellitus") are kept: they name a different disease, not a stage.
 */
export function literatureConcept(problem: string): string {
  const concept = problem
    .replace(/\(.*?\)/g, ' ')
    .replace(/,?\s*\b(stage|grade|class|nyha class|ckd)\s+[0-9ivx]+[a-e]?\b.*$/i, ' ')
    .replace(/,?\s*\bunspecified\b/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return concept || problem.trim();
}

export function knowledgeDrivenPlan(view: MinimisedCase): PlanStep[] {
  const empty = { medicationRefs: [], studyRef: null, terms: [] };
  const meds = view.medications;
  const steps: PlanStep[] = [];
  const lookupTerms = [
    ...new Set(
      [
        ...meds.map((m) => coreDrugName(m.name)),
        ...view.problems.map((p) => p.text),
        ...view.allergies.map((a) => a.substance),
      ].map((t) => clip(t, MAX_TERM)),
    ),
  ]
    .filter(Boolean)
    .slice(0, 20);
  if (lookupTerms.length > 0) {
    steps.push({
      id: 'kb:lookup',
      type: 'kb_lookup',
      purpose: 'Map medications, problems and allergens to knowledge-base entities',
      inputs: { ...empty, terms: lookupTerms },
      dependsOn: [],
      mandatory: false,
    });
  }
  if (meds.length > 0 && view.problems.length > 0) {
    steps.push({
      id: 'kb:contraindications',
      type: 'contraindication_check',
      purpose: 'Check the medications against the patient’s conditions for contraindications',
      inputs: { ...empty, medicationRefs: meds.map((m) => m.ref) },
      dependsOn: [],
      mandatory: false,
    });
  }
  if (meds.length >= 2) {
    steps.push({
      id: 'kb:duplicates',
      type: 'duplicate_therapy_check',
      purpose: 'Look for two medications of the same class (duplicate therapy)',
      inputs: { ...empty, medicationRefs: meds.map((m) => m.ref) },
      dependsOn: [],
      mandatory: false,
    });
  }
  const activeProblems = view.problems.filter((p) => !p.status || /active|recurrence|relapse/i.test(p.status));
  activeProblems.slice(0, MAX_LITERATURE_SEARCHES).forEach((p, i) => {
    steps.push({
      id: `lit:${i + 1}`,
      type: 'literature_search',
      purpose: `Find guideline-level evidence on managing ${clip(p.text, 300)} relevant to the clinical question`,
      inputs: {
        ...empty,
        terms: [literatureConcept(p.text), ...meds.slice(0, 3).map((m) => coreDrugName(m.name))]
          .map((t) => clip(t, MAX_TERM))
          .filter(Boolean),
      },
      dependsOn: lookupTerms.length > 0 ? ['kb:lookup'] : [],
      mandatory: false,
    });
  });
  return steps;
}
