/**
 * Detects instructions embedded in case text: attempts to override the system's instructions,
 * role-play requests, requests to skip or fake human review, and chat-template markers. Case
 * text is data and is never obeyed; this only flags it so the reviewer sees it.
 */
import type { MinimisedCase } from '../domain/minimised-case.js';

export interface InjectionHit {
  /** JSON Pointer into the minimised view, e.g. `/notes/0/text`. */
  pointer: string;
  rule: string;
  excerpt: string;
}

const RULES: Array<[string, RegExp]> = [
  [
    'override-instructions',
    /\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|system|your)\b[^.\n]{0,20}\b(instructions?|prompts?|rules?|guidelines?)\b/i,
  ],
  ['new-instructions', /\b(new|updated|real)\s+(system\s+)?instructions?\s*:/i],
  ['role-play', /\b(you are now|act as|pretend (to be|you are)|roleplay as|from now on you)\b/i],
  ['system-prompt', /\b(system prompt|developer message|jailbreak|DAN mode)\b/i],
  [
    'review-bypass',
    /\b(skip|bypass|avoid|no need for|without)\b[^.\n]{0,30}\b(human\s+|clinical\s+)?(review|approval|sign-?off)\b/i,
  ],
  ['fake-approval', /\b(mark|set|flag|record)\b[^.\n]{0,30}\b(as\s+)?(approved|signed off|finali[sz]ed|reviewed)\b/i],
  ['auto-approve', /\b(auto-?approve|approve (this|the) (plan|case))\b/i],
  [
    'approval-claim',
    /\b(plan|case)\b[^.\n]{0,30}\b(is |was |has been )?(pre-?approved|already approved|approved by|signed off by)\b|\bno (further )?(human |clinical )?review (is )?(required|needed|necessary)\b/i,
  ],
  ['chat-template', /(<\|im_(start|end)\|>|\[\/?INST\]|^\s*(system|assistant)\s*:|###\s*(instruction|system))/im],
];

/**
 * Characters that change how text reads without being visible: bidirectional overrides and
 * isolates (Trojan Source), zero-width characters, other format characters, C0/C1 controls
 * other than tab and newlines, and unpaired surrogates.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const HIDDEN = /[\p{Cf}\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]|\p{Cs}/gu;

/** Text as the system uses it: NFKC-normalised (full-width and compatibility forms folded), hidden characters removed. */
export function cleanText(text: string): string {
  return text.replace(HIDDEN, '').normalize('NFKC').replace(HIDDEN, '');
}

const codePoints = (chars: string[]) => {
  const counts = new Map<string, number>();
  for (const c of chars) {
    const cp = `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    counts.set(cp, (counts.get(cp) ?? 0) + 1);
  }
  return [...counts].map(([cp, n]) => (n > 1 ? `${cp} ×${n}` : cp)).join(', ');
};

/**
 * Find hidden characters anywhere in a submission (base64 attachment data aside). The hits
 * name the field and the code points, never the text: the raw submission may hold PHI.
 */
export function detectHiddenCharacters(submission: unknown, limit = 20): InjectionHit[] {
  const hits: InjectionHit[] = [];
  const walk = (value: unknown, pointer: string, depth: number): void => {
    if (hits.length >= limit || depth > 64) return;
    if (typeof value === 'string') {
      const found = value.match(HIDDEN);
      if (found) hits.push({ pointer, rule: 'hidden-characters', excerpt: codePoints(found) });
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${pointer}/${i}`, depth + 1));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value))
        if (k !== 'data') walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`, depth + 1);
    }
  };
  walk(submission, '', 0);
  return hits;
}

function excerpt(text: string, index: number): string {
  const start = Math.max(0, index - 30);
  return `${start > 0 ? '…' : ''}${text
    .slice(start, index + 90)
    .replace(/\s+/g, ' ')
    .trim()}${index + 90 < text.length ? '…' : ''}`;
}

export function scanText(pointer: string, text: string): InjectionHit[] {
  const hits: InjectionHit[] = [];
  for (const [rule, re] of RULES) {
    const m = re.exec(text);
    if (m) hits.push({ pointer, rule, excerpt: excerpt(text, m.index) });
  }
  return hits;
}

/** Fields of the view that are references or codes, not case text. */
const NOT_TEXT = new Set(['ref', 'loinc', 'codes', 'sex']);

/** Scan every text field of a minimised case (free text and short coded text alike), wherever it sits. */
export function detectInjections(view: MinimisedCase): InjectionHit[] {
  const hits: InjectionHit[] = [];
  const walk = (value: unknown, pointer: string): void => {
    if (typeof value === 'string') hits.push(...scanText(pointer, value));
    else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${pointer}/${i}`));
    else if (value && typeof value === 'object')
      for (const [k, v] of Object.entries(value)) if (!NOT_TEXT.has(k)) walk(v, `${pointer}/${k}`);
  };
  walk(view, '');
  return hits;
}
