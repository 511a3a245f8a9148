/**
 * Open the local literature service's store as configured: the in-memory BM25 index (persisted
 * under LITERATURE_INDEX_DIR) or, with LITERATURE_BACKEND=postgres, PostgreSQL full-text search.
 */
import type { Config } from '../../src/config.js';
import { PgLiteratureIndex } from './pg-index.js';
import { LiteratureIndex, type Progress } from './search-index.js';
import type { LiteratureStore } from './store.js';

export async function openLiteratureStore(
  literature: Config['literature'],
  corpus: string,
  progress?: Progress,
): Promise<{ store: LiteratureStore; loaded: boolean }> {
  if (literature.backend === 'postgres') {
    if (!literature.databaseUrl) throw new Error('LITERATURE_BACKEND=postgres needs LITERATURE_DATABASE_URL'); // config refuses this already
    const { index, loaded } = await PgLiteratureIndex.open(literature.databaseUrl, corpus, progress);
    return { store: index, loaded };
  }
  const { index, loaded } = await LiteratureIndex.open(corpus, literature.indexDir, progress);
  return { store: index, loaded };
}
