/** Review-queue test helpers: review jobs as the case worker writes them, and the queue's parts on real Redis. */
import { testAuditKey, testDecisionKey } from '../support/stack.js';
import type { Redis } from 'ioredis';
import type { CasePriority } from '../../src/domain/case.js';
import { reviewJobId, reviewPriority, type ReviewJobData } from '../../src/queues/review.js';
import {
  maxSeverity,
  type Plan,
  type Recommendation,
  type ReviewDecision,
  type ReviewRequest,
  type Severity,
} from '../../src/domain/plan.js';
import type { StaffRole } from '../../src/config.js';
import { casePage, type CasePageInput } from '../../src/server/review-ui/pages.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { AuditLog } from '../../src/audit/case-log.js';
import { enqueueResume, type CasesQueue } from '../../src/queues/cases.js';
import { DecisionStore } from '../../src/records/decisions.js';
import type { RecordsDatabase } from '../../src/records/database.js';
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
export function openReviewQueue(
  redis: Redis,
  prefix: string,
  cases: CasesQueue,
  leaseMs: number,
  records: RecordsDatabase,
) {
  const decisions = new DecisionStore(records, testDecisionKey(prefix));
  const audit = new AuditLog(redis, prefix, testAuditKey(prefix));
  const metrics = new Metrics(redis, prefix);
  const sink = { submitDecision: (caseId: string, decision: ReviewDecision) => enqueueResume(cases, caseId, decision) };
  const queue = new ReviewQueue({ redis, keyPrefix: prefix, leaseMs, decisions, sink, audit, metrics });
  return { queue, decisions, audit, metrics };
}

/** The case page of a review request, waiting and unclaimed, as reviewer `user` sees it. */
export function renderCasePage(
  request: ReviewRequest,
  options: { user?: { name: string; roles: StaffRole[] }; flash?: CasePageInput['flash'] } = {},
): string {
  const findings = { info: 0, low: 0, moderate: 0, high: 0, critical: 0 };
  for (const f of request.findings) findings[f.severity] += 1;
  return casePage({
    user: options.user ?? { name: 'dr-a', roles: ['reviewer'] },
    csrf: 'c'.repeat(64),
    detail: {
      item: {
        caseId: request.caseId,
        revision: request.revision,
        casePriority: 'routine',
        maxSeverity: maxSeverity(request.findings),
        findings,
        state: 'waiting',
        claimedBy: null,
        leaseExpiresAt: null,
        enqueuedAt: '2026-11-24T12:00:00.000Z',
        waitingSeconds: 5,
        queuePriority: 42,
      },
      request,
      claim: null,
      decision: null,
      diffToPrevious: null,
    },
    caseView: null,
    audit: [],
    flash: options.flash ?? null,
    leaseMs: 60_000,
  }).toString();
}
