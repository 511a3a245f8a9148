/**
 * Medicines named in free text (a plan statement), found by the knowledge base's own names —
 * generic, brand, salt, curated misspellings, Chinese — never by guessing: what verification
 * checks, whatever list a model attached to the statement. Each mention carries the dose, route
 * and frequency written right after it ("ibuprofen 400 mg three times daily", "metformin to 3 g
 * twice daily"). Lay names ("the pill", "contrast") are not used on prose, where they are common
 * words.
 */
import { convertMass } from './renal.js';
import type { KbSnapshot } from './snapshot.js';
import { foldText, hasCjk } from './text.js';

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
}

const MEDICATION_TYPES = new Set(['ingredient', 'product']);
const PROSE_KINDS = new Set(['preferred', 'generic', 'brand', 'salt', 'misspelling', 'chinese', 'abbreviation']);
const MAX_WORDS = 4;

/** Per snapshot: the Chinese medication names, longest first (Chinese text has no spaces to split on). */
const cjkNames = new WeakMap<KbSnapshot, Array<{ name: string; entityId: string }>>();
function chineseNames(kb: KbSnapshot) {
  let list = cjkNames.get(kb);
  if (!list) {
    list = [];
    for (const [folded, hits] of kb.names)
      if (hasCjk(folded) && folded.length >= 2)
        for (const h of hits)
          if (MEDICATION_TYPES.has(kb.entities.get(h.entityId)?.type ?? '') && PROSE_KINDS.has(h.kind))
            list.push({ name: folded, entityId: h.entityId });
    list.sort((a, b) => b.name.length - a.name.length);
    cjkNames.set(kb, list);
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

/** Every medicine the text names, in order, longest name first where names overlap. */
export function findMentions(kb: KbSnapshot, text: string): Mention[] {
  const out: Mention[] = [];
  const taken: Array<[number, number]> = [];
  const free = (a: number, b: number) => taken.every(([x, y]) => b <= x || a >= y);
  const words = [...text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’\-/]*/gu)].map((m) => ({ w: m[0], start: m.index }));
  for (let i = 0; i < words.length; i++) {
    for (let n = Math.min(MAX_WORDS, words.length - i); n >= 1; n--) {
      const first = words[i]!;
      const last = words[i + n - 1]!;
      const end = last.start + last.w.length;
      const phrase = text.slice(first.start, end);
      if (phrase.length < 4 || hasCjk(phrase) || !free(first.start, end)) continue;
      const hit = kb.names
        .get(foldText(phrase))
        ?.find((h) => MEDICATION_TYPES.has(kb.entities.get(h.entityId)?.type ?? '') && PROSE_KINDS.has(h.kind));
      if (!hit) continue;
      taken.push([first.start, end]);
      out.push({
        text: phrase,
        start: first.start,
        entityId: hit.entityId,
        name: kb.entities.get(hit.entityId)!.name,
        ...regimenAfter(text.slice(end)),
      });
      i += n - 1;
      break;
    }
  }
  if (hasCjk(text)) {
    const folded = text.normalize('NFKC');
    for (const { name, entityId } of chineseNames(kb)) {
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
          });
        }
        at = folded.indexOf(name, at + name.length);
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
