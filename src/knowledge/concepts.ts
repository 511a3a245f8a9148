/**
 * What a plan statement, and what each piece of evidence it cites, is about, in knowledge-base
 * entities: the structured ground the support decision stands on (src/domain/support.ts).
 *
 *   - A statement's concepts are the medicines, drug classes, conditions and tests it names,
 *     found by the knowledge base's own names (findMentions), each with the entities above it
 *     (a drug's classes, a condition's parents) — `up`.
 *   - A case record element is about what its coded or written content resolves to (a
 *     medication's product and ingredients, a problem's conditions, an allergy's substance, a
 *     result's test by LOINC); free text (notes, a search's terms, an article title, a reviewer's
 *     comments) is about the concepts named in it — `raw`, with their ancestors — `up`.
 *   - A knowledge-base fact is about the entities it connects (a product's ingredients included).
 *
 * No string similarity: an entity matches only by a name or code the knowledge base holds.
 */
import type { EvidenceAbout, StatementConcept } from '../domain/knowledge.js';
import type { CodeSystem } from './model.js';
import { CONCEPT_TYPES, findMentions } from './mentions.js';
import { ingredientsOf, resolveTerm, type TermContext } from './resolve.js';
import { ancestors, type KbSnapshot } from './snapshot.js';
import { foldText } from './text.js';
import { statementOf } from './statements.js';

/** The entity and its ingredients (for a product), then everything above them. */
function upOf(kb: KbSnapshot, ids: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const id of ids) {
    const roots = kb.entities.get(id)?.type === 'product' ? [id, ...ingredientsOf(kb, id).map((i) => i.id)] : [id];
    for (const root of roots) for (const a of ancestors(kb, root).keys()) out.add(a);
  }
  return [...out];
}

function rawOf(kb: KbSnapshot, ids: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const id of ids) {
    out.add(id);
    for (const i of ingredientsOf(kb, id)) out.add(i.id);
  }
  return [...out];
}

/** Entity types that stand for medicines (a drug, a product, a class, an allergen class). */
const SAME_WORDS_TYPES = new Set(['ingredient', 'product', 'drug_class', 'allergen_class']);

/** The concepts a statement names, in order of appearance, one per entity. */
export function statementConcepts(kb: KbSnapshot, text: string): StatementConcept[] {
  const seen = new Set<string>();
  const out: StatementConcept[] = [];
  for (const m of findMentions(kb, text, CONCEPT_TYPES)) {
    if (seen.has(m.entityId)) continue;
    seen.add(m.entityId);
    const type = kb.entities.get(m.entityId)!.type;
    // The same words can name several entities ("penicillin": the drug and the allergen class); any of them may be meant.
    const self = new Set([m.entityId]);
    for (const h of kb.names.get(foldText(m.text)) ?? [])
      if (SAME_WORDS_TYPES.has(kb.entities.get(h.entityId)?.type ?? 'condition') === SAME_WORDS_TYPES.has(type))
        self.add(h.entityId);
    out.push({
      entityId: m.entityId,
      self: [...self],
      name: m.name,
      text: m.text,
      type: type === 'condition' ? 'condition' : type === 'lab_test' ? 'lab' : 'medicine',
      up: upOf(kb, self),
    });
  }
  return out;
}

export type EvidenceKind = 'medication' | 'problem' | 'allergy' | 'lab' | 'text' | 'terms';
const CONTEXT: Record<Exclude<EvidenceKind, 'text' | 'terms'>, TermContext> = {
  medication: 'medication',
  problem: 'condition',
  allergy: 'allergy',
  lab: 'any',
};

/** What one piece of evidence is about. */
export function evidenceAbout(
  kb: KbSnapshot,
  e: { id: string; kind: EvidenceKind; text: string; codes: ReadonlyArray<{ system: CodeSystem; code: string }> },
): EvidenceAbout {
  // A record element by its codes and whole name, and by the names written in it (a name the resolver cannot
  // parse as a whole, such as "metformine 1000mg bd", still names metformin).
  if (e.kind === 'terms') {
    // Each line is one name, matched whole ("Hypertension, Portal" is not hypertension).
    const whole = e.text
      .split('\n')
      .flatMap((t) => kb.names.get(foldText(t)) ?? [])
      .filter((h) => CONCEPT_TYPES.has(kb.entities.get(h.entityId)?.type ?? 'allergen_class'))
      .map((h) => h.entityId);
    return { id: e.id, raw: rawOf(kb, whole), up: upOf(kb, whole) };
  }
  const ids = findMentions(kb, e.text, CONCEPT_TYPES).map((m) => m.entityId);
  if (e.kind !== 'text')
    ids.push(...resolveTerm(kb, { text: e.text, codes: e.codes }, CONTEXT[e.kind]).entities.map((x) => x.id));
  return { id: e.id, raw: rawOf(kb, ids), up: upOf(kb, ids) };
}

/**
 * What a knowledge-base fact is about: its subject and object, and what its own sentence names (a
 * guideline statement naming DOACs and warfarin is about them too); null for a fact the knowledge
 * base does not hold.
 */
export function factAbout(kb: KbSnapshot, factId: string): EvidenceAbout | null {
  // Facts do not change within a snapshot: each is read once per snapshot.
  const cache = factCache.get(kb) ?? new Map<string, EvidenceAbout | null>();
  factCache.set(kb, cache);
  if (cache.has(factId)) return cache.get(factId)!;
  const about = readFact(kb, factId);
  cache.set(factId, about);
  return about;
}

const factCache = new WeakMap<KbSnapshot, Map<string, EvidenceAbout | null>>();

function readFact(kb: KbSnapshot, factId: string): EvidenceAbout | null {
  const f = kb.facts.get(factId);
  if (!f) return null;
  const ids = [f.subject, ...(f.object ? [f.object] : [])];
  for (const m of findMentions(kb, statementOf(f, kb), CONCEPT_TYPES)) ids.push(m.entityId);
  return { id: `kb:${factId}`, raw: rawOf(kb, ids), up: upOf(kb, ids) };
}
