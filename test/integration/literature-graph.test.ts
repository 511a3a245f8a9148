/**
 * The clinical-case graph with real literature: the local E-utilities service over a small
 * JSONL corpus (synthetic records written for this test, PMIDs 990000201+, titles marked
 * SYNTHETIC), the E-utilities client over a real socket, and the real knowledge base. The draft
 * must cite exactly the records the service returned, guideline first; an empty search and a
 * service that is down must both be said in the plan, and the case must still reach review.
 */
import type { AddressInfo } from 'node:net';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PubmedRecord } from '../../src/tools/literature/pubmed-xml.js';
import { EutilsClient } from '../../src/tools/literature/eutils-client.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { buildLiteratureService } from '../../services/literature/server.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { loadExampleCases } from '../helpers/cases.js';
import { runToReview } from '../helpers/graph-run.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';
import { fakeImaging, type Recorder } from '../helpers/tool-doubles.js';

const record = (pmid: string, title: string, year: number, types: string[], mesh: string[]): PubmedRecord => ({
  pmid,
  title: `SYNTHETIC TEST RECORD: ${title}`,
  abstract: `Synthetic abstract: ${title}.`,
  journal: 'Synthetic Journal of Diabetes',
  year,
  authors: ['Testperson A'],
  publicationTypes: types,
  mesh,
});
const CORPUS: PubmedRecord[] = [
  record(
    '990000201',
    'cohort of metformin users with type 2 diabetes mellitus',
    2022,
    ['Journal Article', 'Observational Study'],
    ['Humans', 'Diabetes Mellitus, Type 2', 'Metformin'],
  ),
  record(
    '990000202',
    'guideline on metformin as first-line therapy in type 2 diabetes mellitus',
    2024,
    ['Practice Guideline'],
    ['Humans', 'Diabetes Mellitus, Type 2', 'Metformin'],
  ),
  record(
    '990000203',
    'metformin in mice with type 2 diabetes mellitus',
    2023,
    ['Journal Article'],
    ['Animals', 'Mice', 'Metformin'],
  ),
  record(
    '990000204',
    'metformin and type 2 diabetes mellitus before the date window',
    1999,
    ['Randomized Controlled Trial'],
    ['Humans', 'Metformin'],
  ),
];

const dir = path.resolve('.data', `test-litgraph-${randomBytes(4).toString('hex')}`);
const example = loadExampleCases().find((e) => e.file === 'diabetes-note-injection.json')!;
let kb: TestKb;
let service: ReturnType<typeof buildLiteratureService>;
let base: string;

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'corpus.jsonl'), CORPUS.map((r) => JSON.stringify(r)).join('\n'));
  const { index } = await LiteratureIndex.open(path.join(dir, 'corpus.jsonl'), path.join(dir, 'index'));
  service = buildLiteratureService(index);
  await service.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(service.server.address() as AddressInfo).port}/entrez/eutils`;
  kb = await openTestKb('sqlite');
});
afterAll(async () => {
  await service?.close();
  await kb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const literatureText = (texts: string[]) => texts.filter((t) => t.startsWith('Literature for'));

describe('clinical-case graph with the local literature service', () => {
  it('cites exactly the records the service returned, guideline first, each resolvable to its PubMed link', async () => {
    const recorder: Recorder = { requests: [] };
    const literature = new EutilsClient({ baseUrl: base, rateLimit: 50, sourceName: 'local-pubmed' });
    const { request, state } = await runToReview(example, {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature,
      imaging: fakeImaging(recorder),
    });

    const step = Object.values(state.results).find((r) => r.type === 'literature_search')!;
    expect(step.status).toBe('ok');
    expect(step.provenance.version).toBe('local-pubmed');
    // The animal study and the 1999 trial are filtered out (humans[mh], date range); the guideline ranks first.
    expect(step.evidence.map((e) => e.id)).toEqual(['pmid:990000202', 'pmid:990000201']);
    const rec = request.plan.sections.recommendations.find((r) => r.text.startsWith('Literature for'))!;
    expect(rec.citations).toEqual(['pmid:990000202', 'pmid:990000201']);
    expect(rec.text).toContain('SYNTHETIC TEST RECORD: guideline on metformin as first-line therapy');
    const cited = new Set(
      Object.values(request.plan.sections)
        .flat()
        .flatMap((r) => r.citations)
        .filter((c) => c.startsWith('pmid:')),
    );
    expect([...cited].sort()).toEqual(['pmid:990000201', 'pmid:990000202']);
    for (const id of cited)
      expect(request.evidence.find((e) => e.id === id)?.url).toBe(`https://pubmed.ncbi.nlm.nih.gov/${id.slice(5)}/`);
    expect(request.findings.filter((f) => f.code === 'unresolved_citation' || f.code === 'uncited_claim')).toEqual([]);
    expect(literature.stats.requests).toBeGreaterThanOrEqual(2); // esearch, then efetch
  });

  it('says so when the search finds nothing, and cites nothing', async () => {
    const empty = buildLiteratureService(
      LiteratureIndex.fromRecords([
        record('990000299', 'an unrelated synthetic topic', 2024, ['Journal Article'], ['Humans']),
      ]),
    );
    await empty.listen({ host: '127.0.0.1', port: 0 });
    try {
      const literature = new EutilsClient({
        baseUrl: `http://127.0.0.1:${(empty.server.address() as AddressInfo).port}/entrez/eutils`,
        rateLimit: 50,
      });
      const { request } = await runToReview(example, {
        knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
        literature,
        imaging: fakeImaging({ requests: [] }),
      });
      const texts = request.plan.sections.recommendations.map((r) => r.text);
      expect(literatureText(texts)).toEqual([
        'Literature for “Type 2 diabetes mellitus”: the search found no matching records, so no literature is cited for it.',
      ]);
      expect(
        Object.values(request.plan.sections)
          .flat()
          .flatMap((r) => r.citations)
          .filter((c) => c.startsWith('pmid:')),
      ).toEqual([]);
    } finally {
      await empty.close();
    }
  });

  it('reports literature as unavailable when the service is down, and the case still reaches review', async () => {
    const down = buildLiteratureService(LiteratureIndex.fromRecords(CORPUS));
    await down.listen({ host: '127.0.0.1', port: 0 });
    const port = (down.server.address() as AddressInfo).port;
    await down.close();
    const literature = new EutilsClient({
      baseUrl: `http://127.0.0.1:${port}/entrez/eutils`,
      rateLimit: 50,
      retries: 1,
      timeoutMs: 2000,
    });
    const { request, state } = await runToReview(example, {
      knowledgeBase: new LocalKnowledgeBaseClient(kb.store),
      literature,
      imaging: fakeImaging({ requests: [] }),
    });
    const step = Object.values(state.results).find((r) => r.type === 'literature_search')!;
    expect(step.status).toBe('unavailable');
    expect(request.plan.unavailable.map((u) => u.type)).toContain('literature_search');
    expect(
      request.plan.sections.recommendations.some(
        (r) => r.text.startsWith('NOT CHECKED: Find guideline-level evidence') && r.text.includes('unavailable'),
      ),
    ).toBe(true);
    expect(
      Object.values(request.plan.sections)
        .flat()
        .flatMap((r) => r.citations)
        .filter((c) => c.startsWith('pmid:')),
    ).toEqual([]);
  });
});
