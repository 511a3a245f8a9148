/**
 * The support decision: is what a statement cites about what it says? A small entailment layer
 * over structured data. The knowledge base says which entities a statement names (medicines,
 * classes, conditions, tests, each with the entities above it) and which entities each cited
 * piece of evidence is about (src/knowledge/concepts.ts); this decides:
 *
 *   - every medicine the statement names needs a citation about that medicine (the drug
 *     itself, a product containing it, or a class or rule it falls under);
 *   - a statement naming no medicine needs a citation about one of the conditions or tests it names;
 *   - a statement naming nothing the knowledge base knows cannot be decided: `not_checked`.
 *
 * Evidence covers a concept when it names the concept or something above it (a fact about
 * NSAIDs covers ibuprofen), or something below it (a recorded amoxicillin allergy covers
 * "penicillins"); never a sibling (a warfarin record does not cover apixaban).
 */
import type { StatementConcept } from '../../domain/knowledge.js';
import type { Recommendation } from '../../domain/plan.js';

export type Support = NonNullable<Recommendation['support']>;

/** How many concepts and citations a reason names before it says how many more. */
const MAX_NAMED = 5;
/** Within the plan schema's bound on a reason (2,000 characters). */
const MAX_REASON = 1500;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export interface CitedEvidence {
  /** What it is about: the entities it names, and those with everything above them. */
  raw: ReadonlySet<string>;
  up: ReadonlySet<string>;
  /** How a reviewer would name it ("the case record: medication Warfarin 5 MG Oral Tablet"). */
  label: string;
}

/** Whether evidence (what it names, and those with everything above them) covers a concept: the concept, something above it, or below it. */
export const covers = (e: Pick<CitedEvidence, 'raw' | 'up'>, c: StatementConcept) =>
  c.up.some((x) => e.raw.has(x)) || c.self.some((x) => e.up.has(x));

/** Decide one statement whose citations all resolve; `about` holds every cited id's evidence. */
export function decideSupport(
  citations: readonly string[],
  concepts: readonly StatementConcept[],
  about: ReadonlyMap<string, CitedEvidence>,
): Support {
  if (!concepts.length)
    return {
      status: 'not_checked',
      reason: 'names no medicine, condition or test the knowledge base knows, so code could not check what it cites',
    };
  const cited = citations.flatMap((id) => {
    const e = about.get(id);
    return e ? [{ id, e }] : [];
  });
  const coveredBy = (c: StatementConcept) => cited.filter(({ e }) => covers(e, c)).map(({ id }) => id);
  const medicines = concepts.filter((c) => c.type === 'medicine');
  // Bounded: a reason names at most a few concepts and citations (a record's own text can be long).
  const what =
    cited
      .slice(0, MAX_NAMED)
      .map(({ id, e }) => `${clip(id, 100)} (${clip(e.label, 120)})`)
      .join(', ') + (cited.length > MAX_NAMED ? ` and ${cited.length - MAX_NAMED} more` : '') ||
    'nothing code could read';
  const named = (list: readonly StatementConcept[]) =>
    list
      .slice(0, MAX_NAMED)
      .map((c) => clip(c.text, 80))
      .join(', ') + (list.length > MAX_NAMED ? ` and ${list.length - MAX_NAMED} more` : '');
  if (medicines.length) {
    const uncovered = medicines.filter((c) => coveredBy(c).length === 0);
    if (uncovered.length)
      return {
        status: 'unsupported',
        reason: clip(`nothing it cites is about ${named(uncovered)}; it cites ${what}`, MAX_REASON),
      };
    return { status: 'supported', reason: null };
  }
  if (concepts.some((c) => coveredBy(c).length > 0)) return { status: 'supported', reason: null };
  return {
    status: 'unsupported',
    reason: clip(`nothing it cites is about ${named(concepts)}; it cites ${what}`, MAX_REASON),
  };
}
