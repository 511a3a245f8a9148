/**
 * End to end over real sockets: cases POSTed over HTTP to a listening server are picked up
 * by a real BullMQ worker on real Redis and reach their final status, visible via GET.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseView } from '../../src/domain/case.js';
import { identifiersOf, loadExampleCases } from '../helpers/cases.js';
import { TEST_TOKEN, deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { LogCapture, startApi, startWorker, type ApiStack, type WorkerStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
const config = testConfig(prefix, { WORKER_CONCURRENCY: '4' });
const logs = new LogCapture();
let api: ApiStack;
let worker: WorkerStack;
let base: string;

beforeAll(async () => {
  api = await startApi(config, logs);
  base = await api.app.listen({ host: '127.0.0.1', port: 0 });
  worker = await startWorker(config, logs);
});
afterAll(async () => {
  await worker.close();
  await api.close();
  await deletePrefix(prefix);
});

const headers = { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': 'application/json' };

async function getCase(id: string): Promise<CaseView> {
  const res = await fetch(`${base}/v1/cases/${id}`, { headers });
  expect(res.status).toBe(200);
  return (await res.json()) as CaseView;
}

describe('intake to worker over HTTP', () => {
  const examples = loadExampleCases();

  it('runs every synthetic example case to intake_complete with its summary', async () => {
    for (const example of examples) {
      const res = await fetch(`${base}/v1/cases`, { method: 'POST', headers, body: JSON.stringify(example.submission) });
      expect(res.status, example.file).toBe(202);
    }
    for (const example of examples) {
      const view = await waitUntil(async () => {
        const v = await getCase(example.submission.caseId);
        return v.status === 'intake_complete' ? v : undefined;
      }, 15_000, `case ${example.submission.caseId}`);
      expect(view).toMatchObject({ attempts: 1, pipeline: 'intake-only', currentStep: null, completedSteps: ['summarise'], error: null, plan: null });
      expect(view.completedAt).not.toBeNull();
    }
    const poly = await getCase('syn-polypharmacy-ckd-001');
    expect(poly.summary).toEqual({ conditions: 4, medications: 4, allergies: 0, observations: 4, imagingStudies: 0, notes: 0 });
    const pneumonia = await getCase('syn-pneumonia-allergy-001');
    expect(pneumonia.summary).toMatchObject({ allergies: 1, imagingStudies: 1 });
  });

  it('records each completion once in the store', async () => {
    for (const example of examples) {
      const record = await api.producer.store.get(example.submission.caseId);
      expect(record?.completions).toBe(1);
    }
  });

  it('keeps PHI out of every log line of the server and the worker', () => {
    const text = logs.text();
    expect(text).toContain('syn-polypharmacy-ckd-001');
    expect(text).toContain('case finished');
    for (const example of examples) {
      for (const identifier of identifiersOf(example.submission)) expect(text, `log leaked ${identifier}`).not.toContain(identifier);
      for (const note of example.submission.notes ?? []) expect(text).not.toContain(note.slice(0, 40));
      expect(text).not.toContain(example.submission.question.slice(0, 40));
    }
  });
});
