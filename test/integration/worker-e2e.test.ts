/**
 * End to end over real sockets and real Redis: cases POSTed over HTTP are drafted by the
 * clinical-case graph in a BullMQ worker (SQLite checkpoints), wait in the review queue with a
 * deterministic job id, and resume on human decisions: approve, request changes, reject.
 */
import { DecisionStore } from '../../src/records/decisions.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseView } from '../../src/domain/case.js';
import type { ReviewDecision } from '../../src/domain/plan.js';
import { enqueueResume } from '../../src/queues/cases.js';
import { reviewJobId } from '../../src/queues/review.js';
import { identifiersOf, loadExampleCases } from '../helpers/cases.js';
import { TEST_TOKEN, deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { LogCapture, startApi, startWorker, type ApiStack, type WorkerStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
const config = testConfig(prefix, { WORKER_CONCURRENCY: '4', MAX_REVISIONS: '2' });
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
const examples = loadExampleCases();

async function getCase(id: string): Promise<CaseView> {
  const res = await fetch(`${base}/v1/cases/${id}`, { headers });
  expect(res.status).toBe(200);
  return (await res.json()) as CaseView;
}

const until = (id: string, status: CaseView['status'], revision = 1) =>
  waitUntil(
    async () => {
      const v = await getCase(id);
      return v.status === status && v.revision === revision ? v : undefined;
    },
    20_000,
    `case ${id} to be ${status} at revision ${revision}`,
  );

/** Hand a decision over as the review queue does: recorded (signed) first, then the resume job. */
async function handOver(queue: ApiStack['resumes'], caseId: string, d: ReviewDecision): Promise<void> {
  await new DecisionStore(api.records, config.review.signingKey).record({
    caseId,
    revision: d.revision,
    decision: d,
    diff: null,
    recordedAt: d.decidedAt,
  });
  await enqueueResume(queue, caseId, d);
}

const decision = (revision: number, extra: Record<string, unknown>) =>
  ({ revision, reviewer: 'dr-e2e', decidedAt: new Date().toISOString(), ...extra }) as ReviewDecision;

/** The highest finding per synthetic case with the starter knowledge base (see test/unit/kb-graph.test.ts for the findings themselves). */
const EXPECTED_SEVERITY: Record<string, string> = {
  'dental-amoxicillin-allergy.json': 'critical',
  'diabetes-note-injection.json': 'high',
  'pneumonia-penicillin-allergy.json': 'moderate',
  'polypharmacy-ckd.json': 'high',
  'renal-ckd4.json': 'critical',
};

describe('intake → graph → review queue → decision, over HTTP', () => {
  it('drafts every synthetic case and queues it for review with a deterministic job id', async () => {
    for (const example of examples) {
      const res = await fetch(`${base}/v1/cases`, {
        method: 'POST',
        headers,
        body: JSON.stringify(example.submission),
      });
      expect(res.status, example.file).toBe(202);
    }
    for (const example of examples) {
      const view = await until(example.submission.caseId, 'awaiting_review');
      expect(view).toMatchObject({
        attempts: 1,
        pipeline: 'clinical-case-graph',
        currentStep: 'review',
        plan: null,
        error: null,
        mode: 'knowledge-driven',
      });
      expect(view.completedSteps).toEqual(
        expect.arrayContaining(['normalise', 'decompose', 'execute_step', 'draft', 'verify']),
      );
      // The worker runs the real knowledge base (seeded from kb/starter); literature and imaging are not configured (moderate).
      expect(view.maxSeverity, example.file).toBe(EXPECTED_SEVERITY[example.file]);
      const job = await worker.handle.reviewQueue.getJob(reviewJobId(example.submission.caseId, 1));
      const data = job!.data;
      expect(data.request.plan.label).toMatch(/^Knowledge-driven draft/);
      expect(data.request.plan.unavailable.length).toBeGreaterThan(0);
      // What goes to reviewers is the minimised view's plan: no identifier of the bundle.
      const text = JSON.stringify(data);
      for (const id of identifiersOf(example.submission)) expect(text, `review job leaked ${id}`).not.toContain(id);
    }
    const stat = await worker.handle.reviewQueue.getJob(reviewJobId('syn-pneumonia-allergy-001', 1));
    const routine = await worker.handle.reviewQueue.getJob(reviewJobId('syn-diabetes-injection-001', 1));
    expect(stat!.opts.priority!).toBeLessThan(routine!.opts.priority!);
  });

  it('approve: the case closes approved and GET returns the plan', async () => {
    await handOver(api.resumes, 'syn-polypharmacy-ckd-001', decision(1, { action: 'approve' }));
    const view = await until('syn-polypharmacy-ckd-001', 'approved');
    expect(view.plan).toMatchObject({ revision: 1, mode: 'knowledge-driven' });
    expect(view.completedAt).not.toBeNull();
    expect((await api.producer.store.get('syn-polypharmacy-ckd-001'))?.completions).toBe(1);
  });

  it('request_changes: a second revision is drafted and queued; a resubmitted decision is not applied twice', async () => {
    const d = decision(1, { action: 'request_changes', comments: 'Please state which checks must be done by hand.' });
    await handOver(api.resumes, 'syn-diabetes-injection-001', d);
    await handOver(api.resumes, 'syn-diabetes-injection-001', d);
    const view = await until('syn-diabetes-injection-001', 'awaiting_review', 2);
    expect(view.revision).toBe(2);
    const job = await worker.handle.reviewQueue.getJob(reviewJobId('syn-diabetes-injection-001', 2));
    expect(job).toBeDefined();
    const request = job!.data.request;
    expect(request.plan.sections.assessment.some((r) => r.citations.includes('review:r1'))).toBe(true);
    expect(request.findings.some((f) => f.code === 'embedded_instruction')).toBe(true);
  });

  it('reject: the case closes with the reason and no plan', async () => {
    await handOver(
      api.resumes,
      'syn-pneumonia-allergy-001',
      decision(1, { action: 'reject', reason: 'Needs imaging read by radiology first.' }),
    );
    const view = await until('syn-pneumonia-allergy-001', 'rejected');
    expect(view).toMatchObject({ plan: null, closedReason: 'Needs imaging read by radiology first.' });
  });

  it('keeps PHI out of every log line of the server and the worker', () => {
    const text = logs.text();
    expect(text).toContain('syn-polypharmacy-ckd-001');
    expect(text).toContain('case awaiting review');
    for (const example of examples) {
      for (const identifier of identifiersOf(example.submission))
        expect(text, `log leaked ${identifier}`).not.toContain(identifier);
      for (const note of example.submission.notes ?? []) expect(text).not.toContain(note.slice(0, 40));
      expect(text).not.toContain(example.submission.question.slice(0, 40));
    }
  });
});
