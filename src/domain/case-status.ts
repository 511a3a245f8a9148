/**
 * The statuses of a case record. They are changed only by the named operations of the case
 * lifecycle (src/cases/lifecycle.ts, whose transition table docs/architecture.md draws); this
 * module defines them once for every contract that names a status.
 */
import { z } from 'zod';

export const CaseStatus = z.enum([
  /** The record exists; the job is being enqueued. */
  'accepted',
  /** Waiting in the `cases` queue. */
  'queued',
  /** A worker is running the case graph; see currentStep. */
  'running',
  /** A draft plan waits in the review queue for a human decision. */
  'awaiting_review',
  /** A human approved the plan (as drafted or edited). */
  'approved',
  /** A human rejected the plan; see closedReason. */
  'rejected',
  /** Changes were requested more often than allowed; handed to senior review. */
  'escalated',
  /** Gave up after the configured attempts, or the input can never be processed. */
  'failed',
]);
export type CaseStatus = z.infer<typeof CaseStatus>;

/** The status `create` writes. */
export const INITIAL_STATUS = 'accepted' satisfies CaseStatus;

/** Closed by a human decision (or escalation): these cases are delivered to their submitter. */
export const CLOSED_STATUSES = ['approved', 'rejected', 'escalated'] as const satisfies readonly CaseStatus[];
export type ClosedStatus = (typeof CLOSED_STATUSES)[number];

/** Statuses no operation leaves: the closed ones and `failed`. */
export const TERMINAL_STATUSES: readonly CaseStatus[] = [...CLOSED_STATUSES, 'failed'];

export function isClosed(status: CaseStatus): status is ClosedStatus {
  return (CLOSED_STATUSES as readonly CaseStatus[]).includes(status);
}
