/**
 * The case lifecycle: every status a case record can have, every allowed change between them,
 * and the named operations that make those changes. This module is the only code that writes a
 * case status (ESLint forbids `transition(` calls elsewhere).
 *
 * Each operation is one compare-and-set on the case record (`CaseStore.transition`): it applies
 * only when the current status is one of the operation's from-states, and reports `wrong-state`
 * otherwise. That is what makes a redelivered or stale job harmless: it finds the case already
 * moved on and does nothing. The from-states below are deliberately the exact sets the workers,
 * the producer and the ops API rely on; `TRANSITIONS` is printed as a state diagram in
 * docs/architecture.md (`npm run docs:lifecycle`, checked by a unit test).
 */
import type { DeliveryState } from '../domain/case.js';
import {
  CaseStatus,
  CLOSED_STATUSES,
  INITIAL_STATUS,
  TERMINAL_STATUSES,
  type ClosedStatus,
} from '../domain/case-status.js';
import type { CaseRecord, CaseStore, CaseUpdate, NewCaseRecord, TransitionResult } from './store.js';

// The statuses are contracts (case views and job data name them), so they are defined in the
// domain layer; this module is where they change, and re-exports them as the lifecycle's own.
export {
  CaseStatus,
  CLOSED_STATUSES,
  INITIAL_STATUS,
  isClosed,
  TERMINAL_STATUSES,
  type ClosedStatus,
} from '../domain/case-status.js';

/** Where a running job's case goes back to when the job is requeued or retried: the status it was picked up in. */
export type RestoreStatus = 'queued' | 'awaiting_review';

interface Transition {
  /** The statuses the operation applies from; from any other it reports `wrong-state`. */
  readonly from: readonly CaseStatus[];
  /** The statuses it may set, or `unchanged` for operations that update other fields only. */
  readonly to: readonly CaseStatus[] | 'unchanged';
  /** What it records, for the diagram's readers. */
  readonly does: string;
}

/** The lifecycle table: one row per operation. */
export const TRANSITIONS = {
  queue: { from: ['accepted'], to: ['queued'], does: 'the case job was added to the cases queue' },
  start: {
    from: ['accepted', 'queued', 'running'],
    to: ['running'],
    does: 'a case job starts (or restarts after a crash) the graph; counts an attempt',
  },
  progress: { from: ['running'], to: 'unchanged', does: 'a graph node finished (current and completed steps)' },
  awaitReview: {
    from: ['running'],
    to: ['awaiting_review'],
    does: 'the graph paused for review at a new revision',
  },
  resume: {
    from: ['awaiting_review', 'running'],
    to: ['running'],
    does: 'a resume job applies a review decision (or runs again after a crash)',
  },
  refuseDecision: {
    from: ['running'],
    to: ['awaiting_review'],
    does: 'the graph refused the decision; the case waits for another',
  },
  close: {
    from: ['running'],
    to: CLOSED_STATUSES,
    does: 'the graph finished with a human decision; delivery is pending; counts a completion',
  },
  requeue: {
    from: ['running'],
    to: ['queued', 'awaiting_review'],
    does: 'shutdown interrupted the job; the case goes back to the status the job found it in',
  },
  retry: {
    from: ['running'],
    to: ['queued', 'awaiting_review'],
    does: 'the attempt failed and will be retried; the case goes back with the error',
  },
  fail: { from: ['running'], to: ['failed'], does: 'the last attempt failed, or the error is permanent' },
  failCaseJob: {
    from: ['accepted', 'queued', 'running'],
    to: ['failed'],
    does: 'a case job failed for good outside an attempt (invalid data, stalled too often)',
  },
  failResumeJob: {
    from: ['awaiting_review', 'running'],
    to: ['failed'],
    does: 'a resume job failed for good outside an attempt',
  },
  recordDelivery: {
    from: CLOSED_STATUSES,
    to: 'unchanged',
    does: 'a delivery attempt, success, failure or retry of a closed case',
  },
} as const satisfies Record<string, Transition>;

/**
 * Outside the table: recovery after Redis data loss (workers/recovery.ts) replaces a record
 * that is missing or stale with the one the durable records imply, from whatever status it
 * was found in (compare-and-set on that status). It is drawn as a note, not as arrows.
 */
export const RESTORE = {
  does: 'recovery after Redis data loss rebuilds a missing or stale record from the case ledger, the recorded decisions and the checkpoints',
} as const;
export type Operation = keyof typeof TRANSITIONS;

/** The statuses an operation may set (for operations that set one). */
type Target<O extends Operation> = (typeof TRANSITIONS)[O]['to'] extends readonly (infer S extends CaseStatus)[]
  ? S
  : never;

export type CaseError = { code: string; message: string };

/** What `close` records: the graph's outcome and the human decision behind it. */
export interface Closing {
  status: ClosedStatus;
  revision: number;
  /** Kept only when the case was approved. */
  plan: unknown;
  closedReason: string | null;
  decision: { reviewer: string; decidedAt: string } | null;
  /** Whether the case has a callback URL (the delivery channel is then `webhook`, else `api`). */
  hasCallback: boolean;
  /** When it closed (the time the case ledger recorded); default now. */
  completedAt?: string;
}

/** A closed case's delivery state before the first attempt. */
export function initialDelivery(hasCallback: boolean): DeliveryState {
  return {
    status: 'pending',
    channel: hasCallback ? 'webhook' : 'api',
    attempts: 0,
    lastError: null,
    deliveredAt: null,
  };
}

/** The named operations on case records. Each returns the compare-and-set result. */
export class CaseLifecycle {
  constructor(private readonly store: CaseStore) {}

  /** Create the record in the initial status unless one exists. Returns whether it was created. */
  create(input: NewCaseRecord): Promise<boolean> {
    return this.store.create(input);
  }

  queue(caseId: string): Promise<TransitionResult> {
    return this.apply('queue', caseId, { status: 'queued' });
  }

  start(
    caseId: string,
    run: { pipeline: string; summary: NonNullable<CaseUpdate['summary']> },
  ): Promise<TransitionResult> {
    return this.apply(
      'start',
      caseId,
      {
        status: 'running',
        pipeline: run.pipeline,
        currentStep: 'normalise',
        completedSteps: [],
        error: null,
        summary: run.summary,
      },
      'attempts',
    );
  }

  /** `node` just finished; `completedSteps` are all finished steps in order (ending with it). */
  progress(caseId: string, node: string, completedSteps: string[]): Promise<TransitionResult> {
    return this.apply('progress', caseId, { currentStep: node, completedSteps });
  }

  awaitReview(
    caseId: string,
    review: { revision: number; maxSeverity: CaseUpdate['maxSeverity'] },
  ): Promise<TransitionResult> {
    return this.apply('awaitReview', caseId, {
      status: 'awaiting_review',
      currentStep: 'review',
      revision: review.revision,
      maxSeverity: review.maxSeverity,
    });
  }

  resume(caseId: string): Promise<TransitionResult> {
    return this.apply('resume', caseId, { status: 'running', currentStep: 'resume', error: null });
  }

  refuseDecision(caseId: string, error: CaseError): Promise<TransitionResult> {
    return this.apply('refuseDecision', caseId, { status: 'awaiting_review', currentStep: 'review', error });
  }

  close(caseId: string, c: Closing): Promise<TransitionResult> {
    return this.apply(
      'close',
      caseId,
      {
        status: c.status satisfies Target<'close'>,
        currentStep: null,
        revision: c.revision,
        plan: c.status === 'approved' ? c.plan : null,
        closedReason: c.closedReason,
        decidedBy: c.decision?.reviewer ?? null,
        decidedAt: c.decision?.decidedAt ?? null,
        delivery: initialDelivery(c.hasCallback),
        completedAt: c.completedAt ?? new Date().toISOString(),
      },
      'completions',
    );
  }

  requeue(caseId: string, to: RestoreStatus & Target<'requeue'>): Promise<TransitionResult> {
    return this.apply('requeue', caseId, { status: to, currentStep: null });
  }

  retry(caseId: string, to: RestoreStatus & Target<'retry'>, error: CaseError): Promise<TransitionResult> {
    return this.apply('retry', caseId, { status: to, error });
  }

  fail(caseId: string, error: CaseError): Promise<TransitionResult> {
    return this.apply('fail', caseId, { status: 'failed', error, currentStep: null });
  }

  failCaseJob(caseId: string, error: CaseError): Promise<TransitionResult> {
    return this.apply('failCaseJob', caseId, { status: 'failed', error, currentStep: null });
  }

  failResumeJob(caseId: string, error: CaseError): Promise<TransitionResult> {
    return this.apply('failResumeJob', caseId, { status: 'failed', error, currentStep: null });
  }

  /**
   * Replace the record with `record` if it is still in the status recovery found it in (`found`:
   * null when it was missing). Returns `applied`, or `wrong-state` when something moved it meanwhile.
   */
  async restore(record: CaseRecord, found: CaseStatus | null): Promise<TransitionResult> {
    return (await this.store.put(record, found)) ? 'applied' : 'wrong-state';
  }

  recordDelivery(caseId: string, delivery: DeliveryState): Promise<TransitionResult> {
    return this.apply('recordDelivery', caseId, { delivery });
  }

  private apply<O extends Operation>(
    operation: O,
    caseId: string,
    update: Omit<CaseUpdate, 'status'> & { status?: Target<O> },
    increment: 'attempts' | 'completions' | '' = '',
  ): Promise<TransitionResult> {
    return this.store.transition(caseId, TRANSITIONS[operation].from, update, increment);
  }
}

/** The markers around the generated diagram in docs/architecture.md. */
export const DIAGRAM_MARKERS = { start: '<!-- lifecycle:start -->', end: '<!-- lifecycle:end -->' } as const;

/**
 * The lifecycle table as a Mermaid `stateDiagram-v2`: one arrow per from/to pair, labelled with
 * the operations that take it; operations that keep the status are loops; terminal statuses end.
 */
export function lifecycleDiagram(): string {
  const edges = new Map<string, string[]>();
  for (const [operation, t] of Object.entries(TRANSITIONS) as [Operation, Transition][]) {
    for (const from of t.from)
      for (const to of t.to === 'unchanged' ? [from] : t.to) {
        const key = `${from} --> ${to}`;
        edges.set(key, [...(edges.get(key) ?? []), operation]);
      }
  }
  const byStatus = (key: string) => CaseStatus.options.indexOf(key.split(' ')[0] as CaseStatus);
  const lines = [
    'stateDiagram-v2',
    `  [*] --> ${INITIAL_STATUS}: create`,
    ...[...edges]
      .sort(([a], [b]) => byStatus(a) - byStatus(b))
      .map(([edge, operations]) => `  ${edge}: ${operations.join(', ')}`),
    ...TERMINAL_STATUSES.map((s) => `  ${s} --> [*]`),
    `  note right of ${INITIAL_STATUS}: restore, from any status or none to any status - ${RESTORE.does}`,
  ];
  return lines.join('\n');
}

/** The fenced block that stands between the markers in the doc. */
export function lifecycleDocBlock(): string {
  return `${DIAGRAM_MARKERS.start}\n\n\`\`\`mermaid\n${lifecycleDiagram()}\n\`\`\`\n\n${DIAGRAM_MARKERS.end}`;
}
