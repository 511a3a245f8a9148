/**
 * Literature tool contract (PubMed E-utilities semantics): a step's intent becomes a query;
 * the answer is typed citations with real PMIDs. The client and the local E-utilities service
 * are the literature issue; the graph depends only on this contract.
 */
import { z } from 'zod';
import { EvidenceLevel, Quote } from '../../domain/literature.js';
import type { Evidence } from '../../domain/plan.js';

export const LiteratureQuery = z.object({
  /** Why the step searches, in words (from the planner). */
  intent: z.string().min(3).max(500),
  /** Concepts to search for: conditions, drugs, outcomes (no PHI). */
  terms: z.array(z.string().min(1).max(200)).min(1).max(20),
  /** Other names for each term (by position), OR-ed with it: the knowledge base's synonyms and MeSH names. */
  synonyms: z
    .array(z.array(z.string().min(1).max(200)).max(10))
    .max(20)
    .default([]),
  humansOnly: z.boolean().default(true),
  sinceYears: z.number().int().min(1).max(100).nullable().default(10),
  publicationTypes: z.array(z.string()).default([]),
  topK: z.number().int().min(1).max(50).default(5),
});
export type LiteratureQuery = z.input<typeof LiteratureQuery>;

export const Citation = z.object({
  /** PubMed id, digits only; cited as `pmid:<id>`. */
  pmid: z.string().regex(/^\d{1,9}$/),
  title: z.string(),
  journal: z.string(),
  year: z.number().int().nullable(),
  authors: z.array(z.string()),
  publicationTypes: z.array(z.string()),
  mesh: z.array(z.string()),
  abstract: z.string().nullable(),
  /** The part of the record that matched (the supporting quote's text). */
  snippet: z.string().nullable(),
  /** The sentence that supports the citation, with its section and offsets (CONCLUSIONS first). */
  quote: Quote.nullable().default(null),
  /** From publication types and study-design MeSH; citations are ordered by it. */
  evidenceLevel: EvidenceLevel.default('other'),
});
export type Citation = z.infer<typeof Citation>;

export const LiteratureResult = z.object({ query: z.string(), citations: z.array(Citation) });
export type LiteratureResult = z.infer<typeof LiteratureResult>;

/** PMIDs a reviewer attaches to an edit, with what they searched for (for the supporting sentence). */
export const LiteratureLookup = z.object({
  pmids: z
    .array(z.string().regex(/^\d{1,9}$/, 'a PMID is digits'))
    .min(1)
    .max(20),
  about: z.array(z.string().min(1).max(200)).max(20).default([]),
});
export type LiteratureLookup = z.input<typeof LiteratureLookup>;

export interface LiteratureClient {
  search(query: LiteratureQuery, signal: AbortSignal): Promise<{ data: LiteratureResult; version: string | null }>;
  /** The records for these PMIDs (unknown ones left out, never invented), in the order asked. */
  lookup(query: LiteratureLookup, signal: AbortSignal): Promise<{ data: Citation[]; version: string | null }>;
}

/** A citation as the evidence a statement cites (`pmid:<id>`), with its PubMed link, quote and level. */
export function citationEvidence(c: Citation): Evidence {
  return {
    id: `pmid:${c.pmid}`,
    kind: 'pubmed',
    title: c.title,
    detail: c.snippet,
    source: [c.journal, c.year ? `(${c.year})` : ''].filter(Boolean).join(' '),
    url: `https://pubmed.ncbi.nlm.nih.gov/${c.pmid}/`,
    quote: c.quote,
    level: c.evidenceLevel,
  };
}
