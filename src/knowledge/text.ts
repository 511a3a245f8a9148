/**
 * Text folding for term matching: what cases and clinicians write ("Metoprolol succinate ER
 * 47.5 mg tab", "盐酸二甲双胍缓释片", "Co-Amoxiclav 625mg") reduced step by step to forms the
 * name index can match exactly. Each step is conservative: it only removes packaging, strength
 * and salt words; it never changes the drug word itself. Matching is exact after folding; a
 * term that still does not match is unknown (suggestions are offered, never used).
 */

const CJK = /[\u3400-\u9fff]/;

/** Unicode-normalise, lower-case, unify dashes and spaces, drop trademark signs. */
export function foldText(s: string): string {
  return foldPiece(s).trim();
}

/**
 * foldText without the final trim: folding is character-local, so a phrase folds to its words'
 * and separators' folds joined (what the mention scanner uses to fold each word once).
 */
export function foldPiece(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[®™©]/g, '')
    .replace(/[‐‑‒–—−]/g, '-')
    .replace(/[’'`"“”]/g, '')
    .replace(/\s+/g, ' ');
}

const FORM_WORDS = [
  'tablets?',
  'tabs?',
  'capsules?',
  'caps?',
  'caplets?',
  'film[- ]coated',
  'chewable',
  'dispersible',
  'effervescent',
  'orally disintegrating',
  'odt',
  'oral',
  'po',
  'solution',
  'suspension',
  'syrup',
  'elixir',
  'drops?',
  'injection',
  'injectable',
  'infusion',
  'iv',
  'im',
  'sc',
  'vials?',
  'ampoules?',
  'pre-?filled syringe',
  'pens?',
  'auto-?injectors?',
  'inhalers?',
  'inhalation',
  'nebuli[sz]er solution',
  'cream',
  'ointment',
  'gel',
  'patch(es)?',
  'transdermal',
  'suppositor(y|ies)',
  'extended[- ]release',
  'modified[- ]release',
  'sustained[- ]release',
  'delayed[- ]release',
  'controlled[- ]release',
  'prolonged[- ]release',
  'immediate[- ]release',
  'gastro[- ]resistant',
  'enteric[- ]coated',
  'ds',
  'forte',
  'double strength',
  'extra strength',
  'maximum strength',
  'er',
  'xr',
  'xl',
  'sr',
  'cr',
  'dr',
  'la',
  'mr',
  'ec',
  'cd',
  'm/r',
  'otc',
  'generic',
  'daily',
  'once',
  'twice',
];
const FORM_RE = new RegExp(`(^|[\\s,;(])(${FORM_WORDS.join('|')})(?=$|[\\s,;).])`, 'g');
const STRENGTH_RE =
  /\b\d+(?:[.,]\d+)?\s*(?:mg|mcg|µg|ug|g|ng|ml|l|units?|iu|%|mmol|meq)(?:\s*\/\s*\d*(?:[.,]\d+)?\s*(?:ml|l|h|hr|hours?|day|dose|actuation|puff))?\b/g;
const NUMBER_RE = /(^|\s)\d+(?:[.,]\d+)?(?=\s|$)/g;

/** Chinese dosage-form and packaging suffixes, longest first. */
const ZH_FORMS = [
  '缓释胶囊',
  '肠溶胶囊',
  '缓释片',
  '控释片',
  '肠溶片',
  '分散片',
  '咀嚼片',
  '泡腾片',
  '口崩片',
  '薄膜衣片',
  '注射液',
  '注射剂',
  '口服溶液',
  '口服液',
  '混悬液',
  '干混悬剂',
  '颗粒剂',
  '颗粒',
  '胶囊',
  '片剂',
  '滴眼液',
  '软膏',
  '乳膏',
  '凝胶',
  '贴剂',
  '喷雾剂',
  '气雾剂',
  '吸入剂',
  '糖浆',
  '片',
  '针',
];

/** English salt and hydrate words, removed only after the whole term failed to match. */
const SALT_WORDS = [
  'hydrochloride',
  'chloride',
  'macrocrystals',
  'macrocrystalline',
  'hcl',
  'dihydrochloride',
  'hydrobromide',
  'sodium',
  'potassium',
  'calcium',
  'magnesium',
  'maleate',
  'besylate',
  'besilate',
  'mesylate',
  'mesilate',
  'succinate',
  'tartrate',
  'fumarate',
  'citrate',
  'phosphate',
  'sulfate',
  'sulphate',
  'acetate',
  'bromide',
  'hyclate',
  'monohydrate',
  'dihydrate',
  'trihydrate',
  'hemihydrate',
  'sesquihydrate',
  'anhydrous',
  'disodium',
  'dipropionate',
  'propionate',
  'valerate',
  'trometamol',
  'tromethamine',
  'axetil',
  'pivoxil',
  'medoxomil',
  'cilexetil',
  'estolate',
  'ethylsuccinate',
  'stearate',
  'lactate',
  'gluconate',
  'carbonate',
  'bitartrate',
  'erbumine',
  'arginine',
  'tert-butylamine',
  'malate',
  'napsylate',
  'xinafoate',
  'furoate',
];
const SALT_RE = new RegExp(`\\b(${SALT_WORDS.join('|')})\\b`, 'g');
/** Chinese salt words: acid prefixes (盐酸二甲双胍) and cation suffixes (华法林钠, 氯沙坦钾, 阿托伐他汀钙). */
const ZH_SALT_PREFIXES = [
  '二盐酸',
  '盐酸',
  '氢溴酸',
  '硫酸',
  '马来酸',
  '苯磺酸',
  '甲磺酸',
  '酒石酸',
  '琥珀酸',
  '富马酸',
  '磷酸',
  '枸橼酸',
  '醋酸',
  '乳酸',
  '葡萄糖酸',
];
const ZH_SALT_SUFFIXES = ['钠', '钾', '钙', '镁'];

const tidy = (s: string) =>
  s
    .replace(/[(),;]/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/^[\s-]+|[\s-]+$/g, '')
    .trim();

/** Remove strengths, dosage forms and packaging words (English and Chinese). */
export function stripForms(folded: string): string {
  // Bracketed words go, innermost first (each pass is linear: a bracket's body holds no bracket,
  // so no start re-scans another's; a few passes cover real nesting, and an unclosed bracket stays).
  let s = folded;
  for (let pass = 0; pass < 3; pass++) s = s.replace(/\[[^[\]]*\]|\([^()]*\)/g, ' ');
  s = s.replace(STRENGTH_RE, ' ');
  let previous = '';
  while (previous !== s) {
    previous = s;
    s = s.replace(FORM_RE, ' ').replace(NUMBER_RE, ' ');
  }
  s = tidy(s);
  if (CJK.test(s)) {
    for (const suffix of ZH_FORMS) {
      if (s.endsWith(suffix) && s.length > suffix.length + 1) {
        s = s.slice(0, -suffix.length);
        break;
      }
    }
  }
  return s;
}

/** Remove salt and hydrate words. Returns the input unchanged when nothing would remain. */
export function stripSalts(s: string): string {
  let out = tidy(s.replace(SALT_RE, ' '));
  if (CJK.test(out)) {
    for (const p of ZH_SALT_PREFIXES) if (out.startsWith(p) && out.length > p.length + 1) out = out.slice(p.length);
    for (const x of ZH_SALT_SUFFIXES) if (out.endsWith(x) && out.length > x.length + 1) out = out.slice(0, -x.length);
  }
  return out || s;
}

/** Split a combination written as "a/b", "a + b" or "a and b" into its parts (at most 4). */
export function splitCombination(s: string, hyphen = false): string[] | null {
  const parts = s
    .split(hyphen ? /\s*-\s*/ : /\s*(?:\/|\+|,| and | with |&)\s*/)
    .map((p) => p.trim())
    .filter(Boolean);
  return parts.length >= 2 && parts.length <= 4 ? parts : null;
}

export const hasCjk = (s: string) => CJK.test(s);

/** Levenshtein distance, capped: returns `cap + 1` as soon as the distance exceeds `cap`. */
export function editDistance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) > cap) return cap + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      if (v < best) best = v;
    }
    if (best > cap) return cap + 1;
    prev = row;
  }
  return prev[b.length]!;
}
