/**
 * A model-written plan in the review UI, in real headless Chromium: the stack runs in LLM mode
 * against the adversarial OpenAI-compatible server (test/helpers/adversarial-model.ts), which
 * adds ibuprofen for a patient on warfarin, citing only the warfarin entry and listing no drug.
 * The reviewer must see, beside that statement, the interaction it brings, the unlisted medicine
 * and why its citation does not support it; and under the label, who wrote the plan. A second
 * case, whose model fabricates ids, shows the unresolved citations as such.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdversarialModel, type AdversarialModel, type Behaviour } from '../helpers/adversarial-model.js';
import { loadExampleCases } from '../helpers/cases.js';
import { testConfig, TEST_TOKEN, uniquePrefix, waitUntil } from '../helpers/env.js';
import { ROOT } from '../helpers/processes.js';
import { startReviewStack, type ApiStack, type ReviewStack } from '../helpers/stack.js';

const SHOTS = path.resolve(ROOT, process.env.SCREENSHOT_DIR ?? '.data/screenshots');
const SECRET = 'ui-model-webhook-secret-0123456789abcdef';
const PASSWORD = 'review model test password';
const examples = loadExampleCases();

let model: AdversarialModel;
const stacks: ReviewStack[] = [];
let browser: Browser;
let profile: string;

/** A review stack whose agents call the adversarial model as `behaviour`; the case is drafted before it returns. */
async function stackFor(behaviour: Behaviour, file: string, caseId: string): Promise<{ base: string; api: ApiStack }> {
  const config = testConfig(uniquePrefix(), {
    OPENAI_MODEL: `adv:${behaviour}`,
    OPENAI_BASE_URL: model.baseUrl,
    OPENAI_API_KEY: 'test-key',
    OPENAI_TIMEOUT_MS: '5000',
    OPENAI_MAX_RETRIES: '0',
    WEBHOOK_SECRETS: `ehr-gateway:${SECRET}`,
  });
  const stack = await startReviewStack(config, SECRET);
  stacks.push(stack);
  const { api } = stack;
  await api.app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
  await api.review!.accounts.create('dr-model', PASSWORD, ['reviewer'], 'test-setup');
  const example = examples.find((e) => e.file === file)!;
  const res = await fetch(`${base}/v1/cases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...example.submission, caseId }),
  });
  expect(res.status).toBe(202);
  await waitUntil(async () => (await api.review!.queue.item(caseId, 1)) !== null, 30_000, `${caseId} to be drafted`);
  return { base, api };
}

async function signIn(base: string, next: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/review/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Account').fill('dr-model');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}${next}`);
  return page;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  model = await startAdversarialModel();
  profile = mkdtempSync(path.join(tmpdir(), 'chromium-'));
  browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  for (const s of stacks) await s.close();
  await model?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('a model-written plan in the review UI', () => {
  it('shows beside the statement what it brings and why its citation does not support it, and who wrote the plan', async () => {
    const { base } = await stackFor('unlisted-drug', 'dental-amoxicillin-allergy.json', 'ui-model-1');
    const page = await signIn(base, '/review/cases/ui-model-1/1');
    const rec = page.locator('#rec-m1');
    await expect
      .poll(() => rec.locator('p').first().textContent())
      .toBe('Add ibuprofen 400 mg three times daily for pain.');
    const beside = rec.locator('.rec-findings li');
    const texts = await beside.allTextContents();
    expect(texts.some((t) => /interaction: warfarin with ibuprofen/.test(t))).toBe(true);
    expect(texts.some((t) => /unlisted medication/.test(t))).toBe(true);
    expect(texts.some((t) => /unsupported claim.*nothing it cites is about ibuprofen/.test(t))).toBe(true);
    // The most severe first, and the statement is marked as not supported.
    expect(texts[0]).toMatch(/^\s*high/);
    expect(await rec.getAttribute('class')).toMatch(/\bunsupported\b/);
    const written = page.getByRole('group', { name: 'Written by' });
    expect(await written.textContent()).toMatch(/Steps planned by\s*the model \(adv:unlisted-drug\)/);
    expect(await written.textContent()).toMatch(/Text drafted by\s*the model \(adv:unlisted-drug\)/);
    await rec.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'review-model-findings.png') });
  });

  it('shows fabricated citations as unresolved, not as part of the case record', async () => {
    const { base } = await stackFor('fabricated-ids', 'polypharmacy-ckd.json', 'ui-model-2');
    const page = await signIn(base, '/review/cases/ui-model-2/1');
    const cites = page.locator('#rec-m1 .cite-missing');
    await expect.poll(() => cites.count()).toBe(3);
    const text = (await cites.allTextContents()).join(' | ');
    expect(text).toMatch(/case:lab-99.*does not resolve/);
    expect(text).not.toMatch(/the case record:/);
  });
});
