/**
 * Literature a reviewer attaches to an edit: the PMIDs the edit names in `attach` are fetched
 * from the server's own literature source (never taken from the request), each with its
 * supporting sentence for the statements that cite it and its evidence level, and recorded
 * with the decision; verification of the edited plan then resolves `pmid:<id>` citations to
 * them. A PMID the source does not have, or no literature source at all, refuses the decision:
 * nothing is recorded that cites a record nobody could fetch.
 */
import type { Evidence, PlanSections } from '../domain/plan.js';
import { SECTION_NAMES } from '../domain/plan.js';
import { ToolError } from '../tools/common.js';
import { citationEvidence, type LiteratureClient } from '../tools/literature/schema.js';
import { ReviewError } from '../queues/review-queue.js';

export async function attachedSources(
  client: LiteratureClient | null,
  attach: readonly string[],
  sections: PlanSections,
  signal: AbortSignal = AbortSignal.timeout(30_000),
): Promise<Evidence[]> {
  const pmids = [...new Set(attach)];
  if (!pmids.length) return [];
  if (!client)
    throw new ReviewError(
      'SOURCES_UNAVAILABLE',
      'literature search is not configured here, so attached PMIDs cannot be fetched; remove them or set LITERATURE_BASE_URL',
    );
  // What the citing statements say picks each record's supporting sentence.
  const about = [
    ...new Set(
      SECTION_NAMES.flatMap((name) =>
        sections[name]
          .filter((r) => pmids.some((id) => r.citations.includes(`pmid:${id}`)))
          .map((r) => r.text.slice(0, 200)),
      ),
    ),
  ].slice(0, 20);
  let found;
  try {
    found = (await client.lookup({ pmids, about }, signal)).data;
  } catch (err) {
    if (err instanceof ToolError)
      throw new ReviewError('SOURCES_UNAVAILABLE', `the literature source could not be reached (${err.code})`);
    throw err;
  }
  const missing = pmids.filter((id) => !found.some((c) => c.pmid === id));
  if (missing.length)
    throw new ReviewError(
      'SOURCE_NOT_FOUND',
      `the literature source has no record for PMID ${missing.join(', ')}; nothing was recorded`,
    );
  return found.map(citationEvidence);
}
