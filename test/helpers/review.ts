/** Review-queue test helpers: review jobs as the case worker writes them, and the queue's parts on real Redis. */
import type { Redis } from 'ioredis';
import type { CasePriority } from '../../src/domain/case.js';
import { reviewJobId, reviewPriority, type ReviewJobData } from '../../src/queues/review.js';
import type { Plan, Recommendation, ReviewDecision, Severity } from '../../src/domain/plan.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { AuditLog } from '../../src/queues/audit.js';
import { enqueueResume, type CasesQueue } from '../../src/queues/cases.js';
import { DecisionStore } from '../../src/queues/decisions.js';
import { ReviewQueue } from '../../src/queues/review-queue.js';

/** A plan statement citing the first medication entry of the case. */
export const testStatement = (id: string, text: string, extra: Partial<Recommendation> = {}): Recommendation => ({
  id,
  text,
  citations: ['case:med-1'],
  medications: [],
  supported: true,
  why: [],
  support: null,
  ...extra,
});

export function testPlan(revision: number, texts: string[] = ['Stop ibuprofen.', 'Check INR in 3 days.']): Plan {
  const rec = (id: string, text: string) => testStatement(id, text);
  return {
    revision,
    mode: 'knowledge-driven',
    label: 'Knowledge-driven draft (test)',
    language: 'en',
    provenance: null,
    sections: {
      assessment: [rec('a1', 'Age 80.')],
      recommendations: texts.map((t, i) => rec(`r${i + 1}`, t)),
      medicationChanges: [],
      monitoring: [],
      patientCommunication: [],
    },
    unavailable: [],
  };
}

export function reviewJob(
  caseId: string,
  opts: { revision?: number; priority?: CasePriority; severity?: Severity | null; enqueuedAt?: string } = {},
): ReviewJobData {
  const revision = opts.revision ?? 1;
  const severity = opts.severity === undefined ? 'moderate' : opts.severity;
  return {
    caseId,
    revision,
    casePriority: opts.priority ?? 'routine',
    maxSeverity: severity,
    enqueuedAt: opts.enqueuedAt ?? new Date().toISOString(),
    request: {
      caseId,
      revision,
      plan: testPlan(revision),
      evidence: [],
      findings: severity
        ? [{ id: 'f1', code: 'safety', severity, message: 'test finding', location: 'r1', citations: [] }]
        : [],
      allowedActions: ['approve', 'edit', 'request_changes', 'reject'],
      view: null,
      previousPlan: null,
      reviewerComments: [],
    },
  };
}

export function addReviewJob(queue: ReviewQueue, data: ReviewJobData) {
  return queue.queue.add('review', data, {
    jobId: reviewJobId(data.caseId, data.revision),
    priority: reviewPriority(data.casePriority, data.maxSeverity),
  });
}

/** A review queue as the API server wires it: decisions resume the graph through the cases queue module (`enqueueResume` on `cases`). */
export function openReviewQueue(redis: Redis, prefix: string, cases: CasesQueue, leaseMs: number) {
  const decisions = new DecisionStore(redis, prefix);
  const audit = new AuditLog(redis, prefix);
  const metrics = new Metrics(redis, prefix);
  const sink = { submitDecision: (caseId: string, decision: ReviewDecision) => enqueueResume(cases, caseId, decision) };
  const queue = new ReviewQueue({ redis, keyPrefix: prefix, leaseMs, decisions, sink, audit, metrics });
  return { queue, decisions, audit, metrics };
}
