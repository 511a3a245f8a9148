/**
 * What a citation's reader needs beyond its id: its evidence level, from the publication types
 * NLM assigns and the study-design MeSH descriptors NLM indexes studies with; and the sentence that
 * supports it, with its section and character offsets in the abstract (CONCLUSIONS first for
 * structured abstracts).
 */
import { EvidenceLevel, type Quote } from '../../domain/literature.js';

export { EvidenceLevel, LEVEL_LABEL, Quote } from '../../domain/literature.js';

/** Strongest first: the order citations are shown in. */
export const LEVEL_ORDER: readonly EvidenceLevel[] = EvidenceLevel.options;

const lower = (xs: readonly string[]) => new Set(xs.map((x) => x.toLowerCase()));

/**
 * The level of a record. Publication types (PubMed's [pt]) decide; the study-design descriptors
 * (Cohort Studies, Prospective/Retrospective Studies, Case-Control Studies, Longitudinal and
 * Follow-Up Studies) place an indexed observational study. "… as Topic" descriptors are about
 * studies, not studies themselves, and are not used.
 */
export function evidenceLevel(publicationTypes: readonly string[], mesh: readonly string[]): EvidenceLevel {
  const pt = lower(publicationTypes);
  const mh = lower(mesh);
  if (['practice guideline', 'guideline', 'consensus development conference'].some((t) => pt.has(t)))
    return 'practice_guideline';
  if (['meta-analysis', 'systematic review'].some((t) => pt.has(t))) return 'systematic_review';
  if (['randomized controlled trial', 'equivalence trial', 'pragmatic clinical trial'].some((t) => pt.has(t)))
    return 'randomised_trial';
  if (
    pt.has('observational study') ||
    [
      'cohort studies',
      'prospective studies',
      'retrospective studies',
      'case-control studies',
      'longitudinal studies',
      'follow-up studies',
    ].some((t) => mh.has(t))
  )
    return 'cohort_case_control';
  if (pt.has('case reports')) return 'case_report';
  return 'other';
}

const LABEL = /(?:^|\s)([A-Z][A-Z ,&/-]{1,40}[A-Z]): /g;

/** The sections of a structured abstract ("LABEL: text" parts) with their offsets; one unlabelled section otherwise. */
export function sections(abstract: string): Array<{ label: string | null; start: number; end: number }> {
  const marks = [...abstract.matchAll(LABEL)].map((m) => ({
    label: m[1]!,
    at: m.index + (m[0].length - m[1]!.length - 2),
    textStart: m.index + m[0].length,
  }));
  if (!marks.length) return [{ label: null, start: 0, end: abstract.length }];
  const out: Array<{ label: string | null; start: number; end: number }> = [];
  if (marks[0]!.at > 0 && abstract.slice(0, marks[0]!.at).trim())
    out.push({ label: null, start: 0, end: marks[0]!.at });
  marks.forEach((m, i) => out.push({ label: m.label, start: m.textStart, end: marks[i + 1]?.at ?? abstract.length }));
  return out;
}

const CONCLUDING = /^CONCLUSIONS?( AND (RELEVANCE|IMPLICATIONS))?$|^INTERPRETATION$|^IMPLICATIONS?/;

/**
 * The supporting sentence: the sentence with the most of the query's words, looked for in the
 * conclusions first (a structured abstract's conclusion states the finding), then anywhere; the
 * conclusions' first sentence when no sentence has a query word; the title when there is no
 * abstract. Offsets point into the abstract (or the title).
 */
export function supportingQuote(
  r: { title: string; abstract: string | null },
  terms: readonly string[],
  maxLength = 400,
): Quote | null {
  const words = [
    ...new Set(terms.flatMap((t) => t.toLowerCase().split(/[^\p{L}\p{N}]+/u)).filter((w) => w.length > 2)),
  ];
  const abstract = r.abstract ?? '';
  const candidates = sections(abstract).flatMap((s) =>
    [...abstract.slice(s.start, s.end).matchAll(/[^.!?]+(?:[.!?]+(?=\s|$)|$)/g)].flatMap((m) => {
      const raw = m[0];
      const lead = raw.length - raw.trimStart().length;
      const text = raw.trim();
      if (text.length < 3) return [];
      const start = s.start + m.index + lead;
      const hits = words.filter((w) => text.toLowerCase().includes(w)).length;
      return [
        { text, start, end: start + text.length, section: s.label, hits, concluding: CONCLUDING.test(s.label ?? '') },
      ];
    }),
  );
  const best = (xs: typeof candidates) =>
    xs.reduce<(typeof candidates)[number] | null>((b, c) => (!b || c.hits > b.hits ? c : b), null);
  const concluding = candidates.filter((c) => c.concluding);
  const pick =
    best(concluding.filter((c) => c.hits > 0)) ?? best(candidates.filter((c) => c.hits > 0)) ?? concluding[0] ?? null;
  if (pick) {
    const end = pick.text.length > maxLength ? pick.start + maxLength : pick.end;
    return { text: abstract.slice(pick.start, end), section: pick.section, start: pick.start, end };
  }
  if (r.title)
    return { text: r.title.slice(0, maxLength), section: 'TITLE', start: 0, end: Math.min(r.title.length, maxLength) };
  return candidates[0]
    ? {
        text: candidates[0].text.slice(0, maxLength),
        section: candidates[0].section,
        start: candidates[0].start,
        end: candidates[0].start + Math.min(candidates[0].text.length, maxLength),
      }
    : null;
}
