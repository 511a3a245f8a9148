/**
 * The cases processor (workers/cases-processor.ts) called directly, without a BullMQ Worker:
 * real jobs on a real cases queue (added by the producer and `enqueueResume`, fetched with
 * `queue.getJob`), the real case store and lifecycle, audit log, metrics, review and delivery
 * queues on the test Redis, and a real ClinicalCaseRuntime (knowledge-driven agents, the starter
 * knowledge base, a SQLite checkpointer under the suite's DATA_DIR). The planner is the real one,
 * wrapped so chosen cases fail the way a tool or model can (retryable or permanent).
 */
import { DecisionStore } from '../../src/records/decisions.js';
import { CaseLedger } from '../../src/records/case-ledger.js';
import { openTestRecords } from '../helpers/records.js';
import { rm } from 'node:fs/promises';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knowledgePlanner } from '../../src/agents/knowledge-mode.js';
import { CaseLifecycle } from '../../src/cases/lifecycle.js';
import { CaseStore } from '../../src/cases/store.js';
import type { Planner } from '../../src/domain/agents.js';
import type { ReviewDecision } from '../../src/domain/plan.js';
import { PipelineStepError } from '../../src/errors.js';
import type { ClinicalCaseRuntime } from '../../src/graphs/clinical-case/runtime.js';
import type { FaultHooks } from '../../src/infra/faults.js';
import { createLogger } from '../../src/logger.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { AuditLog } from '../../src/audit/case-log.js';
import {
  CASES_QUEUE,
  caseJobId,
  casesWorkerOptions,
  enqueueResume,
  resumeJobId,
  type CaseJobData,
} from '../../src/queues/cases.js';
import { createRedis } from '../../src/queues/connection.js';
import { DeliveryQueues, deliveryJobId } from '../../src/queues/delivery.js';
import { CaseProducer } from '../../src/queues/producer.js';
import { createReviewQueue, reviewJobId, reviewPriority } from '../../src/queues/review.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { createCaseProcessor } from '../../workers/cases-processor.js';
import { openCaseRuntime } from '../../workers/graph-setup.js';
import { minimalSubmission } from '../helpers/cases.js';
import { deletePrefix, testConfig, uniquePrefix } from '../helpers/env.js';
import { useStarterKb } from '../helpers/kb.js';
import { LogCapture } from '../helpers/stack.js';

const config = testConfig(uniquePrefix());
const { kb } = useStarterKb();

/** Questions whose next planner call fails with a retryable error (once each). */
const failNext = new Set<string>();
const planner: Planner = {
  kind: 'knowledge-driven',
  plan(view, comments) {
    if (view.question.startsWith('permanent'))
      return Promise.reject(new PipelineStepError('decompose', 'input can never work', false));
    if (failNext.delete(view.question))
      return Promise.reject(new PipelineStepError('decompose', 'planner timed out', true));
    return knowledgePlanner.plan(view, comments);
  },
};

/** Points where the next pass throws, as a crash there would stop the job. */
const crashAt = new Set<string>();
const faults: FaultHooks = {
  at(point) {
    if (crashAt.delete(point)) throw new Error(`injected crash at ${point}`);
  },
};

let redis: Redis;
let runtime: ClinicalCaseRuntime;
let closeRuntime: () => Promise<void>;

beforeAll(async () => {
  redis = createRedis(config.redis.url!, 'test-cases-processor');
  const opened = await openCaseRuntime(config, {
    tools: { knowledgeBase: new LocalKnowledgeBaseClient(kb().store), literature: null, imaging: null },
    planner,
  });
  runtime = opened.runtime;
  closeRuntime = opened.close;
});
afterAll(async () => {
  await closeRuntime?.();
  await redis?.quit();
  await rm(config.dataDir, { recursive: true, force: true });
});

/** The processor and its real dependencies under a fresh key prefix. */
async function harness(attempts = 3, auditLog?: (prefix: string) => AuditLog) {
  const prefix = uniquePrefix();
  const cfg = testConfig(prefix, { CASE_JOB_ATTEMPTS: String(attempts) });
  const producer = CaseProducer.fromConfig(cfg, redis);
  const store = new CaseStore(redis, prefix);
  const lifecycle = new CaseLifecycle(store);
  const audit = auditLog?.(prefix) ?? new AuditLog(redis, prefix, cfg.audit.chainKey);
  const metrics = new Metrics(redis, prefix);
  const reviewQueue = createReviewQueue(redis, prefix, () => undefined);
  const deliveries = DeliveryQueues.fromConfig(cfg, redis);
  const logs = new LogCapture();
  const records = await openTestRecords(cfg);
  const decisions = new DecisionStore(records, cfg.review.signingKey);
  const ledger = new CaseLedger(records);
  const run = createCaseProcessor({
    store,
    runtime,
    reviewQueue,
    decisions,
    ledger,
    retentionSeconds: 3600,
    enqueueDelivery: (data) => deliveries.enqueue(data),
    audit,
    metrics,
    logger: createLogger({ logLevel: 'debug' }, 'cases-processor', logs),
    faults,
  });
  const queue = producer.queue;

  /** Submit a case as the API does and return its real `case` job. */
  async function submit(caseId: string, question = 'Is the current medication list safe?'): Promise<Job> {
    await producer.submit(minimalSubmission(caseId, { question }), 'ehr-gateway');
    return (await queue.getJob(caseJobId(caseId)))!;
  }
  /** Hand a decision over as the review queue does (recorded, then a resume job) and return the real `resume` job. */
  async function resume(caseId: string, decision: ReviewDecision, record = true): Promise<Job> {
    if (record)
      await decisions.record({
        caseId,
        revision: decision.revision,
        decision,
        diff: null,
        recordedAt: decision.decidedAt,
      });
    await enqueueResume(queue, caseId, decision);
    return (await queue.getJob(resumeJobId(caseId, decision.revision)))!;
  }
  const events = async (caseId: string) => (await audit.list(caseId)).map((e) => e.event);
  const reviewJobsOf = async (caseId: string) =>
    (await reviewQueue.getJobs(['waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed'])).filter(
      (j) => j.data.caseId === caseId,
    );

  return {
    prefix,
    cfg,
    producer,
    store,
    lifecycle,
    audit,
    metrics,
    reviewQueue,
    deliveries,
    logs,
    run,
    queue,
    submit,
    resume,
    decisions,
    ledger,
    records,
    events,
    reviewJobsOf,
    async close() {
      await producer.close();
      await reviewQueue.close();
      await deliveries.close();
      await records.close();
      await deletePrefix(prefix);
      await rm(cfg.dataDir, { recursive: true, force: true });
    },
  };
}
type Harness = Awaited<ReturnType<typeof harness>>;

const decision = (revision: number, extra: Record<string, unknown> = { action: 'approve' }) =>
  ({ revision, reviewer: 'dr-proc', decidedAt: new Date().toISOString(), ...extra }) as ReviewDecision;

async function graphDecisions(caseId: string): Promise<number> {
  return (await runtime.state(caseId)).values?.decisions.length ?? -1;
}

/** What the processor threw (fails the test if it did not throw). */
async function thrown(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the processor to throw');
}

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h?.close());

describe('case jobs', () => {
  it('drive a new case to awaiting_review and add exactly one review job with the deterministic id', async () => {
    const job = await h.submit('cp-start-1');
    expect((await h.store.get('cp-start-1'))!.status).toBe('queued');

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-start-1', status: 'awaiting_review' });

    const record = (await h.store.get('cp-start-1'))!;
    expect(record).toMatchObject({
      status: 'awaiting_review',
      revision: 1,
      attempts: 1,
      currentStep: 'review',
      pipeline: 'clinical-case-graph',
      error: null,
    });
    expect(record.completedSteps).toEqual(
      expect.arrayContaining(['normalise', 'decompose', 'execute_step', 'draft', 'verify']),
    );
    expect(record.summary).not.toBeNull();
    const reviews = await h.reviewJobsOf('cp-start-1');
    expect(reviews.map((j) => j.id)).toEqual([reviewJobId('cp-start-1', 1)]);
    const review = reviews[0]!;
    expect(review.data).toMatchObject({ caseId: 'cp-start-1', revision: 1, casePriority: 'routine' });
    expect(review.data.maxSeverity).toBe(record.maxSeverity);
    expect(review.opts.priority).toBe(reviewPriority('routine', record.maxSeverity));
    expect(review.data.request.plan.revision).toBe(1);
    const events = await h.events('cp-start-1');
    expect(events.filter((e) => e === 'review_enqueued')).toHaveLength(1);
    expect(events).toEqual(expect.arrayContaining(['step_started', 'step_finished', 'drafted', 'verified']));
  });

  it('run again after the review job exists: skipped, the graph not driven again', async () => {
    const job = await h.submit('cp-dup-1');
    await h.run(job);
    const before = await h.events('cp-dup-1');

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-dup-1', status: 'skipped' });

    expect(await h.store.get('cp-dup-1')).toMatchObject({ status: 'awaiting_review', attempts: 1, revision: 1 });
    expect(await h.reviewJobsOf('cp-dup-1')).toHaveLength(1);
    expect(await h.events('cp-dup-1')).toEqual(before);
  });

  it('run again while a resume is running (status running, review job present): skipped, status left alone', async () => {
    const job = await h.submit('cp-dup-2');
    await h.run(job);
    // A resume job took the case: running again at revision 1, its review job decided.
    expect(await h.lifecycle.resume('cp-dup-2')).toBe('applied');

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-dup-2', status: 'skipped' });

    expect(await h.store.get('cp-dup-2')).toMatchObject({ status: 'running', attempts: 1, currentStep: 'resume' });
  });

  it('a crash between awaiting_review and the review job: the job runs again and adds the missing review job', async () => {
    const job = await h.submit('cp-mend-1');
    crashAt.add('review.before-enqueue');
    const err = await thrown(h.run(job));
    expect(err.message).toBe('injected crash at review.before-enqueue');
    // The record already moved (the lifecycle's retry finds it past running and leaves it).
    expect((await h.store.get('cp-mend-1'))!.status).toBe('awaiting_review');
    expect(await h.reviewJobsOf('cp-mend-1')).toHaveLength(0);

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-mend-1', status: 'skipped' });

    expect((await h.reviewJobsOf('cp-mend-1')).map((j) => j.id)).toEqual([reviewJobId('cp-mend-1', 1)]);
    expect((await h.events('cp-mend-1')).filter((e) => e === 'review_enqueued')).toHaveLength(1);
  });

  it('invalid job data: the case fails with JOB_DATA_INVALID and the job with UnrecoverableError', async () => {
    await h.lifecycle.create({
      caseId: 'cp-bad-1',
      priority: 'routine',
      submittedBy: 'ehr-gateway',
      inputDigest: 'd',
      mode: 'knowledge-driven',
      hasCallback: false,
      callbackUrl: null,
    });
    await h.lifecycle.queue('cp-bad-1');
    await h.queue.add('case', { submission: { caseId: 'cp-bad-1' } } as unknown as CaseJobData, {
      jobId: caseJobId('cp-bad-1'),
    });
    const job = (await h.queue.getJob(caseJobId('cp-bad-1')))!;

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toMatch(/^JOB_DATA_INVALID: /);
    expect(await h.store.get('cp-bad-1')).toMatchObject({
      status: 'failed',
      error: { code: 'JOB_DATA_INVALID', message: 'job data does not match the case job schema' },
    });
  });

  it('a permanent AppError (retryable false) fails the case and becomes UnrecoverableError', async () => {
    const job = await h.submit('cp-perm-1', 'permanent: is the list safe?');

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toBe('PIPELINE_STEP_FAILED: step decompose failed: input can never work');
    expect(await h.store.get('cp-perm-1')).toMatchObject({
      status: 'failed',
      currentStep: null,
      error: { code: 'PIPELINE_STEP_FAILED', message: 'step decompose failed: input can never work' },
    });
    expect(await h.events('cp-perm-1')).toContain('failed');
    expect(await h.reviewJobsOf('cp-perm-1')).toHaveLength(0);
  });

  it('a retryable error on a non-final attempt restores queued with the error and rethrows it; the retry continues', async () => {
    const question = 'transient: is the list safe?';
    const job = await h.submit('cp-retry-1', question);
    expect(job.opts.attempts).toBe(3);
    failNext.add(question);

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(PipelineStepError);
    expect(err).not.toBeInstanceOf(UnrecoverableError);
    expect(await h.store.get('cp-retry-1')).toMatchObject({
      status: 'queued',
      error: { code: 'PIPELINE_STEP_FAILED', message: 'step decompose failed: planner timed out' },
    });
    expect(await h.events('cp-retry-1')).not.toContain('failed');

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-retry-1', status: 'awaiting_review' });
    const record = (await h.store.get('cp-retry-1'))!;
    expect(record).toMatchObject({ status: 'awaiting_review', attempts: 2, error: null });
    // Continued from the checkpoint: normalise finished in the first attempt and did not run again.
    expect(record.completedSteps[0]).toBe('decompose');
  });

  it('an audit entry that cannot be written fails the attempt instead of being skipped; the retry goes on to review', async () => {
    /** An audit log whose next `drafted` entry fails, as a Redis error would (a fault double, not a patched prototype). */
    class FailingOnce extends AuditLog {
      failed = false;
      override append(entry: Parameters<AuditLog['append']>[0]): Promise<string> {
        if (entry.event === 'drafted' && !this.failed) {
          this.failed = true;
          return Promise.reject(new Error('injected audit write failure'));
        }
        return super.append(entry);
      }
    }
    const own = await harness(3, (prefix) => new FailingOnce(redis, prefix, testConfig(prefix).audit.chainKey));
    try {
      const job = await own.submit('cp-audit-fail-1');
      expect((await thrown(own.run(job))).message).toMatch(/injected audit write failure/);
      expect((await own.store.get('cp-audit-fail-1'))!.status).toBe('queued');
      expect(await own.reviewJobsOf('cp-audit-fail-1')).toHaveLength(0);
      // The retry continues from the checkpoint (the draft node had finished) to review; the
      // milestone is written and the chain holds. The progress entry of the node that finished
      // before the failure is not repeated: docs/security.md says progress entries can be missed.
      await expect(own.run(job)).resolves.toEqual({ caseId: 'cp-audit-fail-1', status: 'awaiting_review' });
      const events = await own.events('cp-audit-fail-1');
      expect(events).toContain('review_enqueued');
      expect(events.filter((e) => e === 'drafted')).toHaveLength(0);
      expect((await own.audit.verify('cp-audit-fail-1')).break).toBeNull();
    } finally {
      await own.close();
    }
  });

  it('a retryable error on the final attempt fails the case and rethrows the error for BullMQ to fail the job', async () => {
    const final = await harness(1);
    try {
      const question = 'transient-final: is the list safe?';
      const job = await final.submit('cp-retry-final-1', question);
      expect(job.opts.attempts).toBe(1);
      failNext.add(question);

      const err = await thrown(final.run(job));

      expect(err).toBeInstanceOf(PipelineStepError);
      expect(await final.store.get('cp-retry-final-1')).toMatchObject({
        status: 'failed',
        error: { code: 'PIPELINE_STEP_FAILED' },
      });
      expect(await final.events('cp-retry-final-1')).toContain('failed');
    } finally {
      await final.close();
    }
  });

  it('interrupted by shutdown: the case goes back to queued and the job to delayed (DelayedError)', async () => {
    const own = await harness();
    // Manual processing, as BullMQ's Worker does it: the job is active under our lock token.
    const worker = new Worker(CASES_QUEUE, null, { ...casesWorkerOptions(redis, own.cfg), autorun: false });
    try {
      await own.submit('cp-shutdown-1');
      const token = 'test-token-1';
      const job = await worker.getNextJob(token);
      expect(job.id).toBe(caseJobId('cp-shutdown-1'));
      const controller = new AbortController();
      controller.abort();

      const err = await thrown(own.run(job, token, controller.signal));

      expect(err).toBeInstanceOf(DelayedError);
      expect(await own.store.get('cp-shutdown-1')).toMatchObject({ status: 'queued', currentStep: null });
      expect(await own.queue.getJobState(caseJobId('cp-shutdown-1'))).toBe('delayed');
      expect((await own.queue.getJob(caseJobId('cp-shutdown-1')))!.attemptsMade).toBe(0);
    } finally {
      await worker.close();
      await own.close();
    }
  });
});

describe('resume jobs', () => {
  /** A case drafted and waiting for review at revision 1. */
  async function inReview(caseId: string, question?: string): Promise<void> {
    await h.run(await h.submit(caseId, question));
    expect((await h.store.get(caseId))!.status).toBe('awaiting_review');
  }

  it('approve: the case closes approved once and its delivery is enqueued', async () => {
    await inReview('cp-approve-1');
    const job = await h.resume('cp-approve-1', decision(1));

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-approve-1', status: 'approved' });

    const record = (await h.store.get('cp-approve-1'))!;
    expect(record).toMatchObject({ status: 'approved', completions: 1, decidedBy: 'dr-proc', currentStep: null });
    expect(record.plan).toMatchObject({ revision: 1 });
    expect(record.delivery).toMatchObject({ status: 'pending', channel: 'api' });
    const delivery = await h.deliveries.delivery.getJob(deliveryJobId('cp-approve-1', 1));
    expect(delivery?.data).toMatchObject({ caseId: 'cp-approve-1', revision: 1, status: 'approved' });
    const events = await h.events('cp-approve-1');
    expect(events.filter((e) => e === 'resumed')).toHaveLength(1);
    expect(events.filter((e) => e === 'closed')).toHaveLength(1);
  });

  it('a resume job for a closed case is skipped and hands the case over to delivery (once)', async () => {
    await inReview('cp-closed-1');
    const job = await h.resume('cp-closed-1', decision(1));
    await h.run(job);
    // A crash after closing but before the delivery job was added.
    await (await h.deliveries.delivery.getJob(deliveryJobId('cp-closed-1', 1)))!.remove();
    const eventsBefore = await h.events('cp-closed-1');

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-closed-1', status: 'skipped' });

    expect(await h.deliveries.delivery.getJob(deliveryJobId('cp-closed-1', 1))).toBeDefined();
    expect(await h.store.get('cp-closed-1')).toMatchObject({ status: 'approved', completions: 1 });
    expect(await graphDecisions('cp-closed-1')).toBe(1);
    expect(await h.events('cp-closed-1')).toEqual(eventsBefore);

    // Once delivered, a further run hands nothing over.
    await (await h.deliveries.delivery.getJob(deliveryJobId('cp-closed-1', 1)))!.remove();
    await h.lifecycle.recordDelivery('cp-closed-1', {
      status: 'delivered',
      channel: 'api',
      attempts: 0,
      lastError: null,
      deliveredAt: new Date().toISOString(),
    });
    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-closed-1', status: 'skipped' });
    expect(await h.deliveries.delivery.getJob(deliveryJobId('cp-closed-1', 1))).toBeUndefined();
  });

  it('request_changes: revision 2 goes to review; the same resume job run again is skipped, the decision applied once', async () => {
    await inReview('cp-changes-1');
    const job = await h.resume('cp-changes-1', decision(1, { action: 'request_changes', comments: 'Add INR.' }));

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-changes-1', status: 'awaiting_review' });
    expect(await h.store.get('cp-changes-1')).toMatchObject({ status: 'awaiting_review', revision: 2 });
    expect((await h.reviewJobsOf('cp-changes-1')).map((j) => j.id).sort()).toEqual([
      reviewJobId('cp-changes-1', 1),
      reviewJobId('cp-changes-1', 2),
    ]);

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-changes-1', status: 'skipped' });
    expect(await h.store.get('cp-changes-1')).toMatchObject({ status: 'awaiting_review', revision: 2 });
    expect(await graphDecisions('cp-changes-1')).toBe(1);
    expect((await h.events('cp-changes-1')).filter((e) => e === 'resumed')).toHaveLength(1);
  });

  it('a decision the graph already applied (crash before the next review job) is not applied again', async () => {
    await inReview('cp-applied-1');
    const job = await h.resume('cp-applied-1', decision(1, { action: 'request_changes', comments: 'Add INR.' }));
    crashAt.add('review.before-enqueue');
    const err = await thrown(h.run(job));
    expect(err.message).toBe('injected crash at review.before-enqueue');
    expect(await h.reviewJobsOf('cp-applied-1')).toHaveLength(1);
    expect(await graphDecisions('cp-applied-1')).toBe(1);

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-applied-1', status: 'awaiting_review' });

    expect(await h.store.get('cp-applied-1')).toMatchObject({ status: 'awaiting_review', revision: 2 });
    expect(await graphDecisions('cp-applied-1')).toBe(1);
    expect((await runtime.state('cp-applied-1')).values?.revision).toBe(2);
    expect((await h.reviewJobsOf('cp-applied-1')).map((j) => j.id)).toContain(reviewJobId('cp-applied-1', 2));
    expect((await h.events('cp-applied-1')).filter((e) => e === 'review_enqueued')).toHaveLength(2);
  });

  it('a refused decision returns the case to awaiting_review with DECISION_REFUSED', async () => {
    await inReview('cp-refused-1');
    // A decision for a revision the case is not at.
    const job = await h.resume('cp-refused-1', decision(3));

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toBe('DECISION_REFUSED: decision is for revision 3, but the case is at revision 1');
    expect(await h.store.get('cp-refused-1')).toMatchObject({
      status: 'awaiting_review',
      revision: 1,
      currentStep: 'review',
      error: { code: 'DECISION_REFUSED' },
    });
    expect(await graphDecisions('cp-refused-1')).toBe(0);
    const events = await h.events('cp-refused-1');
    expect(events).toContain('decision_refused');
    expect(events).not.toContain('failed');
  });

  it('a resume job without a recorded decision is refused: anything that writes to Redis cannot approve', async () => {
    await inReview('cp-forged-1');
    // A job put straight into BullMQ, claiming an approval no reviewer recorded.
    const job = await h.resume('cp-forged-1', decision(1), false);
    const err = await thrown(h.run(job));
    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toMatch(/^DECISION_REFUSED: no verified recorded decision .* \(not_recorded\)$/);
    expect(await h.store.get('cp-forged-1')).toMatchObject({ status: 'awaiting_review', revision: 1 });
    expect(await graphDecisions('cp-forged-1')).toBe(0);
    expect(await h.events('cp-forged-1')).toContain('decision_refused');
  });

  it('a decision written to Redis without the signing key is refused; the recorded one wins over the job', async () => {
    await inReview('cp-forged-2');
    // Written straight into the decisions hash as the store would, but signed with another key.
    const forger = new DecisionStore(h.records, 'not-the-key-not-the-key-not-the-key-0000');
    await forger.record({
      caseId: 'cp-forged-2',
      revision: 1,
      decision: decision(1),
      diff: null,
      recordedAt: decision(1).decidedAt,
    });
    const job = await h.resume('cp-forged-2', decision(1), false);
    const err = await thrown(h.run(job));
    expect(err.message).toMatch(/\(bad_signature\)$/);
    expect(await graphDecisions('cp-forged-2')).toBe(0);

    // The API recorded "request changes"; the job claims "approve": the recorded decision is applied.
    await inReview('cp-forged-3');
    await h.decisions.record({
      caseId: 'cp-forged-3',
      revision: 1,
      decision: decision(1, { action: 'request_changes', comments: 'Add INR.' }),
      diff: null,
      recordedAt: decision(1).decidedAt,
    });
    const lying = await h.resume('cp-forged-3', decision(1), false);
    await expect(h.run(lying)).resolves.toEqual({ caseId: 'cp-forged-3', status: 'awaiting_review' });
    expect(await h.store.get('cp-forged-3')).toMatchObject({ status: 'awaiting_review', revision: 2 });
  });

  it('a retryable error while resuming restores awaiting_review and rethrows; the retry finishes without re-applying', async () => {
    const question = 'resume-transient: is the list safe?';
    await inReview('cp-resume-retry-1', question);
    const job = await h.resume('cp-resume-retry-1', decision(1, { action: 'request_changes', comments: 'Add INR.' }));
    failNext.add(question); // the planner fails when revision 2 is planned

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(PipelineStepError);
    expect(await h.store.get('cp-resume-retry-1')).toMatchObject({
      status: 'awaiting_review',
      error: { code: 'PIPELINE_STEP_FAILED' },
    });

    await expect(h.run(job)).resolves.toEqual({ caseId: 'cp-resume-retry-1', status: 'awaiting_review' });
    expect(await h.store.get('cp-resume-retry-1')).toMatchObject({ revision: 2, error: null });
    expect(await graphDecisions('cp-resume-retry-1')).toBe(1);
  });

  it('invalid resume data: UnrecoverableError, the case record untouched by the processor', async () => {
    await inReview('cp-bad-resume-1');
    await h.queue.add('resume', { caseId: 'cp-bad-resume-1', decision: { action: 'approve' } } as never, {
      jobId: resumeJobId('cp-bad-resume-1', 1),
    });
    const job = (await h.queue.getJob(resumeJobId('cp-bad-resume-1', 1)))!;

    const err = await thrown(h.run(job));

    expect(err).toBeInstanceOf(UnrecoverableError);
    expect(err.message).toMatch(/^JOB_DATA_INVALID: /);
    expect(await h.store.get('cp-bad-resume-1')).toMatchObject({ status: 'awaiting_review', error: null });
  });
});
