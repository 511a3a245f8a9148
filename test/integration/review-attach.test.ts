/**
 * A reviewer attaches literature to an edit, over HTTP on real Redis with the real graph: the
 * edit cites `pmid:<id>` and lists the PMID in `attach`; the server fetches the record from its
 * literature source (the local E-utilities service over the synthetic, labelled PubMed fixture,
 * on a loopback socket) and records it with the decision; verification of the edited plan
 * resolves the citation to it, and the approved plan cites it. An unknown PMID refuses the
 * decision (nothing recorded, the claim kept); a `pmid:` citation without `attach` stays
 * unresolved; with no literature source the edit is refused as unavailable.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseView } from '../../src/domain/case.js';
import type { Plan } from '../../src/domain/plan.js';
import { hashToken } from '../../src/server/auth.js';
import { attachedSources } from '../../src/server/attachments.js';
import type { ReviewDetail } from '../../src/server/routes/reviews.js';
import { EutilsClient } from '../../src/tools/literature/eutils-client.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { buildLiteratureService } from '../../services/literature/server.js';
import { loadExampleCases } from '../helpers/cases.js';
import { testPlan } from '../helpers/review.js';
import { testConfig, TEST_TOKEN, uniquePrefix, waitUntil } from '../helpers/env.js';
import { startReviewStack, type ApiStack, type ReviewStack } from '../helpers/stack.js';

const CORPUS = path.resolve(import.meta.dirname, '../fixtures/literature/synthetic-pubmed.xml');
const REVIEWER = 'attach-reviewer-token-0123456789';
const SECRET = 'attach-webhook-secret-0123456789abcdef';
const example = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;
let stack: ReviewStack;
let api: ApiStack;
let service: ReturnType<typeof buildLiteratureService>;
const indexDir = path.resolve('.data', `test-attach-${randomBytes(4).toString('hex')}`);

const reviewer = { authorization: `Bearer ${REVIEWER}` };
const inject = (method: 'GET' | 'POST', url: string, headers: Record<string, string>, payload?: unknown) =>
  api.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  const { index } = await LiteratureIndex.open(CORPUS, indexDir);
  service = buildLiteratureService(index);
  await service.listen({ host: '127.0.0.1', port: 0 });
  const literature = new EutilsClient({
    baseUrl: `http://127.0.0.1:${(service.server.address() as AddressInfo).port}/entrez/eutils`,
    rateLimit: 100,
    sourceName: 'local-pubmed',
  });
  stack = await startReviewStack(
    testConfig(uniquePrefix(), {
      STAFF_TOKENS: `dr-cite:${hashToken(REVIEWER)}:reviewer`,
      WEBHOOK_SECRETS: `ehr-gateway:${SECRET}`,
    }),
    SECRET,
    { literature },
  );
  ({ api } = stack);
}, 60_000);
afterAll(async () => {
  await stack?.close();
  await service?.close();
  rmSync(indexDir, { recursive: true, force: true });
});

async function claimedDraft(caseId: string): Promise<ReviewDetail> {
  const submitted = await inject(
    'POST',
    '/v1/cases',
    { authorization: `Bearer ${TEST_TOKEN}` },
    {
      ...example.submission,
      caseId,
    },
  );
  expect(submitted.statusCode).toBe(202);
  await waitUntil(async () => (await api.review!.queue.item(caseId, 1)) !== null, 30_000, 'the first draft');
  expect((await inject('POST', `/v1/reviews/${caseId}/revisions/1/claim`, reviewer)).statusCode).toBe(200);
  return (await inject('GET', `/v1/reviews/${caseId}/revisions/1`, reviewer)).json<ReviewDetail>();
}

/** The draft's sections with `pmid:<id>` added to the first recommendation's citations. */
function citing(plan: Plan, pmid: string): Plan['sections'] {
  const sections = structuredClone(plan.sections);
  const rec = sections.recommendations[0]!;
  rec.citations = [...rec.citations, `pmid:${pmid}`];
  return sections;
}

describe('literature attached to an edit', () => {
  it('is fetched from the literature source, recorded with the decision, and resolves in verification', async () => {
    const detail = await claimedDraft('attach-1');
    const sections = citing(detail.request.plan, '990000001');
    const recId = sections.recommendations[0]!.id;

    // An unknown PMID: refused, nothing recorded, the claim still held.
    const unknown = await inject('POST', '/v1/reviews/attach-1/revisions/1/decision', reviewer, {
      action: 'edit',
      sections: citing(detail.request.plan, '123456789'),
      attach: ['123456789'],
    });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'SOURCE_NOT_FOUND' });
    expect(await api.review!.decisions.get('attach-1', 1)).toBeNull();

    const decided = await inject('POST', '/v1/reviews/attach-1/revisions/1/decision', reviewer, {
      action: 'edit',
      sections,
      attach: ['990000001'],
    });
    expect(decided.statusCode).toBe(201);
    const record = decided.json<{ record: { decision: { action: string; sources: Array<Record<string, unknown>> } } }>()
      .record;
    // What was recorded came from the literature source: its title, link, level and supporting sentence.
    expect(record.decision.sources).toEqual([
      expect.objectContaining({
        id: 'pmid:990000001',
        kind: 'pubmed',
        url: 'https://pubmed.ncbi.nlm.nih.gov/990000001/',
        level: 'practice_guideline',
      }),
    ]);
    const quote = record.decision.sources[0]!.quote as { text: string } | null;
    expect(quote?.text).toMatch(/\w{3}/);
    const audit = (await api.producer.audit.list('attach-1')).find((e) => e.event === 'decided');
    expect(audit?.detail).toMatchObject({ action: 'edit', attached: 'pmid:990000001' });

    // The edited plan is verified with the attached record as evidence: the citation resolves.
    await waitUntil(
      async () =>
        (await inject('GET', '/v1/cases/attach-1', { authorization: `Bearer ${TEST_TOKEN}` })).json<CaseView>()
          .status === 'approved',
      30_000,
      'the edited plan finalized',
    );
    const view = (
      await inject('GET', '/v1/cases/attach-1', { authorization: `Bearer ${TEST_TOKEN}` })
    ).json<CaseView>();
    const plan = view.plan as Plan;
    const rec = plan.sections.recommendations.find((r) => r.id === recId)!;
    expect(rec.citations).toContain('pmid:990000001');
    expect(rec.supported).toBe(true);
  });

  it('a pmid: citation the edit does not attach stays unresolved', async () => {
    const detail = await claimedDraft('attach-2');
    const sections = citing(detail.request.plan, '990000002');
    const recId = sections.recommendations[0]!.id;
    const decided = await inject('POST', '/v1/reviews/attach-2/revisions/1/decision', reviewer, {
      action: 'edit',
      sections,
    });
    expect(decided.statusCode).toBe(201);
    // Back to review as revision 2 or finalized: either way the statement is not supported by pmid:990000002.
    await waitUntil(
      async () => {
        const s = (
          await inject('GET', '/v1/cases/attach-2', { authorization: `Bearer ${TEST_TOKEN}` })
        ).json<CaseView>().status;
        return s === 'approved' || (await api.review!.queue.item('attach-2', 2)) !== null;
      },
      30_000,
      'the edited plan verified',
    );
    const item = await api.review!.queue.item('attach-2', 2);
    const plan = item
      ? item.data.request.plan
      : ((await inject('GET', '/v1/cases/attach-2', { authorization: `Bearer ${TEST_TOKEN}` })).json<CaseView>()
          .plan as Plan);
    const rec = plan.sections.recommendations.find((r) => r.id === recId)!;
    expect(rec.supported).toBe(false);
    if (item)
      expect(item.data.request.findings).toContainEqual(
        expect.objectContaining({ code: 'unresolved_citation', citations: ['pmid:990000002'] }),
      );
  });

  it('is refused as unavailable when no literature source is configured', async () => {
    const sections = citing(testPlan(1), '990000001');
    await expect(attachedSources(null, ['990000001'], sections)).rejects.toMatchObject({ code: 'SOURCES_UNAVAILABLE' });
    await expect(attachedSources(null, [], sections)).resolves.toEqual([]);
  });
});
