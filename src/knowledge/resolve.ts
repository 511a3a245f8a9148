/**
 * Term resolution: what a case or a clinician wrote → canonical entities. Exact matching on
 * folded names (generic, brand, salt, Chinese, lay, curated misspellings), then the same after
 * removing strengths and dosage forms, then after removing salt words; codes (RxNorm, ICD-10,
 * …) win when the input carries them. Anything else is unknown: suggestions by edit distance
 * are offered for a human, never used by a check.
 */
import type { CodeSystem, EntityTypeName } from './model.js';
import { ancestors, codeKey, type KbSnapshot, type NameHit } from './snapshot.js';
import { editDistance, foldText, splitCombination, stripForms, stripSalts } from './text.js';

export type TermContext = 'medication' | 'allergy' | 'condition' | 'any';

export const CONTEXT_TYPES: Record<TermContext, readonly EntityTypeName[]> = {
  medication: ['ingredient', 'product', 'drug_class'],
  allergy: ['allergen_class', 'ingredient', 'product', 'drug_class'],
  condition: ['condition'],
  any: ['ingredient', 'product', 'drug_class', 'condition', 'lab_test', 'allergen_class'],
};

export type MatchKind = 'code' | 'exact' | 'form-stripped' | 'salt-stripped' | 'combination' | 'phrase';

export interface Resolution {
  term: string;
  /** The matched entities: one, several for a combination or a problem naming several conditions, or none. */
  entities: Array<{
    id: string;
    type: EntityTypeName;
    name: string;
    matchedName: string;
    match: MatchKind;
    factIds: string[];
  }>;
  /** Close names for an unknown term, for a human to consider. Never used by checks. */
  suggestions: string[];
  /** Set when the term's code and its name point at different drugs: the term is then treated as unknown. */
  conflict?: string;
}

export interface TermInput {
  text: string;
  codes?: ReadonlyArray<{ system: CodeSystem; code: string }>;
}

function pick(kb: KbSnapshot, hits: readonly NameHit[] | undefined, context: TermContext): NameHit | null {
  if (!hits?.length) return null;
  const order = CONTEXT_TYPES[context];
  let best: NameHit | null = null;
  let bestRank = Infinity;
  for (const h of hits) {
    const rank = order.indexOf(kb.entities.get(h.entityId)!.type);
    if (rank >= 0 && rank < bestRank) {
      best = h;
      bestRank = rank;
    }
  }
  return best;
}

const entry = (kb: KbSnapshot, hit: NameHit, match: MatchKind, extraFacts: string[] = []) => {
  const e = kb.entities.get(hit.entityId)!;
  return { id: e.id, type: e.type, name: e.name, matchedName: hit.name, match, factIds: [hit.factId, ...extraFacts] };
};

function byName(kb: KbSnapshot, folded: string, context: TermContext): { hit: NameHit; match: MatchKind } | null {
  const exact = pick(kb, kb.names.get(folded), context);
  if (exact) return { hit: exact, match: 'exact' };
  const formless = stripForms(folded);
  const f = formless !== folded ? pick(kb, kb.names.get(formless), context) : null;
  if (f) return { hit: f, match: 'form-stripped' };
  const saltless = stripSalts(formless);
  const s = saltless !== formless ? pick(kb, kb.names.get(saltless), context) : null;
  if (s) return { hit: s, match: 'salt-stripped' };
  return null;
}

/** The substance inside an allergy entry: without "allergy to" and a SNOMED tag, then the words in brackets. */
function allergyVariants(text: string): string[] {
  const bare = text
    .replace(/^\s*(?:h\/o\s+)?(?:allergy|allergic|hypersensitivity|intolerance)\s+(?:reaction\s+)?to\s+/i, '')
    .replace(/\s*\((?:finding|disorder|substance|product)\)\s*$/i, '')
    .trim();
  const outside = bare
    .replace(/\([^()]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const inside = [...bare.matchAll(/\(([^()]+)\)/g)].map((m) => m[1]!.trim());
  return [...new Set([bare, outside, ...inside])].filter((v) => v && v !== text);
}

export function suggest(kb: KbSnapshot, folded: string, context: TermContext, limit = 3): string[] {
  const target = stripSalts(stripForms(folded));
  if (target.length < 4) return [];
  const cap = target.length >= 8 ? 2 : 1;
  const types = CONTEXT_TYPES[context];
  const scored: Array<[number, string]> = [];
  for (const [name, hits] of kb.names) {
    if (!hits.some((h) => types.includes(kb.entities.get(h.entityId)!.type))) continue;
    const d = editDistance(target, name, cap);
    if (d <= cap) scored.push([d, hits[0]!.name]);
  }
  return [...new Set(scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1])).map(([, n]) => n))].slice(0, limit);
}

/** Resolve one term. Conditions are also found as phrases inside longer problem text. */
export function resolveTerm(kb: KbSnapshot, input: TermInput | string, context: TermContext): Resolution {
  const { text, codes = [] } = typeof input === 'string' ? { text: input } : input;
  const types = CONTEXT_TYPES[context];
  for (const c of codes) {
    const found = codeCandidates(c)
      .flatMap((code) => kb.codes.get(codeKey(c.system, code)) ?? [])
      .find((f) => types.includes(kb.entities.get(f.subject)!.type));
    if (found) {
      const e = kb.entities.get(found.subject)!;
      const byText = resolveTerm(kb, text, context);
      // The text may name something more specific than the code (a condition coded by its parent): keep the text's.
      if (byText.entities.length && byText.entities.every((x) => ancestors(kb, x.id).has(e.id) && x.id !== e.id))
        return byText;
      // A code that contradicts the name is a data error in the record: never pick one of the two.
      if (byText.entities.length && !byText.entities.some((x) => sameDrug(kb, x.id, e.id) || related(kb, x.id, e.id))) {
        const named = byText.entities.map((x) => x.name).join(' + ');
        return {
          term: text,
          entities: [],
          suggestions: [],
          conflict: `${c.system.toUpperCase()} code ${c.code} is ${e.name} but the name “${text}” is ${named}`,
        };
      }
      return {
        term: text,
        entities: [
          {
            id: e.id,
            type: e.type,
            name: e.name,
            matchedName: `${c.system} ${c.code}`,
            match: 'code',
            factIds: [found.id],
          },
        ],
        suggestions: [],
      };
    }
  }
  const folded = foldText(text);
  const direct = byName(kb, folded, context);
  if (direct) return { term: text, entities: [entry(kb, direct.hit, direct.match)], suggestions: [] };
  if (context === 'allergy') {
    // Records write "Allergy to penicillin (finding)" (SNOMED) or "sulfa antibiotics (Septra)": the substance, then the brand.
    for (const variant of allergyVariants(text)) {
      const r = resolveTerm(kb, variant, 'allergy');
      if (r.entities.length) return { ...r, term: text };
    }
  }

  if (context !== 'condition') {
    // "a/b", "a + b", "a with b"; then "a-b", accepted only when every part is a known name.
    for (const parts of [splitCombination(stripForms(folded)), splitCombination(stripForms(folded), true)]) {
      if (!parts) continue;
      const resolved = parts.map((p) => byName(kb, p, context));
      if (resolved.every((r) => r !== null))
        return { term: text, entities: resolved.map((r) => entry(kb, r.hit, 'combination')), suggestions: [] };
    }
  }
  if (context === 'condition' || context === 'any') {
    const found = conditionPhrases(kb, folded);
    if (found.length) return { term: text, entities: found.map((h) => entry(kb, h, 'phrase')), suggestions: [] };
  }
  return { term: text, entities: [], suggestions: suggest(kb, folded, context) };
}

/**
 * The codes to look up for a record's code, most specific first: an ICD-10 code is also looked
 * up by its shorter parents (E11.9 → E11), as ICD-10 codes nest by prefix down to the
 * three-character category.
 */
function codeCandidates(c: { system: CodeSystem; code: string }): string[] {
  if (c.system !== 'icd10') return [c.code];
  const out = [c.code];
  for (let code = c.code.replace(/\.$/, ''); code.length > 3;) {
    code = code.slice(0, -1).replace(/\.$/, '');
    out.push(code);
  }
  return out;
}

/** Whether one entity is a kind of the other (a condition and its parent, a drug and its class). */
function related(kb: KbSnapshot, a: string, b: string): boolean {
  return ancestors(kb, a).has(b) || ancestors(kb, b).has(a);
}

/** Whether two entities stand for the same drug (equal, or a product and one of its ingredients). */
function sameDrug(kb: KbSnapshot, a: string, b: string): boolean {
  if (a === b) return true;
  const ia = ingredientsOf(kb, a).map((i) => i.id);
  const ib = ingredientsOf(kb, b).map((i) => i.id);
  return ia.some((x) => ib.includes(x));
}

/** Every condition named inside a longer text ("CKD stage 4 with type 2 diabetes"), most specific first. */
function conditionPhrases(kb: KbSnapshot, folded: string): NameHit[] {
  const out: NameHit[] = [];
  let rest = ` ${folded.replace(/[^\p{L}\p{N}+-]+/gu, ' ')} `;
  for (const { phrase, hit, cjk } of kb.conditionPhrases) {
    const needle = cjk ? phrase : ` ${phrase.replace(/[^\p{L}\p{N}+-]+/gu, ' ')} `;
    const at = rest.indexOf(needle);
    if (at < 0) continue;
    if (!out.some((h) => h.entityId === hit.entityId)) out.push(hit);
    // Consume the words so a shorter phrase inside a longer match ("diabetes" in "type 2 diabetes") is not counted again.
    rest = rest.slice(0, at) + ' '.repeat(needle.length) + rest.slice(at + needle.length);
  }
  return out;
}

/** The ingredients behind a resolved entity (a product's ingredients; an ingredient itself; a class has none). */
export function ingredientsOf(kb: KbSnapshot, entityId: string): Array<{ id: string; factIds: string[] }> {
  const type = kb.entities.get(entityId)?.type;
  if (type === 'ingredient') return [{ id: entityId, factIds: [] }];
  if (type === 'product')
    return kb.bySubject('has_ingredient', entityId).map((f) => ({ id: f.object!, factIds: [f.id] }));
  return [];
}

/** Everything a medication "is" for class-level rules: ingredients and all their classes (or the class itself). */
export function medicationSet(kb: KbSnapshot, entityIds: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const id of entityIds) {
    const roots = kb.entities.get(id)?.type === 'product' ? ingredientsOf(kb, id) : [{ id, factIds: [] }];
    for (const root of roots) {
      for (const [anc, via] of ancestors(kb, root.id)) if (!out.has(anc)) out.set(anc, [...root.factIds, ...via]);
    }
  }
  return out;
}

export interface EntityMatch {
  id: string;
  type: EntityTypeName;
  name: string;
  /** The name that matched (brand, Chinese name, synonym …). */
  matchedName: string;
  match: 'exact' | 'prefix' | 'contains';
}

/** Search entities by any of their names: exact matches first, then prefixes, then substrings. */
export function searchEntities(
  kb: KbSnapshot,
  query: string,
  options: { type?: EntityTypeName; limit?: number } = {},
): EntityMatch[] {
  const q = foldText(query);
  if (!q) return [];
  const limit = options.limit ?? 20;
  const rank = { exact: 0, prefix: 1, contains: 2 } as const;
  const best = new Map<string, EntityMatch>();
  for (const [name, hits] of kb.names) {
    const match = name === q ? 'exact' : name.startsWith(q) ? 'prefix' : name.includes(q) ? 'contains' : null;
    if (!match) continue;
    for (const h of hits) {
      const e = kb.entities.get(h.entityId);
      if (!e || (options.type && e.type !== options.type)) continue;
      const prev = best.get(e.id);
      if (
        !prev ||
        rank[match] < rank[prev.match] ||
        (rank[match] === rank[prev.match] && h.name.length < prev.matchedName.length)
      ) {
        best.set(e.id, { id: e.id, type: e.type, name: e.name, matchedName: h.name, match });
      }
    }
  }
  return [...best.values()]
    .sort(
      (a, b) =>
        rank[a.match] - rank[b.match] || a.matchedName.length - b.matchedName.length || a.name.localeCompare(b.name),
    )
    .slice(0, limit);
}
