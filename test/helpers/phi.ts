/**
 * The PHI scan of the reliability suites: looks for the identifying strings of the input
 * bundles (names, MRNs, phones, e-mails, addresses, birth dates) in everything that left a
 * process — outbound requests to models, tools and webhooks — and in every log line.
 * Case-insensitive; identifiers shorter than four characters are skipped (they match by chance).
 */
export interface PhiHit {
  source: string;
  identifier: string;
  excerpt: string;
}

/** The shapes the suites' synthetic identities take (see withSyntheticIdentity): found by pattern, then looked up. */
const GENERATED = /syn[0-9a-f]{8}x\d+|syn\.[0-9a-f]{8}\.\d+@example\.invalid|\+44 1632 \d{6}|\b\d{4}-\d{2}-\d{2}\b/gi;
const isGenerated = (s: string) => new RegExp(`^(?:${GENERATED.source})$`, 'i').test(s);

export function scanForPhi(
  sources: Iterable<{ source: string; text: string }>,
  identifiers: Iterable<string>,
): PhiHit[] {
  const wanted = new Set([...identifiers].map((s) => s.toLowerCase()).filter((s) => s.length >= 4));
  const literal = [...wanted].filter((s) => !isGenerated(s));
  const hits: PhiHit[] = [];
  const excerpt = (text: string, at: number) => text.slice(Math.max(0, at - 60), at + 60);
  for (const { source, text } of sources) {
    const lower = text.toLowerCase();
    for (const m of lower.matchAll(GENERATED))
      if (wanted.has(m[0])) hits.push({ source, identifier: m[0], excerpt: excerpt(text, m.index) });
    for (const s of literal) {
      const at = lower.indexOf(s);
      if (at >= 0) hits.push({ source, identifier: s, excerpt: excerpt(text, at) });
    }
  }
  return hits;
}
