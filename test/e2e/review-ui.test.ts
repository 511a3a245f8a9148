/**
 * The review web UI in real headless Chromium (Debian's chromium driven by playwright-core),
 * against the real server on a socket, the real graph, case worker and delivery worker on real
 * Redis, at a laptop's width (1366 × 768):
 *
 *   sign in → the queue with severity badges → claim the next item from the keyboard → read the
 *   plan's citations (knowledge-base facts with their source) → lose the lease and see it said
 *   → claim again → request changes → see the revised plan arrive with the diff and the
 *   comments → claim it → approve → see the case delivered to the webhook; and the inline
 *   editor's edit-and-approve on a second case; and the case summary of a real shared Synthea
 *   record (SHARED_DATA_DIR/synthea, read in place): key results, medications, problems.
 *
 * Screenshots of the key screens go to SCREENSHOT_DIR (default .data/screenshots; the ones in
 * docs/screenshots were made with SCREENSHOT_DIR=docs/screenshots).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadExampleCases } from '../helpers/cases.js';
import { testConfig, TEST_TOKEN, uniquePrefix, waitUntil } from '../helpers/env.js';
import { ROOT } from '../helpers/processes.js';
import { startReviewStack, type ApiStack, type ReviewStack } from '../helpers/stack.js';
import type { Receiver } from '../helpers/webhook.js';

const SHOTS = path.resolve(ROOT, process.env.SCREENSHOT_DIR ?? '.data/screenshots');
const SECRET = 'ui-test-webhook-secret-0123456789abcdef';
const PASSWORD = 'review ui test password';
const prefix = uniquePrefix();
const config = testConfig(prefix, {
  REVIEW_LEASE_MS: '6000',
  WEBHOOK_SECRETS: `ehr-gateway:${SECRET}`,
  CALLBACK_HOST_ALLOWLIST: '127.0.0.1',
  WEBHOOK_BACKOFF_MS: '50',
});
const examples = loadExampleCases();
// A Synthea record with blood pressure, a falling eGFR, five current medications and resolved problems.
const SYNTHEA = path.resolve(ROOT, process.env.SHARED_DATA_DIR ?? '../shared/data', 'synthea', 'synthea-035.json');

let stack: ReviewStack;
let api: ApiStack;
let receiver: Receiver;
let browser: Browser;
let base: string;
let profile: string;

async function submit(file: string, caseId: string) {
  const example = examples.find((e) => e.file === file)!;
  const res = await fetch(`${base}/v1/cases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...example.submission, caseId, callbackUrl: receiver.url }),
  });
  expect(res.status).toBe(202);
  await waitUntil(async () => (await api.review!.queue.item(caseId, 1)) !== null, 30_000, `${caseId} to be drafted`);
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: false });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  stack = await startReviewStack(config, SECRET);
  ({ api, receiver } = stack);
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  await api.review!.accounts.create('dr-ui', PASSWORD, ['reviewer'], 'test-setup');
  profile = mkdtempSync(path.join(tmpdir(), 'chromium-'));
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('review UI in headless Chromium', () => {
  it('sign in, claim from the keyboard, read citations, survive a lost lease, request changes, see the revision, approve, see it delivered', async () => {
    await submit('polypharmacy-ckd.json', 'ui-case-1');
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      // The lost lease's 409 is expected below; anything else is an error.
      if (m.type() === 'error' && !/status of 409/.test(m.text())) errors.push(m.text());
    });

    await page.goto(`${base}/review`);
    await expect.poll(() => page.url()).toContain('/review/login?next=');
    await shot(page, 'review-login');
    await page.getByLabel('Account').fill('dr-ui');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/review`);

    // The queue: severity badge, priority, claim buttons; it fits a laptop's width.
    const row = page.locator('tr', { hasText: 'ui-case-1' });
    await expect.poll(() => row.locator('.badge').textContent()).toBe('high');
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(1366);
    await shot(page, 'review-queue');

    // Keyboard only: "n" focuses "Claim next", Enter claims it.
    await page.keyboard.press('n');
    expect(String(await page.evaluate('document.activeElement && document.activeElement.textContent'))).toMatch(
      /Claim next/,
    );
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/review\/cases\/ui-case-1\/1$/);
    await expect.poll(() => page.locator('#lease').textContent()).toMatch(/claimed by you/);

    await shot(page, 'review-case');
    // Citations resolve: knowledge-base facts with their source, the case record.
    const kbCite = page.locator('.cite-kb').first();
    expect(await kbCite.textContent()).toMatch(/KB .*kb:.+—/);
    expect(await page.locator('.cite-missing').count()).toBe(0);
    expect(await page.locator('.finding').count()).toBeGreaterThan(0);
    await kbCite.scrollIntoViewIfNeeded();
    await shot(page, 'review-citations');
    // A recommendation's "why": the chain of knowledge-base facts behind it, beside its citations.
    const change = page.locator('.rec', { hasText: 'CHANGE ibuprofen' }).first();
    await change.scrollIntoViewIfNeeded();
    const why = change.locator('.why-steps li');
    expect(await why.count()).toBeGreaterThan(2);
    expect(await why.first().textContent()).toMatch(/warfarin with ibuprofen/);
    expect(await change.locator('.why-steps').textContent()).toMatch(
      /Paracetamol: Re-checked for this patient in place of ibuprofen/,
    );
    expect(await change.locator('.rec-grid .rec-cites .cite-kb').count()).toBeGreaterThan(0);
    await shot(page, 'review-why');
    await page.locator('.cite-case a').first().click();
    expect(page.url()).toMatch(/#ref-/);

    // The lease is lost (here: released behind the page's back); the page says so and disables the decision buttons.
    await api.review!.queue.release('ui-case-1', 1, 'dr-ui');
    const banner = page.locator('#lease-banner');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await banner.textContent()).toMatch(/Your claim on this case was lost: .*not recorded/);
    expect(await page.getByRole('button', { name: /^Approve/ }).isDisabled()).toBe(true);
    await shot(page, 'review-lease-lost');

    // Claim again, request changes.
    await page.reload();
    await page.getByRole('button', { name: /^Claim/ }).click();
    await expect.poll(() => page.locator('#lease').textContent()).toMatch(/claimed by you/);
    await page
      .getByLabel('Request changes: what should change')
      .fill('Say explicitly how to stop the ibuprofen and what to use instead.');
    await page.getByRole('button', { name: /^Request changes/ }).click();
    await expect.poll(() => page.locator('#flash').textContent()).toMatch(/Decision recorded: request changes/);

    // The revised plan arrives; the page links to it.
    const link = page.locator('#revised-link');
    await link.waitFor({ timeout: 30_000 });
    await link.click();
    await page.waitForURL(/\/review\/cases\/ui-case-1\/2$/);
    expect(await page.locator('#diff-title').textContent()).toMatch(/Changes since revision 1/);
    expect(await page.locator('.diffs blockquote').first().textContent()).toContain(
      'Say explicitly how to stop the ibuprofen',
    );
    await page.keyboard.press('c');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#lease').textContent()).toMatch(/claimed by you/);
    await page.locator('#diff-title').scrollIntoViewIfNeeded();
    await shot(page, 'review-revision-diff');

    // Approve; the case is finalized and delivered.
    await page.getByRole('button', { name: /^Approve/ }).click();
    await expect.poll(() => page.locator('#decided-title').textContent()).toMatch(/Decided: approve/);
    await expect
      .poll(() => page.locator('#case-status').textContent(), { timeout: 30_000 })
      .toMatch(/approved · delivery: delivered \(webhook\)/);
    await page.locator('#case-status').scrollIntoViewIfNeeded();
    await shot(page, 'review-delivered');
    const hooks = receiver.received.filter((r) => r.headers['x-co-delivery-id'] === 'ui-case-1.r2');
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.signatureValid).toBe(true);
    expect(JSON.parse(hooks[0]!.body)).toMatchObject({ status: 'approved', decidedBy: 'dr-ui', revision: 2 });

    // The audit trail on the page (reloaded) holds every event through delivery.
    await page.reload();
    const auditText = await page.locator('table.audit').textContent();
    for (const e of ['claimed', 'released', 'decided', 'delivered']) expect(auditText).toContain(e);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('edits the plan inline and approves it; the edit is recorded as a diff', async () => {
    await submit('polypharmacy-ckd.json', 'ui-case-2');
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    await page.goto(`${base}/review/login`);
    await page.getByLabel('Account').fill('dr-ui');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/review`);
    await page.locator('tr', { hasText: 'ui-case-2' }).getByRole('button', { name: 'Claim' }).click();
    await page.waitForURL(/ui-case-2\/1$/);
    await page.keyboard.press('e');
    const first = page.locator('textarea[name="text.assessment.0"]');
    await first.fill('Edited by the reviewer: severe renal impairment; review every renally cleared drug.');
    const removedText = await page.locator('textarea[name="text.patientCommunication.0"]').inputValue();
    const patientItems = await page.locator('textarea[name^="text.patientCommunication."]').count();
    await page.locator('input[name="remove.patientCommunication.0"]').check();
    await shot(page, 'review-inline-edit');
    await page.getByRole('button', { name: 'Save edits and approve' }).click();
    await expect.poll(() => page.locator('#decided-title').textContent()).toMatch(/Decided: edit/);
    expect(await page.locator('.decided .diff-add').first().textContent()).toContain('Edited by the reviewer');
    const record = await api.review!.decisions.get('ui-case-2', 1);
    expect(record?.decision.action).toBe('edit');
    expect(record?.diff).toMatchObject({ changed: 1, removed: 1 });
    await expect.poll(async () => (await api.producer.get('ui-case-2'))?.status, { timeout: 30_000 }).toBe('approved');
    const plan = (await api.producer.get('ui-case-2'))!.plan as {
      sections: { assessment: Array<{ text: string }>; patientCommunication: Array<{ text: string }> };
    };
    expect(plan.sections.assessment[0]!.text).toMatch(/^Edited by the reviewer/);
    expect(plan.sections.patientCommunication).toHaveLength(patientItems - 1);
    expect(plan.sections.patientCommunication.map((r) => r.text)).not.toContain(removedText);
    await context.close();
  }, 120_000);

  it.skipIf(!existsSync(SYNTHEA))(
    'shows a Synthea record as tables a reviewer can act on: key results with trends, blood pressure, current medications; resolved problems behind a disclosure',
    async () => {
      type Coding = { system?: string; code?: string; display?: string };
      type Raw = {
        resourceType: string;
        status?: string;
        intent?: string;
        medicationCodeableConcept?: { coding?: Coding[] };
      };
      const bundle = JSON.parse(readFileSync(SYNTHEA, 'utf8')) as { entry: Array<{ resource: Raw }> };
      // Independent reading: the names of the active medication orders.
      const active = bundle.entry
        .map((e) => e.resource)
        .filter((r) => r.resourceType === 'MedicationRequest' && r.status === 'active' && r.intent === 'order')
        .map((r) => r.medicationCodeableConcept!.coding![0]!.display!);
      expect(active.length).toBeGreaterThanOrEqual(3);
      const res = await fetch(`${base}/v1/cases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          caseId: 'ui-synthea-035',
          question: 'Is the current medication list safe with this kidney function, and what needs monitoring?',
          priority: 'routine',
          bundle,
          callbackUrl: receiver.url,
        }),
      });
      expect(res.status).toBe(202);
      await waitUntil(
        async () => (await api.review!.queue.item('ui-synthea-035', 1)) !== null,
        60_000,
        'the Synthea case to be drafted',
      );

      const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
      await page.goto(`${base}/review/login?next=${encodeURIComponent('/review/cases/ui-synthea-035/1')}`);
      await page.getByLabel('Account').fill('dr-ui');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/review\/cases\/ui-synthea-035\/1$/);

      // Key results: a table labelled by its heading, rows with trend arrows (and their words for screen readers).
      const results = page.getByRole('table', { name: 'Key results' });
      const rows = results.locator('tbody tr:not(.group)');
      expect(await rows.count()).toBeGreaterThan(5);
      expect(await results.locator('.trend').count()).toBeGreaterThan(0);
      expect(await results.locator('.trend .visually-hidden').first().textContent()).toMatch(
        /rising|falling|unchanged/,
      );
      // Synthea records carry no reference ranges: the column is left out and that is said.
      expect(await results.locator('th[scope="col"]').allTextContents()).toEqual([
        'Test',
        'Latest',
        'Previous',
        'Trend',
      ]);
      // Blood pressure: both components in the value cell, systolic first.
      const bp = rows.filter({ has: page.locator('th', { hasText: /^Blood Pressure/ }) });
      expect(await bp.count()).toBe(1);
      expect(await bp.locator('td').first().textContent()).toMatch(/^\d+\/\d+ mmHg\b.*before/);
      // eGFR with its date.
      const egfr = rows.filter({ has: page.locator('th', { hasText: /Glomerular filtration/i }) });
      expect(await egfr.locator('td').first().textContent()).toMatch(/^\d+ mL\/min.*(days|months|years) before$/);

      // Medications: every active order, one row each.
      const meds = page.getByRole('table', { name: 'Medications' });
      const medNames = await meds.locator('tbody th[scope="row"]').allTextContents();
      expect(medNames).toHaveLength(active.length);
      for (const name of active)
        expect(
          medNames.some((n) => n.startsWith(name)),
          name,
        ).toBe(true);

      // Resolved problems: behind a closed disclosure, opened from the keyboard.
      const resolved = page.locator('details#resolved-problems');
      expect(await resolved.evaluate((d) => (d as unknown as { open: boolean }).open)).toBe(false);
      expect(await resolved.locator('li').first().isVisible()).toBe(false);
      await resolved.locator('summary').focus();
      await page.keyboard.press('Enter');
      expect(await resolved.locator('li').first().isVisible()).toBe(true);
      await page.keyboard.press('Enter');
      await resolved.locator('summary').blur();
      // The rest of the record: other tests and counts by resource type, each behind a disclosure.
      expect(await page.locator('details.more summary', { hasText: /other tests/ }).count()).toBe(1);
      expect(await page.locator('details.counts summary').textContent()).toMatch(
        /^[\d,]+ resources: \d+ Observation, /,
      );

      // Nothing overflows: not the page, not a table out of the summary card.
      expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(1366);
      const inCard = `[...document.querySelectorAll('.summary table')].every((t) => { const card = t.closest('.card'); return t.getBoundingClientRect().right <= card.getBoundingClientRect().right - parseFloat(getComputedStyle(card).paddingRight) + 1; })`;
      expect(await page.evaluate(inCard)).toBe(true);

      await shot(page, 'review-synthea-record');
      await page.evaluate(`document.getElementById('labs-title').scrollIntoView({ block: 'start' })`);
      await shot(page, 'review-synthea-results');
      expect(errors).toEqual([]);
      await context.close();
    },
    120_000,
  );

  it('warns before signing out after inactivity, stays signed in on request, and signs out when ignored', async () => {
    await submit('polypharmacy-ckd.json', 'ui-idle');
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    // The page's clock is controlled; the server's is real (its session outlives this test).
    await page.clock.install();
    await page.goto(`${base}/review/login?next=${encodeURIComponent('/review/cases/ui-idle/1')}`);
    await page.getByLabel('Account').fill('dr-ui');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/review\/cases\/ui-idle\/1$/);
    const banner = page.locator('#idle-banner');
    expect(await banner.isHidden()).toBe(true);

    // 13.5 minutes without activity (the default 15-minute timeout): the warning, with time left.
    await page.clock.fastForward('13:30');
    await banner.waitFor({ state: 'visible' });
    expect(await banner.getAttribute('role')).toBe('alertdialog');
    expect(await page.locator('#idle-text').textContent()).toMatch(/signed out in \d+ s because of inactivity/);
    await shot(page, 'review-idle-warning');

    // "Stay signed in" asks the server (which restarts its idle clock) and hides the warning.
    const keepAlive = page.waitForResponse((r) => r.url().endsWith('/v1/auth/session'));
    await page.getByRole('button', { name: 'Stay signed in' }).click();
    expect((await keepAlive).status()).toBe(200);
    await banner.waitFor({ state: 'hidden' });

    // Ignored for the whole timeout: signed out to the sign-in page, which says why and returns here after.
    await page.clock.fastForward('15:30');
    await page.waitForURL(/\/review\/login\?/);
    expect(await page.locator('#flash').textContent()).toMatch(/signed out after 15 minutes without activity/);
    expect(new URL(page.url()).searchParams.get('next')).toBe('/review/cases/ui-idle/1');
    await context.close();
  });
});
