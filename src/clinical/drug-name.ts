/** Drug names without strengths and packaging, e.g. "ibuprofen 400 mg tablets (OTC)" → "ibuprofen". */
export function coreDrugName(name: string): string {
  return name
    .replace(/\(.*?\)/g, ' ')
    .replace(/\b\d+(\.\d+)?\s*(mg|mcg|µg|g|ml|units?|iu|%)\b/gi, ' ')
    .replace(/\b(tablets?|capsules?|oral|solution|injection|cream|patch|modified[- ]release|m\/r|xl|sr)\b/gi, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}
