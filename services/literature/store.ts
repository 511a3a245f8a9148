/**
 * What the local literature service serves from: the in-memory BM25 index (`search-index.ts`,
 * the default) or PostgreSQL full-text search (`pg-index.ts`, LITERATURE_BACKEND=postgres) for
 * corpora past one process's memory. Both answer the same PubMed-style queries
 * (`src/tools/literature/query.ts`) and give the same records back; only the ranking differs
 * (BM25 against PostgreSQL's cover density), as docs/literature.md describes.
 */
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';

export interface StoreSearch {
  /** Every matching document. */
  count: number;
  /** The requested page of PMIDs, best first (ties: newest PMID first). */
  ids: string[];
  /** Their scores on the backend's own scale (0 for documents matched by filters only). */
  scores: number[];
}

export interface LiteratureStore {
  readonly backend: 'memory' | 'postgres';
  /** Records held. */
  readonly size: number;
  /** Identifies the corpus files the index was built from. */
  readonly fingerprint: string;
  find(query: string, opts?: { retstart?: number; retmax?: number }): Promise<StoreSearch>;
  /** The records for these PMIDs in the order asked, leaving out unknown ones (as NCBI does). */
  fetch(pmids: readonly string[]): Promise<PubmedRecord[]>;
  close(): Promise<void>;
}
