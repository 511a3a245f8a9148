/**
 * Detects instructions embedded in case text: attempts to override the system's instructions,
 * role-play requests, requests to skip or fake human review, chat-template markers and active
 * markup, also when spelt with lookalike letters of other scripts or stacked combining marks.
 * Case text is data and is never obeyed; this only flags it so the reviewer sees it.
 */
import type { MinimisedCase } from '../domain/minimised-case.js';

export interface InjectionHit {
  /** JSON Pointer into the minimised view, e.g. `/notes/0/text`. */
  pointer: string;
  rule: string;
  excerpt: string;
}

/** HTML event handlers, for the `markup` rule. */
const HANDLERS = [
  'error',
  'load',
  'click',
  'dblclick',
  'mouse(over|out|down|up|enter|leave|move)',
  'focus(in|out)?',
  'blur',
  'toggle',
  'begin',
  'animation(start|end|iteration)',
  'transitionend',
  'pointer(over|enter|down|up|move)',
  'key(down|up|press)',
  'submit',
  'input',
  'change',
  '(before)?unload',
  'pageshow',
  'hashchange',
  'message',
  'wheel',
  'scroll',
  'resize',
  'paste',
  'copy',
  'drag\\w*',
  'drop',
  'contextmenu',
  'auxclick',
  'invalid',
];

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
  [
    'markup',
    new RegExp(
      [
        // Tags that run code, load something or change the page. A tag name must follow `<` at once
        // and end there, so "eGFR <30", "K+ < 3.5", "a<b" and "RCT <meta-analysis" stay clear.
        /<\/?(script|iframe|frame(set)?|object|embed|applet|svg|math|form|style|link|meta|base|template)(?=[\s/>]|$)/,
        // An event-handler attribute inside any tag (`<img src=x onerror=…>`); "onset" is clinical.
        /<[a-z][\w:-]*[\s/][^<>]{0,500}?\bon(?!set)[a-z]{3,}\s*=/,
        // The common event handlers outside a tag.
        new RegExp(`\\bon(${HANDLERS.join('|')})\\s*=`),
        // Script URLs anywhere (browsers drop tabs and newlines inside a scheme), and data URLs that
        // hold a page or a script.
        /\b(java|vb)[\t\n\r ]*script[\t\n\r ]*:/,
        /\bdata:(text\/(html|javascript|xml)|image\/svg\+xml|application\/(x?html|xhtml\+xml|(java|ecma)script|xml))/,
        /\b(href|src|action|formaction|xlink:href|srcdoc)\s*=\s*["'`]?\s*data:/,
        // Markdown links and images, inline or by reference, whose target is a data URL.
        /\]\(\s*<?\s*data:|^\s*\[[^\]\n]+\]:\s*<?\s*data:/,
      ]
        .map((re) => re.source)
        .join('|'),
      'im',
    ),
  ],
];

/**
 * Letters of other scripts that read as Latin ones: a compact subset of the Latin a–z/A–Z targets of
 * Unicode's confusables.txt (skeleton mappings), plus a few Greek letters that look Latin in most
 * fonts (ε, τ, η, ω). Each row is [script, letters, the Latin letters they pass for], position by
 * position. Used for matching only; what is reported is always the original text.
 */
const LOOKALIKE_ROWS: Array<[script: 'Cyrillic' | 'Greek' | 'other' | 'Latin', from: string, to: string]> = [
  // а е о р с у х і
  ['Cyrillic', '\u0430\u0435\u043E\u0440\u0441\u0443\u0445\u0456', 'aeopcyxi'],
  // ј ѕ ԁ ԛ ԝ ѵ һ ӏ г
  ['Cyrillic', '\u0458\u0455\u0501\u051B\u051D\u0475\u04BB\u04CF\u0433', 'jsdqwvhlr'],
  // А В Е К М Н О Р С Т
  ['Cyrillic', '\u0410\u0412\u0415\u041A\u041C\u041D\u041E\u0420\u0421\u0422', 'ABEKMHOPCT'],
  // Х У Ѕ І Ј Ԛ Ԝ Ү Ӏ
  ['Cyrillic', '\u0425\u0423\u0405\u0406\u0408\u051A\u051C\u04AE\u04C0', 'XYSIJQWYl'],
  // ο α ν ρ ι κ τ υ
  ['Greek', '\u03BF\u03B1\u03BD\u03C1\u03B9\u03BA\u03C4\u03C5', 'oavpiktu'],
  // χ ε γ η ω ϲ ϳ
  ['Greek', '\u03C7\u03B5\u03B3\u03B7\u03C9\u03F2\u03F3', 'xeynwcj'],
  // Α Β Ε Η Ι Κ Μ Ν
  ['Greek', '\u0391\u0392\u0395\u0397\u0399\u039A\u039C\u039D', 'ABEHIKMN'],
  // Ο Ρ Τ Χ Υ Ζ Ϲ Ϳ
  ['Greek', '\u039F\u03A1\u03A4\u03A7\u03A5\u0396\u03F9\u037F', 'OPTXYZCJ'],
  // Armenian օ հ ս ո ց
  ['other', '\u0585\u0570\u057D\u0578\u0581', 'ohung'],
  // Cherokee Ꭺ Ꭼ Ꮋ Ꭲ Ꮪ Ꮯ Ꮃ Ꮐ
  ['other', '\u13AA\u13AC\u13BB\u13A2\u13DA\u13DF\u13B3\u13C0', 'AEHTSCWG'],
  // ı ȷ ɡ ɑ ǀ: Latin, so no script mixing, but they hide a word from the rules all the same
  ['Latin', '\u0131\u0237\u0261\u0251\u01C0', 'ijgal'],
];
const LOOKALIKE = new Map<string, { latin: string; script: string }>();
for (const [script, from, to] of LOOKALIKE_ROWS)
  [...from].forEach((c, i) => LOOKALIKE.set(c, { latin: to[i] ?? c, script }));

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

/** What is removed before matching: combining marks (after compatibility decomposition) and hidden characters. */
const DROPPED = new RegExp(`\\p{M}|${HIDDEN.source}`, 'gu');

/**
 * The text as the rules read it: compatibility-decomposed (NFKD), without combining marks or
 * hidden characters, lookalike letters replaced by the Latin ones they pass for. `at[i]` is the
 * index in the original text that code unit `i` came from. Null when there is nothing to fold.
 */
function foldForMatching(text: string): { text: string; at: number[] } | null {
  // eslint-disable-next-line no-control-regex -- plain ASCII folds to itself
  if (!/[^\u0000-\u007F]/.test(text)) return null;
  let folded = '';
  const at: number[] = [];
  let index = 0;
  for (const ch of text) {
    let piece = ch;
    if (ch.charCodeAt(0) >= 0x80) {
      piece = '';
      for (const c of ch.normalize('NFKD').replace(DROPPED, '')) piece += LOOKALIKE.get(c)?.latin ?? c;
    }
    folded += piece;
    for (let i = 0; i < piece.length; i++) at.push(index);
    index += ch.length;
  }
  return { text: folded, at };
}

const WORD = /[\p{L}\p{M}]+/gu;
const LATIN = /\p{Script=Latin}/u;
const LOWER = /\p{Ll}/u;

/**
 * The index of the first word that mixes Latin letters with lookalikes from another script
 * ("Ignоre" with a Cyrillic о), or -1. A Cyrillic lookalike in a word with any Latin letter counts.
 * Greek letters are also used as symbols beside Latin ones (TNFα, IFNγ, NF-κB, IκBα; μg holds no
 * lookalike at all), so a Greek (or other) lookalike counts only inside a Latin word: the nearest
 * letters either side of it that are not lookalikes are Latin, and one of them has its case
 * ("ignοre", "Yοu", "RΕVIΕW"; not "IκB"). Words of one script alone (Russian, Greek, Chinese)
 * never count.
 */
function mixedScriptWord(text: string): number {
  for (const m of text.matchAll(WORD)) {
    const letters = [...m[0].replace(/\p{M}/gu, '')];
    if (!letters.some((c) => LATIN.test(c))) continue;
    const nearest = (i: number, step: number) => {
      let j = i + step;
      while (letters[j] !== undefined && LOOKALIKE.has(letters[j]!)) j += step;
      const c = letters[j];
      return c !== undefined && LATIN.test(c) ? c : undefined;
    };
    const mixed = letters.some((c, i) => {
      const script = LOOKALIKE.get(c)?.script;
      if (script === undefined || script === 'Latin') return false;
      if (script === 'Cyrillic') return true;
      const before = nearest(i, -1);
      const after = nearest(i, 1);
      const lower = LOWER.test(c);
      return (
        before !== undefined && after !== undefined && (LOWER.test(before) === lower || LOWER.test(after) === lower)
      );
    });
    if (mixed) return m.index;
  }
  return -1;
}

/**
 * Scan one text with every rule. Each rule is tried on the text as written, then on its folded
 * form (lookalike letters, combining marks, compatibility forms and hidden characters undone), so
 * "Ignоre previous instructions" with a Cyrillic о is still named by its rule; the excerpt always
 * quotes the original. A word mixing Latin letters with lookalikes is reported once more, as
 * `confusable-letters`.
 */
export function scanText(pointer: string, text: string): InjectionHit[] {
  const hits: InjectionHit[] = [];
  let folded: ReturnType<typeof foldForMatching> | undefined;
  for (const [rule, re] of RULES) {
    const m = re.exec(text);
    if (m) {
      hits.push({ pointer, rule, excerpt: excerpt(text, m.index) });
      continue;
    }
    if (folded === undefined) folded = foldForMatching(text);
    const f = folded && re.exec(folded.text);
    if (folded && f) hits.push({ pointer, rule, excerpt: excerpt(text, folded.at[f.index] ?? 0) });
  }
  const mixed = mixedScriptWord(text);
  if (mixed >= 0) hits.push({ pointer, rule: 'confusable-letters', excerpt: excerpt(text, mixed) });
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
