/**
 * What the case graph asks of its agents: a planner that proposes the steps of a case and a
 * drafter that writes the plan from their results. The graph depends on these interfaces only;
 * src/agents implements them (knowledge-driven or LLM), and the composition roots in workers/
 * choose which.
 */
import type { MinimisedCase } from './minimised-case.js';
import type { Plan, PlanLanguage } from './plan.js';
import type { PlanStep, StepResult } from './steps.js';

export interface Planner {
  readonly kind: 'knowledge-driven' | 'llm';
  /** The model asked, in LLM mode (shown in the plan's provenance). */
  readonly model?: string;
  plan(
    view: MinimisedCase,
    comments: ReadonlyArray<{ revision: number; comments: string }>,
  ): Promise<{ steps: PlanStep[]; planner: 'knowledge-driven' | 'llm' | 'llm-fallback'; note: string | null }>;
}

/** What a drafter writes a plan from. */
export interface DraftInput {
  view: MinimisedCase;
  steps: readonly PlanStep[];
  results: Readonly<Record<string, StepResult>>;
  revision: number;
  reviewerComments: ReadonlyArray<{ revision: number; comments: string }>;
  /** The language of the patient communication. */
  language: PlanLanguage;
}

export interface Drafter {
  readonly kind: 'knowledge-driven' | 'llm';
  draft(input: DraftInput): Promise<Plan>;
}
