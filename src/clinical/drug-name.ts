/**
 * Drug names as records write them. RxNorm clinical and branded drug names follow one pattern
 * ("[quantity] ingredient strength [/ ingredient strength …] dose form [brand]", e.g.
 * "24 HR Metformin hydrochloride 500 MG Extended Release Oral Tablet",
 * "Amlodipine 5 MG / Hydrochlorothiazide 12.5 MG / Olmesartan medoxomil 20 MG Oral Tablet",
 * "Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray"); free-text names ("warfarin 5 mg") are the
 * one-ingredient case of it. Names that do not follow it are left whole.
 */

export interface DrugNameParts {
  ingredients: Array<{ name: string; strength: string | null }>;
  /** The dose form as written ("Extended Release Oral Tablet"), or null. */
  form: string | null;
  /** A bracketed brand ("[Toprol]"), or null. */
  brand: string | null;
  /** A leading quantity ("24 HR", "10 ML", "120 ACTUAT"), or null. */
  quantity: string | null;
}

const UNIT = '(?:MG|MCG|µG|UG|G|ML|L|UNT|UNITS?|IU|MEQ|MMOL|%|NG)';
const PER = '(?:ML|L|ACTUAT|HR|H|MG|G|DOSE|DAY|SQCM)';
const STRENGTH = `\\d+(?:[.,]\\d+)?(?:\\/\\d+(?:[.,]\\d+)?)?\\s*${UNIT}(?:\\s*\\/\\s*\\d*(?:[.,]\\d+)?\\s*${PER})?`;
/** One component: a name (not starting with a digit), its strength, then whatever follows (the form, for the last). */
const COMPONENT = new RegExp(`^(\\D.*?)\\s+(${STRENGTH})(?=$|[\\s,;(])\\s*(.*)$`, 'i');
const QUANTITY = /^(?:NDA\d+\s+)?(\d+(?:\.\d+)?\s*(?:HR|ML|ACTUAT|DAY))\s+(?=\D)/i;
const BRAND = /\s*\[([^\]]{1,100})\]\s*$/;

/** Split a drug name into ingredients, strengths and form; null when no component carries a strength. */
export function parseDrugName(name: string): DrugNameParts | null {
  let rest = name.replace(/\s+/g, ' ').trim();
  const brand = BRAND.exec(rest)?.[1]?.trim() ?? null;
  rest = rest.replace(BRAND, '');
  const quantity = QUANTITY.exec(rest)?.[1] ?? null;
  rest = rest.replace(QUANTITY, '');
  const parts = rest.split(/\s+\/\s+/);
  const ingredients: DrugNameParts['ingredients'] = [];
  let form: string | null = null;
  for (const [i, part] of parts.entries()) {
    const m = COMPONENT.exec(part);
    const last = i === parts.length - 1;
    if (!m) {
      // A component without a strength is a bare ingredient name, but only before the last one.
      if (last || !/^[\p{L}][\p{L}\s,.-]*$/u.test(part)) return null;
      ingredients.push({ name: part.trim(), strength: null });
      continue;
    }
    if (!last && m[3]) return null;
    ingredients.push({ name: m[1]!.trim(), strength: m[2]!.replace(/\s+/g, ' ').trim() });
    if (last) form = m[3]?.trim() || null;
  }
  if (!ingredients.some((x) => x.strength)) return null;
  return { ingredients, form, brand, quantity };
}

/** A name without strengths and packaging, e.g. "ibuprofen 400 mg tablets (OTC)" → "ibuprofen". */
function stripName(name: string): string {
  return (
    name
      .replace(/\(.*?\)/g, ' ')
      .replace(/\b\d+(\.\d+)?\s*(mg|mcg|µg|g|ml|units?|iu|%)\b/gi, ' ')
      // "oral" is a route before a form or at the end ("metformin oral tablet"), but part of the
      // name in "oral contraceptive".
      .replace(/\boral\b(?=\s+(tablets?|capsules?|solution|suspension|liquid|powder|granules|drops)\b|\s*$)/gi, ' ')
      .replace(
        /\b(tablets?|capsules?|solution|suspension|syrup|injection|cream|patch|modified[- ]release|m\/r|xl|sr)\b/gi,
        ' ',
      )
      .replace(/\s+/g, ' ')
      .trim()
      .toLowerCase()
  );
}

/**
 * Drug names without strengths and packaging: "ibuprofen 400 mg tablets (OTC)" → "ibuprofen";
 * an RxNorm-style name becomes its ingredients ("Nitroglycerin 0.4 MG/ACTUAT Mucosal Spray" →
 * "nitroglycerin", a combination → "amlodipine / hydrochlorothiazide / olmesartan medoxomil").
 */
export function coreDrugName(name: string): string {
  const parts = parseDrugName(name);
  return parts ? parts.ingredients.map((i) => stripName(i.name)).join(' / ') : stripName(name);
}
