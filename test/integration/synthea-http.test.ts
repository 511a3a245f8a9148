/**
 * The 40 shared Synthea records (whole-life FHIR transaction bundles, 0.2–2 MB) through the stack
 * as deployed (test/support/stack.ts: API and cases worker as their own processes, real sockets):
 * every record reaches review; what the reviewer gets is bounded, names none of the patient's
 * names, leads with key results where the record has them, and lists exactly the current
 * medications an independent reading of the bundle finds. Bad input over HTTP gets a clear
 * problem+json code. Skipped when the shared data is not there.
 */
import { rm } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ApiError, type ClinicalOrchestratorClient } from '../../src/client/index.js';
import { deletePrefix, redisUrl, uniquePrefix, waitUntil } from '../helpers/env.js';
import {
  activeOrders,
  hasLoinc,
  loadSynthea,
  patientNames,
  SYNTHEA_FILES,
  viewMedicationKeys,
  type RawBundle,
} from '../helpers/synthea.js';
import { DevStack } from '../support/stack.js';
import { parseSubmission } from '../../src/queues/producer.js';

const prefix = uniquePrefix();
const dataDir = `.data/test-${prefix}`;
const QUESTION = 'Is the current medication list safe, and what needs monitoring?';
/** LOINC 85354-9: the blood pressure panel Synthea records (systolic 8480-6 and diastolic 8462-4 as components). */
const BP_PANEL = '85354-9';
/** What the reviewer's view of a case may weigh at most, as JSON (the largest of the 40 is about 21 kB). */
const VIEW_LIMIT = 64 * 1024;
let stack: DevStack;
let service: ClinicalOrchestratorClient;
let reviewer: ClinicalOrchestratorClient;

const caseIdOf = (file: string) => `synthea-http-${file.replace(/\D/g, '')}`;

beforeAll(async () => {
  stack = await DevStack.open({
    redisUrl: redisUrl(),
    keyPrefix: prefix,
    dataDir,
    staff: { 'dr-synthea': { roles: ['reviewer'] } },
    delivery: false,
    env: { NODE_ENV: 'test', LOG_LEVEL: 'info' },
  });
  await stack.start();
  service = stack.client();
  reviewer = stack.client(stack.tokens.staff['dr-synthea']);
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await deletePrefix(prefix);
  await rm(dataDir, { recursive: true, force: true });
});

describe.skipIf(SYNTHEA_FILES.length === 0)('the 40 Synthea records over HTTP', () => {
  it('each reaches review with a bounded, PHI-free view, key results and exactly the current medications', async () => {
    expect(SYNTHEA_FILES).toHaveLength(40);
    const bundles = new Map<string, RawBundle>(SYNTHEA_FILES.map((f) => [f, loadSynthea(f)]));
    for (const [file, bundle] of bundles) {
      const { created } = await service.submitCase({ caseId: caseIdOf(file), question: QUESTION, bundle } as never);
      expect(created, file).toBe(true);
    }
    let matched = 0;
    let largest = 0;
    for (const [file, bundle] of bundles) {
      const view = await service.waitForStatus(caseIdOf(file), ['awaiting_review', 'failed'], { timeoutMs: 150_000 });
      expect(view, file).toMatchObject({ status: 'awaiting_review', revision: 1, error: null });
      // The record says awaiting_review just before the review job is added (by design): wait for the job.
      const detail = await waitUntil(
        async () => {
          try {
            return await reviewer.getReview(caseIdOf(file), 1);
          } catch (e) {
            if (e instanceof ApiError && e.status === 404) return undefined;
            throw e;
          }
        },
        30_000,
        `${file}: the review job`,
      );
      const seen = detail.request.view!;
      const json = JSON.stringify(seen);
      largest = Math.max(largest, json.length);
      expect(json.length, file).toBeLessThan(VIEW_LIMIT);
      for (const name of patientNames(bundle)) expect(json, `${file}: patient name`).not.toContain(name);
      expect(viewMedicationKeys(seen.medications), file).toEqual(activeOrders(bundle));
      if (activeOrders(bundle).length) matched++;
      if (hasLoinc(bundle, BP_PANEL)) {
        const bp = seen.labs.find((l) => l.loinc === BP_PANEL);
        expect(bp?.components.map((c) => c.loinc).sort(), `${file}: blood pressure components`).toEqual([
          '8462-4',
          '8480-6',
        ]);
      }
      // Key results lead, bounded; the rest is counted, never dumped.
      expect(seen.labs.length, file).toBeLessThanOrEqual(40);
      expect(seen.counts.observations, file).toBeGreaterThan(0);
    }
    console.info(`synthea over HTTP: 40/40 in review; ${matched} with current medications; largest view ${largest} B`);
  }, 240_000);

  it('keeps each submission in Redis once: only its case job holds the bundle', async () => {
    // Runs after the 40 cases reached review: case jobs, records, audit trails, decisions' keys,
    // review jobs and claims are all there. Intake stores the validated submission (the FHIR subset
    // the system uses, not the raw bundle); only the case job may hold it, every other key of the
    // case (record, audit trail, review job with the minimised view and the plan) is smaller and
    // holds none of the bundle's resource ids.
    const sizes = new Map<string, number>();
    const redis = new Redis(redisUrl());
    try {
      for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          for (const key of keys) sizes.set(key, (await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
        } while (cursor !== '0');
      }
    } finally {
      await redis.quit();
    }
    const reader = new Redis(redisUrl());
    const contentOf = async (key: string): Promise<string> => {
      switch (await reader.type(key)) {
        case 'hash':
          return JSON.stringify(await reader.hgetall(key));
        case 'string':
          return (await reader.get(key)) ?? '';
        case 'list':
          return (await reader.lrange(key, 0, -1)).join('\n');
        case 'zset':
          return (await reader.zrange(key, '0', '-1')).join('\n');
        case 'set':
          return (await reader.smembers(key)).join('\n');
        case 'stream':
          return JSON.stringify(await reader.xrange(key, '-', '+'));
        default:
          return '';
      }
    };
    onTestFinished(() => reader.quit().then(() => undefined));
    for (const file of SYNTHEA_FILES) {
      const caseId = caseIdOf(file);
      const stored = JSON.stringify(
        parseSubmission({ caseId, question: QUESTION, bundle: loadSynthea(file) }, []),
      ).length;
      const job = `{${prefix}:cases}:cases:case.${caseId}`;
      expect(sizes.get(job), `${file}: the case job`).toBeGreaterThan(stored);
      const others = [...sizes].filter(([key]) => key !== job && new RegExp(`${caseId}(?!\\d)`).test(key));
      expect(others.length, `${file}: keys of the case`).toBeGreaterThan(2);
      // No other key is a copy: none is as large as the submission, and none carries the bundle's own
      // resource ids (the minimised view and everything built from it use local references).
      for (const [key, bytes] of others) expect(bytes, `${file}: ${key}`).toBeLessThan(stored);
      const ids = (loadSynthea(file) as { entry: Array<{ resource: { id?: string } }> }).entry
        .map((e) => e.resource.id)
        .filter((id): id is string => typeof id === 'string' && id.length >= 16)
        .slice(0, 20);
      expect(ids.length, file).toBeGreaterThan(0);
      for (const [key] of others) {
        const content = await contentOf(key);
        for (const id of ids) expect(content.includes(id), `${file}: ${key} holds resource id ${id}`).toBe(false);
      }
    }
  });

  it('refuses what is not a case with a clear problem code', async () => {
    const patient = { fullUrl: 'urn:uuid:p', resource: { resourceType: 'Patient', id: 'p', gender: 'female' } };
    const refused = async (bundle: unknown) => {
      const err = await service
        .submitCase({ caseId: 'synthea-http-bad', question: QUESTION, bundle } as never)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      return err as ApiError;
    };
    // SYNTHETIC bad inputs.
    expect(await refused({ resourceType: 'Patient', id: 'p' })).toMatchObject({
      status: 400,
      problemCode: 'CASE_INVALID',
    });
    const noPatient = await refused({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        {
          resource: {
            resourceType: 'MedicationRequest',
            status: 'active',
            intent: 'order',
            subject: { reference: 'urn:uuid:p' },
            medicationCodeableConcept: { text: 'metformin 500 mg tablet' },
          },
        },
      ],
    });
    expect(noPatient).toMatchObject({ status: 400, problemCode: 'CASE_INVALID' });
    expect(JSON.stringify(noPatient.problem)).toMatch(/exactly one Patient/);
    const dangling = await refused({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        patient,
        {
          resource: {
            resourceType: 'MedicationRequest',
            status: 'active',
            intent: 'order',
            subject: { reference: 'urn:uuid:p' },
            medicationReference: { reference: 'Medication/nowhere' },
          },
        },
      ],
    });
    expect(dangling.problem?.errors).toEqual([
      expect.objectContaining({
        code: 'unresolved_medication_reference',
        pointer: expect.stringMatching(/medicationReference/) as unknown,
      }),
    ]);
    const negative = await refused({
      resourceType: 'Bundle',
      type: 'collection',
      entry: [
        patient,
        {
          resource: {
            resourceType: 'MedicationRequest',
            status: 'active',
            intent: 'order',
            subject: { reference: 'urn:uuid:p' },
            medicationCodeableConcept: { text: 'metformin 500 mg tablet' },
            dosageInstruction: [{ timing: { repeat: { frequency: -2, period: 1, periodUnit: 'd' } } }],
          },
        },
      ],
    });
    expect(negative.problem?.errors?.map((e) => e.pointer)).toEqual([
      expect.stringMatching(/dosageInstruction\/0\/timing\/repeat\/frequency$/),
    ]);
  });

  it('answers a 20 MB body with 413 problem details', async () => {
    const padding = 'x'.repeat(20 * 1024 * 1024);
    const res = await fetch(`${stack.base}/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.tokens.service}`, 'content-type': 'application/json' },
      body: JSON.stringify({ caseId: 'synthea-http-huge', question: QUESTION, bundle: { padding } }),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(((await res.json()) as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
  });
});
