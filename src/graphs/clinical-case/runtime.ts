/**
 * Runs the clinical-case graph for one case: starts it, continues it from its last checkpoint
 * after a crash, or resumes it with a review decision, streaming progress as it goes. It knows
 * nothing of queues; the worker turns its outcome into records and jobs.
 */
import { setMaxListeners } from 'node:events';
import { Command } from '@langchain/langgraph';
import type { CaseSubmission } from '../../domain/case.js';
import { maxSeverity, type Plan, type ReviewDecision, type ReviewRequest } from '../../domain/plan.js';
import type { ClinicalCaseGraph } from './graph.js';
import { decisionProblem } from './nodes/review.js';
import type { ClinicalCaseStateValue } from './state.js';

export type CaseOutcome =
  | { kind: 'review'; revision: number; request: ReviewRequest; maxSeverity: ReturnType<typeof maxSeverity> }
  | { kind: 'closed'; status: 'approved' | 'rejected' | 'escalated'; revision: number; plan: Plan | null; closedReason: string | null };

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with each graph node as it finishes. */
  onNode?: (node: string) => Promise<void> | void;
}

const MAX_PARALLEL_LISTENERS = 500;

export class DecisionRefusedError extends Error {
  readonly code = 'DECISION_REFUSED';
}

export class ClinicalCaseRuntime {
  constructor(private readonly graph: ClinicalCaseGraph) {}

  private config(caseId: string, signal?: AbortSignal) {
    return { configurable: { thread_id: caseId }, ...(signal ? { signal } : {}) };
  }

  async state(caseId: string): Promise<{ values: ClinicalCaseStateValue | null; next: string[]; interrupt: ReviewRequest | null }> {
    const snapshot = await this.graph.getState(this.config(caseId));
    const values = snapshot.values as Partial<ClinicalCaseStateValue>;
    const interrupt = snapshot.tasks.flatMap((t) => t.interrupts ?? []).at(0)?.value as ReviewRequest | undefined;
    return { values: values.caseId ? (values as ClinicalCaseStateValue) : null, next: [...snapshot.next], interrupt: interrupt ?? null };
  }

  private async drive(input: unknown, caseId: string, options: RunOptions): Promise<void> {
    // Every parallel step task listens on the run's abort signal; a wide plan has more than Node's default 10 listeners.
    if (options.signal) setMaxListeners(MAX_PARALLEL_LISTENERS, options.signal);
    const stream = await this.graph.stream(input as never, { ...this.config(caseId, options.signal), streamMode: 'updates' });
    for await (const chunk of stream as AsyncIterable<Record<string, unknown>>) {
      for (const node of Object.keys(chunk)) if (node !== '__interrupt__') await options.onNode?.(node);
    }
  }

  /** The outcome of the case as it stands: waiting for review, or closed. Null while it still has work to do. */
  async outcome(caseId: string): Promise<CaseOutcome | null> {
    const { values, next, interrupt } = await this.state(caseId);
    if (!values) return null;
    if (interrupt) return { kind: 'review', revision: interrupt.revision, request: interrupt, maxSeverity: maxSeverity(interrupt.findings) };
    if (next.length === 0 && (values.status === 'approved' || values.status === 'rejected' || values.status === 'escalated')) {
      return { kind: 'closed', status: values.status, revision: values.revision, plan: values.plan, closedReason: values.closedReason };
    }
    return null;
  }

  /**
   * Start the case, or continue it from its last checkpoint (after a crash the same call picks
   * up where the dead worker stopped: completed nodes are not run again).
   */
  async start(submission: CaseSubmission, receivedAt: string, mode: 'knowledge-driven' | 'llm', options: RunOptions = {}): Promise<CaseOutcome> {
    const caseId = submission.caseId;
    const existing = await this.outcome(caseId);
    if (existing) return existing;
    const { values } = await this.state(caseId);
    await this.drive(values ? null : { caseId, submission, receivedAt, mode }, caseId, options);
    return this.mustHaveOutcome(caseId);
  }

  /**
   * Resume a case waiting for review with a human decision, exactly once: a decision that was
   * already applied (a redelivered job) is not applied again.
   */
  async resume(caseId: string, decision: ReviewDecision, options: RunOptions = {}): Promise<CaseOutcome> {
    const { values, interrupt, next } = await this.state(caseId);
    if (!values) throw new DecisionRefusedError(`case ${caseId} has no graph state`);
    const applied = values.decisions.some((d) => d.decidedAt === decision.decidedAt && d.reviewer === decision.reviewer && d.revision === decision.revision);
    if (applied) {
      // Finish whatever the crashed run left, then report.
      if (!interrupt && next.length > 0) await this.drive(null, caseId, options);
      return this.mustHaveOutcome(caseId);
    }
    if (!interrupt) throw new DecisionRefusedError(`case ${caseId} is not waiting for review`);
    const problem = decisionProblem(values, decision);
    if (problem) throw new DecisionRefusedError(problem);
    await this.drive(new Command({ resume: decision }), caseId, options);
    return this.mustHaveOutcome(caseId);
  }

  private async mustHaveOutcome(caseId: string): Promise<CaseOutcome> {
    const outcome = await this.outcome(caseId);
    if (!outcome) throw new Error(`case ${caseId}: the graph stopped without reaching review or a close`);
    return outcome;
  }
}
