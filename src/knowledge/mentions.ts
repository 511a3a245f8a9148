/**
 * Medicines named in free text (a plan statement), found by the knowledge base's own names —
 * generic, brand, salt, curated misspellings, Chinese — never by guessing: what verification
 * checks, whatever list a model attached to the statement. Each mention carries the dose, route
 * and frequency written right after it ("ibuprofen 400 mg three times daily", "metformin to 3 g
 * twice daily"). Lay names ("the pill", "contrast") are not used on prose, where they are common
 * words.
 */
import { convertMass } from './renal.js';
import type { EntityTypeName } from './model.js';
import type { KbSnapshot } from './snapshot.js';
import { foldPiece, hasCjk } from './text.js';

export interface Mention {
  /** The words as written. */
  text: string;
  /** Offset of the mention in the text. */
  start: number;
  entityId: string;
  /** The knowledge base's name for it. */
  name: string;
  dose: { value: number; unit: string } | null;
  route: string | null;
  frequencyPerDay: number | null;
  /** The statement stops, replaces or avoids it ("stop X", "switch X to Y", "instead of X", "avoid X", "X should be stopped"): not proposed. */
  stopped: boolean;
}

/** Words that stop or replace the medicine written right after them, in the same clause. */
const STOP_BEFORE =
  /(?:(?:^|[\s(,;:])(?:stop|stopping|discontinue|discontinuing|cease|ceasing|withdraw|withdrawing|withhold|withholding|deprescribe|deprescribing|taper(?:ing)? off|switch(?:ing)?(?: from)?|change(?: from)?|changing from|replace|replacing|substitute for|instead of|in place of|rather than|avoid|avoiding|do not (?:start|use|give|add|prescribe|restart)|never (?:start|use|give|add|prescribe))|停用|避免|停止|停服|换掉)\s*(?:the |his |her |their |current |existing |regular )*$/i;
/** Words after the medicine that stop it ("X should be stopped", "X: discontinue"). */
const STOP_AFTER =
  /^\s*(?:\([^)]{0,40}\)\s*)?(?:[\d.,]+\s*(?:mg|mcg|µg|g)\b[^,;.]{0,30})?(?:should be |must be |is to be |to be |is |will be |has been )?(?:stopped|discontinued|withdrawn|ceased|deprescribed|tapered off|replaced)\b/i;
const NEGATED = /\b(?:not|never|no|don['’]t|do not|continue|continuing|keep|restart|resume)\s+(?:\w+\s+){0,1}$/i;

/** Whether the clause around a mention stops or replaces it. */
function stoppedAt(text: string, start: number, end: number): boolean {
  const before =
    text
      .slice(Math.max(0, start - 60), start)
      .split(/[.;。；!?]/)
      .pop() ?? '';
  const stopBefore = STOP_BEFORE.exec(before);
  if (stopBefore) return !NEGATED.test(before.slice(0, stopBefore.index + 1));
  return STOP_AFTER.test(text.slice(end, end + 80)) && !/\b(?:not|never)\s+be\b/i.test(text.slice(end, end + 40));
}

/** What a mention can be: a medicine (the default, what the safety checks read), or any concept a statement is about. */
export const MEDICATION_TYPES: ReadonlySet<EntityTypeName> = new Set(['ingredient', 'product']);
export const CONCEPT_TYPES: ReadonlySet<EntityTypeName> = new Set([
  'ingredient',
  'product',
  'drug_class',
  'condition',
  'lab_test',
]);
const PROSE_KINDS = new Set(['preferred', 'generic', 'brand', 'salt', 'misspelling', 'chinese', 'abbreviation']);
const MAX_WORDS = 4;
/** Whether a knowledge-base name may be read in prose: medicines by their proper names only; conditions, tests and classes by any. */
const proseName = (type: EntityTypeName | undefined, kind: string, types: ReadonlySet<EntityTypeName>) =>
  type !== undefined && types.has(type) && (!MEDICATION_TYPES.has(type) || PROSE_KINDS.has(kind));

/** Per snapshot: the first words of its names of several words (folded as the scanner folds words). */
const firstWords = new WeakMap<KbSnapshot, Set<string>>();
function starters(kb: KbSnapshot): Set<string> {
  let set = firstWords.get(kb);
  if (!set) {
    set = new Set();
    for (const name of kb.names.keys()) {
      const first = /^[\p{L}\p{N}][\p{L}\p{N}'’\-/]*/u.exec(name)?.[0];
      if (first && first.length < name.length) set.add(first);
    }
    firstWords.set(kb, set);
  }
  return set;
}

/** Per snapshot and type set: the Chinese names, longest first (Chinese text has no spaces to split on). */
const cjkNames = new WeakMap<KbSnapshot, Map<ReadonlySet<EntityTypeName>, Array<{ name: string; entityId: string }>>>();
function chineseNames(kb: KbSnapshot, types: ReadonlySet<EntityTypeName>) {
  const byTypes = cjkNames.get(kb) ?? new Map<ReadonlySet<EntityTypeName>, Array<{ name: string; entityId: string }>>();
  cjkNames.set(kb, byTypes);
  let list = byTypes.get(types);
  if (!list) {
    list = [];
    for (const [folded, hits] of kb.names)
      if (hasCjk(folded) && folded.length >= 2)
        for (const h of hits)
          if (proseName(kb.entities.get(h.entityId)?.type, h.kind, types))
            list.push({ name: folded, entityId: h.entityId });
    list.sort((a, b) => b.name.length - a.name.length);
    byTypes.set(types, list);
  }
  return list;
}

const FREQUENCIES: Array<[RegExp, number]> = [
  [
    /^(?:once (?:a |per )?(?:day|daily)|once daily|daily|od|qd|every 24 hours|at night|nightly|每日一次|每天一次)\b/i,
    1,
  ],
  [/^(?:twice (?:a |per )?(?:day|daily)|twice daily|bd|bid|every 12 hours|每日两次|每日二次|每天两次)\b/i, 2],
  [/^(?:three times (?:a |per )?(?:day|daily)|tds|tid|every 8 hours|每日三次|每天三次)\b/i, 3],
  [/^(?:four times (?:a |per )?(?:day|daily)|qds|qid|every 6 hours|每日四次|每天四次)\b/i, 4],
  [/^(?:once (?:a |per )?week|weekly|每周一次)\b/i, 1 / 7],
];
const ROUTES: Array<[RegExp, string]> = [
  [/^(?:orally|by mouth|oral|po|口服)\b/i, 'oral'],
  [/^(?:intravenously|intravenous|iv|静脉)\b/i, 'iv'],
  [/^(?:intramuscularly|intramuscular|im|肌注)\b/i, 'im'],
  [/^(?:subcutaneously|subcutaneous|sc|皮下)\b/i, 'sc'],
];
const DOSE =
  /^\s*(?:(?:to|at|of|dose of|increased to|reduced to|up to|,|:)\s*)*(\d+(?:[.,]\d+)?)\s*(mg|mcg|µg|ug|g|micrograms?|milligrams?|grams?)(?![a-z])/i;

/** The dose, route and frequency written right after a mention (within the same clause). */
function regimenAfter(text: string): Pick<Mention, 'dose' | 'route' | 'frequencyPerDay'> {
  const clause = text.slice(0, 80).split(/[;。；]|\.\s/)[0]!;
  const d = DOSE.exec(clause);
  if (!d) return { dose: null, route: null, frequencyPerDay: null };
  const unit = d[2]!
    .toLowerCase()
    .replace(/^micrograms?$/, 'mcg')
    .replace(/^milligrams?$/, 'mg')
    .replace(/^grams?$/, 'g');
  const value = Number(d[1]!.replace(',', '.'));
  let rest = clause.slice(d.index + d[0].length).trimStart();
  let route: string | null = null;
  for (const [re, r] of ROUTES) {
    const m = re.exec(rest);
    if (m) {
      route = r;
      rest = rest.slice(m[0].length).trimStart();
      break;
    }
  }
  let frequencyPerDay: number | null = null;
  for (const [re, n] of FREQUENCIES)
    if (re.test(rest)) {
      frequencyPerDay = n;
      break;
    }
  return {
    dose: convertMass(value, unit, 'mg') === null ? null : { value, unit },
    route,
    frequencyPerDay,
  };
}

/**
 * Every medicine (or, with CONCEPT_TYPES, every concept) the text names, in order, longest name
 * first where names overlap. Names shorter than four letters count only when written in
 * capitals ("CKD", "INR"), so short words are not read as abbreviations.
 */
export function findMentions(
  kb: KbSnapshot,
  text: string,
  types: ReadonlySet<EntityTypeName> = MEDICATION_TYPES,
): Mention[] {
  const out: Mention[] = [];
  const taken: Array<[number, number]> = [];
  const free = (a: number, b: number) => taken.every(([x, y]) => b <= x || a >= y);
  // Each word and each separator is folded once; a phrase's fold is theirs joined (foldPiece).
  const words = [...text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’\-/]*/gu)].map((m) => ({
    w: m[0],
    start: m.index,
    folded: foldPiece(m[0]),
    cjk: hasCjk(m[0]),
  }));
  const cjkBefore = [0];
  for (const w of words) cjkBefore.push(cjkBefore.at(-1)! + (w.cjk ? 1 : 0));
  const sepAfter = words.map((w, k) =>
    k + 1 < words.length ? foldPiece(text.slice(w.start + w.w.length, words[k + 1]!.start)) : '',
  );
  for (let i = 0; i < words.length; i++) {
    let key = '';
    const keys: string[] = [];
    for (let n = 1; n <= Math.min(MAX_WORDS, words.length - i); n++) {
      key += (n > 1 ? sepAfter[i + n - 2]! : '') + words[i + n - 1]!.folded;
      keys.push(key);
    }
    // A phrase of several words can only be a name that starts with this word.
    const longest = starters(kb).has(words[i]!.folded) ? keys.length : 1;
    for (let n = longest; n >= 1; n--) {
      const first = words[i]!;
      const last = words[i + n - 1]!;
      const end = last.start + last.w.length;
      // (Words are read left to right and a match moves past its words, so they never overlap here.)
      if (cjkBefore[i + n]! - cjkBefore[i]! > 0) continue;
      const phrase = text.slice(first.start, end);
      if (phrase.length < 4 && !(phrase.length === 3 && /^[A-Z0-9]+$/.test(phrase))) continue;
      const hit = kb.names
        .get(keys[n - 1]!.trim())
        ?.find((h) => proseName(kb.entities.get(h.entityId)?.type, h.kind, types));
      if (!hit) continue;
      taken.push([first.start, end]);
      out.push({
        text: phrase,
        start: first.start,
        entityId: hit.entityId,
        name: kb.entities.get(hit.entityId)!.name,
        ...regimenAfter(text.slice(end)),
        stopped: stoppedAt(text, first.start, end),
      });
      i += n - 1;
      break;
    }
  }
  if (hasCjk(text)) {
    const folded = text.normalize('NFKC');
    for (const { name, entityId } of chineseNames(kb, types)) {
      let at = folded.indexOf(name);
      while (at >= 0) {
        if (free(at, at + name.length)) {
          taken.push([at, at + name.length]);
          out.push({
            text: name,
            start: at,
            entityId,
            name: kb.entities.get(entityId)!.name,
            ...regimenAfter(folded.slice(at + name.length)),
            stopped: stoppedAt(folded, at, at + name.length),
          });
        }
        at = folded.indexOf(name, at + name.length);
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
