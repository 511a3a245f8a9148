/** What the graph's nodes need from outside: tools, a planner, a drafter and limits. */
import type { MinimisedCase } from '../../domain/minimised-case.js';
import type { DraftInput } from '../../agents/template-drafter.js';
import type { Plan } from '../../domain/plan.js';
import type { ToolBox } from './executor.js';
import type { PlanStep } from './steps.js';

export interface Planner {
  readonly kind: 'knowledge-driven' | 'llm';
  plan(
    view: MinimisedCase,
    comments: ReadonlyArray<{ revision: number; comments: string }>,
  ): Promise<{ steps: PlanStep[]; planner: 'knowledge-driven' | 'llm' | 'llm-fallback'; note: string | null }>;
}

export interface Drafter {
  readonly kind: 'knowledge-driven' | 'llm';
  draft(input: DraftInput): Promise<Plan>;
}

export interface GraphDeps {
  tools: ToolBox;
  planner: Planner;
  drafter: Drafter;
  /** Requests for changes allowed before the case escalates. */
  maxRevisions: number;
}
