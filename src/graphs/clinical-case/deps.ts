/**
 * What the graph's nodes need from outside: tools, a planner, a drafter and limits. The planner
 * and drafter are the interfaces of src/domain/agents.ts; the graph never imports an implementation.
 */
import type { Drafter, Planner } from '../../domain/agents.js';
import type { ToolBox } from './executor.js';
import type { PlanLanguage } from '../../domain/plan.js';

export interface GraphDeps {
  tools: ToolBox;
  planner: Planner;
  drafter: Drafter;
  /** Requests for changes allowed before the case escalates. */
  maxRevisions: number;
  /** Patient-communication language when a submission names none (PLAN_LANGUAGE). */
  planLanguage?: PlanLanguage;
}
