/**
 * The `co` command as a user runs it: the real bin (bin/co.js) spawned as a process, over the 40
 * shared Synthea records (SHARED_DATA_DIR/synthea, read in place), bad input, the starter
 * knowledge base and a real stack (test/support/stack.ts) for `case submit`. Expectations come
 * from a plain reading of the files (the bundles, kb/starter), not from the code under test.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseRunResult } from '../../src/cli/output.js';
import { CaseRunLine, CaseSubmitResult, KbCheckResult, KbSearchResult } from '../../src/cli/output.js';
import { deletePrefix, redisUrl, uniquePrefix } from '../helpers/env.js';
import { DevStack } from '../support/stack.js';
import {
  activeOrders,
  loadSynthea,
  patientNames,
  SYNTHEA_DIR,
  SYNTHEA_FILES,
  viewMedicationKeys,
} from '../helpers/synthea.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'bin/co.js');
const SYNTHEA = SYNTHEA_DIR;
const FILES = SYNTHEA_FILES;
const QUESTION = 'Is the current medication list safe, and what needs monitoring?';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the bin with only PATH and HOME from this environment (so no OPENAI_* leaks in: knowledge-driven mode). */
function co(args: string[], env: Record<string, string> = {}, command = [process.execPath, BIN]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const load = loadSynthea;

/** The same key for the medications `co` printed. */
const printedMedications = (r: CaseRunResult) => viewMedicationKeys(r.view.medications);

describe('co (the bin)', () => {
  it('npx co --help works in the repo', async () => {
    const run = await co(['--help'], {}, ['npx', 'co']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^co — try a clinical record without running a stack/);
    expect(run.stdout).toContain('co case run FILE');
    expect(run.stdout).toContain('co kb check DRUG');
  }, 60_000);

  it('refuses an unknown command or option with exit 2', async () => {
    const unknown = await co(['case', 'fly']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^co: USAGE: unknown command “case fly”/);
    const option = await co(['kb', 'check', 'warfarin', '--colour']);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/co: USAGE: .*--colour/);
  });
});

describe.skipIf(FILES.length === 0)('co case run over the 40 shared Synthea records', () => {
  const results = new Map<string, CaseRunResult>();
  let elapsedMs = 0;

  beforeAll(async () => {
    // Two processes of 20 records each (two cores): every record through the real graph, in-process.
    const started = Date.now();
    const half = Math.ceil(FILES.length / 2);
    const batches = [FILES.slice(0, half), FILES.slice(half)];
    const runs = await Promise.all(
      batches.map((files) =>
        co([
          'case',
          'run',
          ...files.map((f) => path.join(SYNTHEA, f)),
          '--question',
          QUESTION,
          '--format',
          'json',
          '--quiet',
        ]),
      ),
    );
    elapsedMs = Date.now() - started;
    for (const run of runs) {
      expect(run.code, run.stderr).toBe(0);
      for (const line of run.stdout.trim().split('\n')) {
        const parsed = CaseRunLine.parse(JSON.parse(line));
        if (!parsed.ok) throw new Error(`${parsed.file}: ${parsed.error.message}`);
        results.set(path.basename(parsed.file), parsed);
      }
    }
  }, 180_000);

  it('runs all 40 to review in one pass', () => {
    expect(FILES).toHaveLength(40);
    expect([...results.keys()].sort()).toEqual([...FILES].sort());
    console.info(`co case run: 40 Synthea records in ${elapsedMs} ms (2 processes)`);
  });

  it.each(FILES)('%s: bounded view, plan, findings; the current medications of the bundle', (file) => {
    const r = results.get(file)!;
    const bundle = load(file);
    expect(r).toMatchObject({ ok: true, status: 'awaiting_review', revision: 1, mode: 'knowledge-driven' });
    expect(r.view.question).toBe(QUESTION);

    // Bounded: the key results and lists stay small however long the record.
    const json = JSON.stringify(r);
    expect(json.length).toBeLessThan(100_000);
    expect(r.view.keyResults.length).toBeLessThanOrEqual(40);
    expect(r.view.counts.observations).toBe(
      bundle.entry.filter((e) => e.resource.resourceType === 'Observation').length,
    );
    for (const name of patientNames(bundle)) expect(json).not.toContain(name);

    // Medications: exactly the active orders of the bundle.
    expect(printedMedications(r)).toEqual(activeOrders(bundle));
    expect(r.view.counts.medications).toBe(activeOrders(bundle).length);

    // A plan with at least one section, every statement citing evidence or saying what was not checked.
    const sections = Object.values(r.plan.sections).filter((recs) => recs.length > 0);
    expect(sections.length).toBeGreaterThan(0);
    for (const rec of sections.flat()) expect(rec.citations.length > 0 || /NOT CHECKED/.test(rec.text)).toBe(true);

    // Findings listed, most severe first (a record whose medicines are all known and raise nothing has none).
    const rank = { info: 0, low: 1, moderate: 2, high: 3, critical: 4 } as const;
    const ranks = r.findings.map((f) => rank[f.severity]);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(r.maxSeverity).toBe(r.findings[0]?.severity ?? null);
  });

  it('reports how many active medications matched', () => {
    const total = FILES.reduce((n, f) => n + activeOrders(load(f)).length, 0);
    const matched = FILES.filter((f) => {
      const r = results.get(f);
      return r && JSON.stringify(printedMedications(r)) === JSON.stringify(activeOrders(load(f)));
    }).length;
    console.info(`co case run: active medications equal in ${matched}/40 records (${total} medications)`);
    expect(matched).toBe(40);
  });
});

describe('co case run: one case in markdown, and bad input', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'co-cli-test-'));
    writeFileSync(path.join(dir, 'not-json.json'), '{"resourceType": "Bundle", ');
    writeFileSync(path.join(dir, 'patient.json'), JSON.stringify({ resourceType: 'Patient', id: 'p1' }));
    writeFileSync(path.join(dir, 'object.json'), JSON.stringify({ hello: 'world' }));
    writeFileSync(
      path.join(dir, 'no-patient.json'),
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { resource: { resourceType: 'Condition', subject: { reference: 'Patient/x' }, code: { text: 'asthma' } } },
        ],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a readable markdown case: results and medications as tables, plan, findings by severity', async () => {
    const run = await co(['case', 'run', 'examples/cases/polypharmacy-ckd.json']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^# Case syn-polypharmacy-ckd-001/);
    for (const heading of [
      '## Key results',
      '## Current medications',
      '## Problems',
      '## Plan',
      '## Verification findings',
    ])
      expect(run.stdout).toContain(heading);
    expect(run.stdout).toMatch(/^\| Medication \| Dose \| Frequency \| Route \| Status \| Code \|$/m);
    expect(run.stdout).toMatch(/^\| warfarin \| 3 mg \| once daily \| oral \| active \|/m);
    expect(run.stdout).toMatch(/^### (Critical|High) \(\d+\)$/m);
    // Progress on stderr, one line per finished node.
    expect(run.stderr).toMatch(/✓ normalise/);
    expect(run.stderr).toMatch(/✓ step interaction_check/);
    expect(run.stderr).toMatch(/✓ verify: \d+ findings/);
  });

  it.each([
    ['not JSON', 'not-json.json', /^co: NOT_JSON: .*not-json\.json: not JSON/],
    [
      'a non-Bundle resource',
      'patient.json',
      /^co: NOT_A_CASE: .*patient\.json: is a FHIR Patient resource, not a Bundle/,
    ],
    ['JSON that is no case', 'object.json', /^co: NOT_A_CASE: .*object\.json: neither a FHIR Bundle/],
    [
      'a Bundle without a Patient',
      'no-patient.json',
      /^co: CASE_INVALID: .*no-patient\.json: invalid case: a case bundle must contain exactly one Patient resource \(found 0\) \[\/entry patient_count\]/,
    ],
    ['a missing file', 'missing.json', /^co: FILE_NOT_FOUND: .*missing\.json: no such file/],
  ])('%s: exit 2 and one line naming the problem', async (_what, file, message) => {
    const run = await co(['case', 'run', path.join(dir, file), '--question', QUESTION, '--format', 'json']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(message);
  });

  it.skipIf(FILES.length === 0)('a bare Bundle needs --question', async () => {
    const run = await co(['case', 'run', path.join(SYNTHEA, 'synthea-001.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^co: QUESTION_REQUIRED: .*give the clinical question with --question/);
  });
});

describe('co case run: an older adult on two NSAIDs (a synthetic record written for this test)', () => {
  let file: string;
  let dir: string;
  const MEDS = ['ibuprofen 400 mg tablet', 'naproxen 500 mg tablet', 'diphenhydramine 25 mg at night', 'docusate'];
  const MORE = ['senna', 'folic acid', 'budesonide inhaler', 'probenecid', 'oral contraceptive'];
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'co-older-'));
    file = path.join(dir, 'older-adult.json');
    const ref = { reference: 'Patient/p1' };
    const condition = (id: string, text: string) => ({
      resource: { resourceType: 'Condition', id, clinicalStatus: { text: 'active' }, code: { text }, subject: ref },
    });
    const medication = (text: string, i: number) => ({
      resource: {
        resourceType: 'MedicationRequest',
        id: `m${i + 1}`,
        status: 'active',
        intent: 'order',
        medicationCodeableConcept: { text },
        subject: ref,
      },
    });
    writeFileSync(
      file,
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'collection',
        entry: [
          { resource: { resourceType: 'Patient', id: 'p1', gender: 'female', birthDate: '1946-03-01' } },
          condition('c1', 'Osteoarthritis of knee'),
          condition('c2', 'Heart failure'),
          ...[...MEDS, ...MORE].map(medication),
        ],
      }),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the duplicate NSAIDs, the Beers criteria and the heart-failure contraindication, and knows every medicine', async () => {
    const run = await co(['case', 'run', file, '--question', QUESTION, '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const result = CaseRunLine.parse(JSON.parse(run.stdout));
    if (!result.ok) throw new Error(result.error.message);
    const changes = result.plan.sections.medicationChanges.map((r) => r.text).join('\n');
    expect(changes).toMatch(/duplicate therapy: ibuprofen and naproxen are both NSAIDs/);
    expect(changes).toMatch(/older adult: diphenhydramine at age \d+: avoid in older adults/);
    expect(changes).toMatch(/older adult: naproxen at age \d+ with Heart failure/);
    expect(changes).toMatch(/contraindication: ibuprofen in Heart failure/);
    expect(result.findings.filter((f) => f.code === 'unknown_term')).toEqual([]);
  });
});

describe('co kb over the starter knowledge base', () => {
  it('kb check warfarin ibuprofen: the anticoagulant–NSAID interaction, with its fact and source', async () => {
    const run = await co(['kb', 'check', 'warfarin', 'ibuprofen', '--format', 'json']);
    expect(run.code, run.stderr).toBe(0);
    const r = KbCheckResult.parse(JSON.parse(run.stdout));
    // kb/starter/interactions.csv: class:anticoagulants,class:nsaids,high,…,"Avoid; prefer paracetamol for pain. …",bnf
    const finding = r.findings.find((f) => f.kind === 'interaction')!;
    expect(finding).toMatchObject({ severity: 'high', medications: ['warfarin', 'ibuprofen'] });
    expect(finding.management).toMatch(/^Avoid; prefer paracetamol for pain\./);
    expect(finding.factIds).toContain('ix:class:anticoagulants~class:nsaids');
    // kb/starter/sources.csv: bnf,BNF,"British National Formulary …",https://bnf.nice.org.uk/
    const source = finding.sources.find((s) => s.factId === 'ix:class:anticoagulants~class:nsaids')!;
    expect(source).toMatchObject({ label: 'BNF', url: 'https://bnf.nice.org.uk/', addedBy: 'starter-content' });
    expect(source.citation).toMatch(/^British National Formulary/);
    expect(r.checks.map((c) => c.kind)).toEqual(['interaction', 'duplicate_therapy']);
  });

  it('kb check in markdown: findings by severity with management and sources', async () => {
    const run = await co(['kb', 'check', 'warfarin', 'ibuprofen']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('### High (1)');
    expect(run.stdout).toContain('**Management:** Avoid; prefer paracetamol for pain.');
    expect(run.stdout).toContain('`kb:ix:class:anticoagulants~class:nsaids`');
    expect(run.stdout).toMatch(/^\| BNF \| British National Formulary .* \| https:\/\/bnf\.nice\.org\.uk\/ \|$/m);
  });

  it('kb check with --allergy, --dose and --egfr', async () => {
    // kb/starter: cross_reactivity.csv penicillin→penicillins critical; dose_ranges.csv metformin eGFR < 30 contraindicated.
    const run = await co([
      'kb',
      'check',
      'amoxicillin',
      '--allergy',
      'penicillin',
      '--dose',
      'metformin 500 mg twice daily',
      '--egfr',
      '25',
      '--format',
      'json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const r = KbCheckResult.parse(JSON.parse(run.stdout));
    expect(r.input.medications).toContainEqual({
      name: 'metformin',
      dose: { value: 500, unit: 'mg' },
      frequencyPerDay: 2,
      route: null,
    });
    const allergy = r.findings.find((f) => f.kind === 'allergy')!;
    expect(allergy).toMatchObject({ severity: 'critical', medications: ['amoxicillin'] });
    expect(allergy.factIds).toContain('xr:allergen:penicillin~class:penicillins');
    const dose = r.findings.find((f) => f.kind === 'dose')!;
    expect(dose).toMatchObject({ severity: 'critical', medications: ['metformin'] });
    expect(dose.sources.map((s) => s.factId)).toContain(dose.factIds[0]);
  });

  it('kb check refuses a dose it cannot read', async () => {
    const run = await co(['kb', 'check', '--dose', 'metformin lots']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^co: USAGE: --dose “metformin lots”: expected "DRUG AMOUNT UNIT/);
  });

  it('kb search of a misspelt drug suggests the right one; a curated misspelling resolves with its codes', async () => {
    const misspelt = KbSearchResult.parse(
      JSON.parse((await co(['kb', 'search', 'ibuprfen', '--format', 'json'])).stdout),
    );
    expect(misspelt.resolved).toEqual([]);
    expect(misspelt.suggestions[0]).toMatchObject({ id: 'drug:ibuprofen', name: 'Ibuprofen' });

    // kb/starter/aliases.csv: drug:warfarin,warfrin,misspelling; codes.csv: RxNorm 11289, ATC B01AA03.
    const curated = KbSearchResult.parse(
      JSON.parse((await co(['kb', 'search', 'warfrin', '--format', 'json'])).stdout),
    );
    expect(curated.resolved).toHaveLength(1);
    expect(curated.resolved[0]).toMatchObject({ id: 'drug:warfarin', type: 'ingredient', name: 'Warfarin' });
    expect(curated.resolved[0]!.codes).toEqual(
      expect.arrayContaining([
        { system: 'rxnorm', code: '11289' },
        { system: 'atc', code: 'B01AA03' },
      ]),
    );
    expect(curated.resolved[0]!.classes.map((c) => c.id)).toContain('class:anticoagulants');
  });
});

describe('co case submit --wait against a real stack', () => {
  const prefix = uniquePrefix();
  const dataDir = `.data/test-${prefix}`;
  let stack: DevStack;

  beforeAll(async () => {
    stack = await DevStack.open({
      redisUrl: redisUrl(),
      keyPrefix: prefix,
      dataDir,
      delivery: false,
      env: { NODE_ENV: 'test', LOG_LEVEL: 'info' },
    });
    await stack.start();
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
    await deletePrefix(prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('submits an example case and follows it to review, progress on stderr', async () => {
    const run = await co(['case', 'submit', 'examples/cases/renal-ckd4.json', '--wait', '--format', 'json'], {
      CO_BASE_URL: stack.base,
      CO_TOKEN: stack.tokens.service,
    });
    expect(run.code, run.stderr).toBe(0);
    const r = CaseSubmitResult.parse(JSON.parse(run.stdout));
    expect(r).toMatchObject({ created: true, baseUrl: stack.base });
    expect(r.case).toMatchObject({ caseId: 'syn-renal-ckd4-001', status: 'awaiting_review', revision: 1, plan: null });
    expect(r.case.summary?.medications).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/co: case syn-renal-ckd4-001 submitted to http/);
    expect(run.stderr).toMatch(/co: case syn-renal-ckd4-001: awaiting_review/);
  }, 90_000);

  it('a bare Bundle with --question gets a case id from its content; a wrong token fails with exit 1', async () => {
    const bundle = path.join(ROOT, 'examples/cases/polypharmacy-ckd.json');
    const tmp = mkdtempSync(path.join(tmpdir(), 'co-submit-'));
    try {
      const file = path.join(tmp, 'bundle.json');
      writeFileSync(
        file,
        JSON.stringify(
          (JSON.parse(readFileSync(bundle, 'utf8')) as { submission: { bundle: unknown } }).submission.bundle,
        ),
      );
      const args = ['case', 'submit', file, '--question', QUESTION, '--wait', '--base-url', stack.base];
      const run = await co([...args, '--format', 'json'], { CO_TOKEN: stack.tokens.service });
      expect(run.code, run.stderr).toBe(0);
      const r = CaseSubmitResult.parse(JSON.parse(run.stdout));
      expect(r.case.caseId).toMatch(/^cli-[0-9a-f]{16}$/);
      expect(r.case.status).toBe('awaiting_review');

      const again = await co(args, { CO_TOKEN: stack.tokens.service });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`# Case ${r.case.caseId}`);
      expect(again.stdout).toContain('already known: not submitted again');

      const denied = await co(args, { CO_TOKEN: 'not-a-token' });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/^co: \w+: POST \/v1\/cases answered 401/);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 90_000);
});
