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
import { AppError } from '../../errors.js';

export type CaseOutcome =
  | { kind: 'review'; revision: number; request: ReviewRequest; maxSeverity: ReturnType<typeof maxSeverity> }
  | {
      kind: 'closed';
      status: 'approved' | 'rejected' | 'escalated';
      revision: number;
      plan: Plan | null;
      closedReason: string | null;
      decision: ReviewDecision | null;
    };

/** What a node run did, for progress and the audit log: ids, codes and counts only. */
export interface GraphEvent {
  kind: 'started' | 'finished';
  node: string;
  /** For tool steps (execute_step). */
  step?: { id: string; type: string };
  /** Facts of a finished node: a tool step's status, source, code and duration; a draft's or verification's counts. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called with each graph node as it finishes. */
  onNode?: (node: string) => Promise<void> | void;
  /** Called when a node starts and when it finishes (not when it is interrupted). */
  onEvent?: (event: GraphEvent) => Promise<void> | void;
}

/** A finished task's writes: `[channel, value]` pairs, or an object by channel (LangGraph versions differ). */
type Writes = Array<[string, unknown]> | Record<string, unknown>;

/** The audit facts of a finished node, from the channel writes it made. */
function finishedDetail(node: string, writes: Writes): GraphEvent['detail'] {
  const write = (channel: string) =>
    Array.isArray(writes) ? writes.find(([c]) => c === channel)?.[1] : writes[channel];
  if (node === 'execute_step') {
    const results = Object.values(
      (write('results') ?? {}) as Record<
        string,
        { status: string; code: string | null; provenance: { source: string; durationMs: number; attempts: number } }
      >,
    );
    const r = results[0];
    return r
      ? {
          status: r.status,
          code: r.code,
          source: r.provenance.source,
          durationMs: r.provenance.durationMs,
          attempts: r.provenance.attempts,
        }
      : {};
  }
  if (node === 'draft') {
    const plan = write('plan') as Plan | undefined;
    return plan
      ? {
          revision: plan.revision,
          mode: plan.mode,
          recommendations: Object.values(plan.sections).flat().length,
          unavailable: plan.unavailable.length,
        }
      : {};
  }
  if (node === 'verify') {
    const findings = (write('findings') ?? []) as Array<{
      severity: Parameters<typeof maxSeverity>[0][number]['severity'];
    }>;
    return { findings: findings.length, maxSeverity: maxSeverity(findings) };
  }
  return {};
}

export const MAX_PARALLEL_LISTENERS = 500;

export class DecisionRefusedError extends AppError {
  declare readonly code: 'DECISION_REFUSED';
  constructor(message: string) {
    super('DECISION_REFUSED', message, false);
  }
}

export class ClinicalCaseRuntime {
  constructor(private readonly graph: ClinicalCaseGraph) {}

  private config(caseId: string, signal?: AbortSignal) {
    return { configurable: { thread_id: caseId }, ...(signal ? { signal } : {}) };
  }

  /**
   * The thread as it stands. Reading it also finishes a step a crash left half-saved: LangGraph
   * saves each finished task's writes at once and the next checkpoint after the superstep; a
   * process killed in between leaves a checkpoint whose tasks all have their writes but no next
   * step, and the graph would not move from it again (found by the 5,000-case chaos soak: a review
   * decision and a verification stuck this way). The saved writes are then applied as the node
   * that made them, so the graph continues exactly as it would have; otherwise nothing is written.
   */
  async state(
    caseId: string,
  ): Promise<{ values: ClinicalCaseStateValue | null; next: string[]; interrupt: ReviewRequest | null }> {
    const config = this.config(caseId);
    let snapshot = await this.graph.getState(config);
    const tasks = snapshot.tasks as ReadonlyArray<{ name: string; result?: unknown }>;
    if (snapshot.next.length === 0 && tasks.length > 0 && tasks.every((t) => t.result !== undefined)) {
      for (const t of tasks) await this.graph.updateState(config, t.result, t.name);
      snapshot = await this.graph.getState(config);
    }
    const values = snapshot.values as Partial<ClinicalCaseStateValue>;
    const interrupt = snapshot.tasks.flatMap((t) => t.interrupts ?? []).at(0)?.value as ReviewRequest | undefined;
    return {
      values: values.caseId ? (values as ClinicalCaseStateValue) : null,
      next: [...snapshot.next],
      interrupt: interrupt ?? null,
    };
  }

  private async drive(input: unknown, caseId: string, options: RunOptions): Promise<void> {
    // Every parallel step task listens on the run's abort signal; a wide plan has more than Node's default 10 listeners.
    if (options.signal) setMaxListeners(MAX_PARALLEL_LISTENERS, options.signal);
    const stream = await this.graph.stream(input as never, {
      ...this.config(caseId, options.signal),
      streamMode: 'tasks',
      // Each superstep's checkpoint and task writes are durable before the next step starts. LangGraph's
      // default ('async') saves them while the next step runs: invisible with SQLite (synchronous driver),
      // but on Postgres a process killed during the next step lost finished steps, which then ran again.
      durability: 'sync',
    });
    const steps = new Map<string, { id: string; type: string }>();
    for await (const task of stream as AsyncIterable<{
      id: string;
      name: string;
      input?: unknown;
      result?: Writes;
      error?: unknown;
      interrupts: unknown[];
    }>) {
      if (task.name.startsWith('__')) continue;
      if (task.result === undefined) {
        const step = (task.input as { step?: { id: string; type: string } } | undefined)?.step;
        if (task.name === 'execute_step' && step) steps.set(task.id, { id: step.id, type: step.type });
        await options.onEvent?.({
          kind: 'started',
          node: task.name,
          ...(steps.has(task.id) ? { step: steps.get(task.id)! } : {}),
        });
        continue;
      }
      if (task.error || task.interrupts.length) continue;
      await options.onEvent?.({
        kind: 'finished',
        node: task.name,
        ...(steps.has(task.id) ? { step: steps.get(task.id)! } : {}),
        detail: finishedDetail(task.name, task.result),
      });
      await options.onNode?.(task.name);
    }
  }

  /** The outcome of the case as it stands: waiting for review, or closed. Null while it still has work to do. */
  async outcome(caseId: string): Promise<CaseOutcome | null> {
    const { values, next, interrupt } = await this.state(caseId);
    if (!values) return null;
    if (interrupt)
      return {
        kind: 'review',
        revision: interrupt.revision,
        request: interrupt,
        maxSeverity: maxSeverity(interrupt.findings),
      };
    if (
      next.length === 0 &&
      (values.status === 'approved' || values.status === 'rejected' || values.status === 'escalated')
    ) {
      return {
        kind: 'closed',
        status: values.status,
        revision: values.revision,
        plan: values.plan,
        closedReason: values.closedReason,
        decision: values.decisions.at(-1) ?? null,
      };
    }
    return null;
  }

  /**
   * Start the case, or continue it from its last checkpoint (after a crash the same call picks
   * up where the dead worker stopped: completed nodes are not run again).
   */
  async start(
    submission: CaseSubmission,
    receivedAt: string,
    mode: 'knowledge-driven' | 'llm',
    options: RunOptions = {},
  ): Promise<CaseOutcome> {
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
    const applied = values.decisions.some(
      (d) => d.decidedAt === decision.decidedAt && d.reviewer === decision.reviewer && d.revision === decision.revision,
    );
    if (applied) {
      // Finish whatever the crashed run left, then report. A crash may leave nothing to run next
      // yet no outcome: a node that writes no state (collect) had its route saved but not the next
      // checkpoint; LangGraph continues from its saved writes when driven.
      if (!interrupt && (next.length > 0 || !(await this.outcome(caseId)))) await this.drive(null, caseId, options);
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
