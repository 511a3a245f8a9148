/**
 * Literature in the review UI, in real headless Chromium: the worker searches the shared PubMedQA
 * corpus (SHARED_DATA_DIR/pubmedqa, real PubMed abstracts) through the local E-utilities service
 * on a loopback socket, and the reviewer sees each cited record with its evidence level and its
 * supporting sentence highlighted under its section label. Skipped when the shared corpus is absent.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED_LITERATURE_CORPUS } from '../../src/config.js';
import { EutilsClient } from '../../src/tools/literature/eutils-client.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { buildLiteratureService } from '../../services/literature/server.js';
import { launchChromium } from '../helpers/browser.js';
import { loadExampleCases } from '../helpers/cases.js';
import { testConfig, TEST_TOKEN, uniquePrefix, waitUntil } from '../helpers/env.js';
import { ROOT } from '../helpers/processes.js';
import { startReviewStack, type ReviewStack } from '../helpers/stack.js';

const SHOTS = path.resolve(ROOT, process.env.SCREENSHOT_DIR ?? '.data/screenshots');
const CORPUS = path.resolve(ROOT, process.env.SHARED_DATA_DIR ?? '../shared/data', SHARED_LITERATURE_CORPUS);
const SECRET = 'ui-literature-webhook-secret-0123456789abcdef';
const PASSWORD = 'review literature test password';

let stack: ReviewStack;
let service: Awaited<ReturnType<typeof buildLiteratureService>>;
let browser: Browser;
let base: string;
let indexDir: string;

describe.skipIf(!existsSync(CORPUS))('literature in the review UI (shared PubMedQA corpus)', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    indexDir = mkdtempSync(path.join(tmpdir(), 'lit-ui-'));
    const { index } = await LiteratureIndex.open(CORPUS, indexDir);
    service = buildLiteratureService(index);
    await service.listen({ host: '127.0.0.1', port: 0 });
    const literature = new EutilsClient({
      baseUrl: `http://127.0.0.1:${(service.server.address() as AddressInfo).port}/entrez/eutils`,
      redis: null,
      keyPrefix: 'lit-ui',
      cacheTtlSeconds: 0,
      rateLimit: 50,
      sourceName: 'local-pubmed',
    });
    stack = await startReviewStack(testConfig(uniquePrefix(), { WEBHOOK_SECRETS: `ehr-gateway:${SECRET}` }), SECRET, {
      literature,
    });
    await stack.api.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(stack.api.app.server.address() as AddressInfo).port}`;
    await stack.api.review!.accounts.create('dr-lit', PASSWORD, ['reviewer'], 'test-setup');
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await service?.close();
    if (indexDir) rmSync(indexDir, { recursive: true, force: true });
  });

  /** Submits the CKD example under `caseId`, waits for its draft and opens it signed in as the reviewer. */
  async function draftAndOpen(caseId: string, height: number) {
    const example = loadExampleCases().find((e) => e.file === 'polypharmacy-ckd.json')!;
    const res = await fetch(`${base}/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...example.submission, caseId }),
    });
    expect(res.status).toBe(202);
    await waitUntil(async () => (await stack.api.review!.queue.item(caseId, 1)) !== null, 30_000, 'drafted');
    const page = await (await browser.newContext({ viewport: { width: 1366, height } })).newPage();
    await page.goto(`${base}/review/login?next=${encodeURIComponent(`/review/cases/${caseId}/1`)}`);
    await page.getByLabel('Account').fill('dr-lit');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/review/cases/${caseId}/1`);
    return page;
  }

  it('shows each cited record with its level and its supporting sentence highlighted', async () => {
    const page = await draftAndOpen('ui-lit-1', 900);
    const cite = page.locator('.cite-pubmed').first();
    await expect.poll(() => cite.count()).toBe(1);
    // A real record of the corpus: its PubMed link, its level badge and a highlighted sentence of its abstract.
    expect(await cite.locator('a').first().getAttribute('href')).toMatch(
      /^https:\/\/pubmed\.ncbi\.nlm\.nih\.gov\/\d+\/$/,
    );
    expect((await cite.locator('.level').textContent())!.length).toBeGreaterThan(3);
    const quote = (await cite.locator('blockquote.quote mark').textContent()) ?? '';
    expect(quote.length).toBeGreaterThan(20);
    expect(await cite.locator('.quote-section').textContent()).toMatch(/^[A-Z][A-Z ]+$|^abstract$/);
    await cite.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'review-literature.png') });
  });

  it('lets the reviewer search further and attach a record to a statement of the edit', async () => {
    const page = await draftAndOpen('ui-lit-2', 1000);
    await page.locator('#claim').click();
    await page.waitForURL(`${base}/review/cases/ui-lit-2/1`);
    await page.locator('#editor summary').click();

    // Search the shared corpus from the panel (POST /v1/literature/search on the session).
    await page.locator('#lit-terms').fill('kidney');
    await page.locator('#lit-since').fill('');
    await page.locator('#lit-search').click();
    const results = page.locator('#lit-results .lit-result');
    await expect.poll(() => results.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await page.locator('#lit-status').textContent()).toMatch(/record.* from local-pubmed \(query: .*kidney/);
    const first = results.first();
    const pmid = (await first.locator('.lit-attach').getAttribute('data-pmid'))!;
    expect(pmid).toMatch(/^\d+$/);
    expect((await first.locator('.level').textContent())!.length).toBeGreaterThan(3);
    const target = await page.locator('#lit-target').inputValue();
    await first.locator('.lit-attach').click();
    expect(await page.locator(`#${target}`).inputValue()).toBe(pmid);
    expect(await page.locator('#lit-status').textContent()).toContain(`PMID ${pmid} will be cited by`);
    await page.locator('#lit-panel').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'review-literature-attach.png') });

    // Saving records the record as fetched by the server, and the decided view lists it.
    await page.getByRole('button', { name: 'Save edits and approve' }).click();
    await page.waitForURL(/\/review\/cases\/ui-lit-2\/1/);
    const attached = page.locator('#attached-sources li');
    await expect.poll(() => attached.count()).toBe(1);
    expect(await attached.locator('a').getAttribute('href')).toBe(`https://pubmed.ncbi.nlm.nih.gov/${pmid}/`);
    const record = await stack.api.review!.decisions.get('ui-lit-2', 1);
    expect(record?.decision).toMatchObject({
      action: 'edit',
      sources: [expect.objectContaining({ id: `pmid:${pmid}` })],
    });
  });
});
