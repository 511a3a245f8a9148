/**
 * What a literature citation carries for its reader, shared by the literature tool (which
 * computes it), the plan's evidence and the review UI: its evidence level and its supporting quote.
 */
import { z } from 'zod';

/** From publication types and study-design MeSH (src/tools/literature/evidence.ts), strongest first. */
export const EvidenceLevel = z.enum([
  'practice_guideline',
  'systematic_review',
  'randomised_trial',
  'cohort_case_control',
  'case_report',
  'other',
]);
export type EvidenceLevel = z.infer<typeof EvidenceLevel>;

/** The sentence or section of a record that supports its citation, with its place in the record. */
export const Quote = z.object({
  text: z.string(),
  /** The abstract's section label (CONCLUSIONS, RESULTS …), `TITLE`, or null for an unstructured abstract. */
  section: z.string().nullable(),
  /** Offsets of `text` in the record's abstract (or title, when section is TITLE): text === source.slice(start, end). */
  start: z.number().int().min(0),
  end: z.number().int().min(0),
});
export type Quote = z.infer<typeof Quote>;

/** How a level reads to a reviewer. */
export const LEVEL_LABEL: Readonly<Record<EvidenceLevel, string>> = {
  practice_guideline: 'practice guideline',
  systematic_review: 'meta-analysis or systematic review',
  randomised_trial: 'randomised controlled trial',
  cohort_case_control: 'cohort or case-control study',
  case_report: 'case report',
  other: 'other study type',
};
