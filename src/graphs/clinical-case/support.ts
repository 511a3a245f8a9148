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

export interface CitedEvidence {
  /** What it is about: the entities it names, and those with everything above them. */
  raw: ReadonlySet<string>;
  up: ReadonlySet<string>;
  /** How a reviewer would name it ("the case record: medication Warfarin 5 MG Oral Tablet"). */
  label: string;
}

const covers = (e: CitedEvidence, c: StatementConcept) =>
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
  const what = cited.map(({ id, e }) => `${id} (${e.label})`).join(', ') || 'nothing code could read';
  if (medicines.length) {
    const uncovered = medicines.filter((c) => coveredBy(c).length === 0);
    if (uncovered.length)
      return {
        status: 'unsupported',
        reason: `nothing it cites is about ${uncovered.map((c) => c.text).join(', ')}; it cites ${what}`,
      };
    return { status: 'supported', reason: null };
  }
  if (concepts.some((c) => coveredBy(c).length > 0)) return { status: 'supported', reason: null };
  return {
    status: 'unsupported',
    reason: `nothing it cites is about ${concepts.map((c) => c.text).join(', ')}; it cites ${what}`,
  };
}
