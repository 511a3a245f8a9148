/**
 * State of the clinical-case graph: one thread per case (`thread_id` = case id), checkpointed
 * after every super-step. Fields without a reducer are replaced by each update; fields with
 * one are merged as documented.
 */
import { ReducedValue, StateSchema } from '@langchain/langgraph';
import { z } from 'zod';
import { CaseStatus } from '../../domain/case-status.js';
import { MinimisedCaseSchema } from '../../domain/minimised-case.js';
import { CaseSubmission } from '../../domain/case.js';
import { ImageSource } from '../../domain/imaging.js';
import { Plan, PlanLanguage, ReviewDecision, VerificationFinding } from '../../domain/plan.js';
import { PlanStep, StepResult } from '../../domain/steps.js';

/**
 * The graph's internal view of where a case is: `drafting` until it pauses for review, then the
 * case statuses it shares with the case record. Not the record's status (that is `CaseStatus`,
 * written only by the case lifecycle); the workers map graph outcomes onto it.
 */
export const GraphPhase = z.enum([
  'drafting',
  ...CaseStatus.extract(['awaiting_review', 'approved', 'rejected', 'escalated']).options,
]);
export type GraphPhase = z.infer<typeof GraphPhase>;

export const InjectionHitSchema = z.object({ pointer: z.string(), rule: z.string(), excerpt: z.string() });

/**
 * An append reducer that ignores entries already present (same key). A node's writes can be
 * applied twice when a crash falls between saving them and the next checkpoint (the runtime then
 * replays them); the history must not grow twice.
 */
function appendUnique<T>(key: (item: T) => string) {
  return (current: T[], update: T[]): T[] => {
    const seen = new Set(current.map(key));
    return [...current, ...update.filter((u) => !seen.has(key(u)) && seen.add(key(u)))];
  };
}

export const ClinicalCaseState = new StateSchema({
  /** The case id (also the thread id). */
  caseId: z.string(),
  /** `knowledge-driven` (no model) or `llm`; labels every plan. */
  mode: z.enum(['knowledge-driven', 'llm']).default('knowledge-driven'),
  /**
   * The submission as received. Read by `normalise` only, which clears it, so later
   * checkpoints do not carry the raw bundle.
   */
  submission: CaseSubmission.nullable().default(null),
  /** When the case was received (ISO); relative dates in the view count back from it. */
  receivedAt: z.string(),
  /** The submission's language for patient communication (null: the deployment default, GraphDeps.planLanguage). */
  language: PlanLanguage.nullable().default(null),
  /** The PHI-minimised view: the only form of the case sent to a model or a tool. */
  view: MinimisedCaseSchema.nullable().default(null),
  /**
   * Where each imaging reference's pixels are (DICOM UIDs or an inline attachment), by view ref.
   * In-process only: passed to the imaging tool, which fetches and decodes the pixels locally and
   * sends only a grey-level tensor out; never given to a model, logged or put on the review queue.
   */
  imageSources: z.record(z.string(), ImageSource).default(() => ({})),
  /** Instructions found embedded in case text (flagged, never obeyed). */
  injections: z.array(InjectionHitSchema).default(() => []),
  /** The current plan's atomic steps (replaced when the case is re-planned). */
  steps: z.array(PlanStep).default(() => []),
  /** How the steps were planned: which planner, and which mandatory steps code added. */
  planning: z
    .object({
      planner: z.enum(['knowledge-driven', 'llm', 'llm-fallback']),
      mandatoryAdded: z.array(z.string()),
      note: z.string().nullable(),
    })
    .nullable()
    .default(null),
  /** Step results by step id. Reducer: merge (parallel steps each add their own); `{}` with `reset` clears on re-plan. */
  results: new ReducedValue(
    z.record(z.string(), StepResult).default(() => ({})),
    {
      inputSchema: z.union([z.record(z.string(), StepResult), z.object({ reset: z.literal(true) })]),
      reducer: (current, update) => ('reset' in update ? {} : { ...current, ...update }),
    },
  ),
  /** The current draft (or, after an edit, the human-edited plan). */
  plan: Plan.nullable().default(null),
  /** The plan of the revision before this one (set when changes are requested), for the reviewer's diff. */
  previousPlan: Plan.nullable().default(null),
  /** Findings of the latest verification. */
  findings: z.array(VerificationFinding).default(() => []),
  /** 1 for the first draft; +1 for every request for changes. */
  revision: z.number().int().default(1),
  /** Reviewer comments that led to each revision. Reducer: append. */
  reviewerComments: new ReducedValue(
    z
      .array(z.object({ revision: z.number().int(), reviewer: z.string(), comments: z.string(), at: z.string() }))
      .default(() => []),
    {
      inputSchema: z.array(
        z.object({ revision: z.number().int(), reviewer: z.string(), comments: z.string(), at: z.string() }),
      ),
      reducer: appendUnique((c) => `${c.revision}|${c.reviewer}|${c.at}`),
    },
  ),
  /** Every human decision, in order. Reducer: append. */
  decisions: new ReducedValue(
    z.array(ReviewDecision).default(() => []),
    {
      inputSchema: z.array(ReviewDecision),
      reducer: appendUnique((d) => `${d.revision}|${d.reviewer}|${d.decidedAt}|${d.action}`),
    },
  ),
  /** Plans as drafted before a human edit replaced them, with the edit's author. Reducer: append. */
  humanEdits: new ReducedValue(
    z
      .array(z.object({ revision: z.number().int(), reviewer: z.string(), at: z.string(), before: Plan, after: Plan }))
      .default(() => []),
    {
      inputSchema: z.array(
        z.object({ revision: z.number().int(), reviewer: z.string(), at: z.string(), before: Plan, after: Plan }),
      ),
      reducer: appendUnique((e) => `${e.revision}|${e.reviewer}|${e.at}`),
    },
  ),
  /** Whether the latest review round produced a valid decision (false: it is asked again). */
  decisionAccepted: z.boolean().default(false),
  /** Decisions that were refused (wrong shape or stale revision), with the reason. Reducer: append. */
  refusedDecisions: new ReducedValue(
    z.array(z.object({ at: z.string(), reason: z.string() })).default(() => []),
    {
      inputSchema: z.array(z.object({ at: z.string(), reason: z.string() })),
      reducer: appendUnique((r) => `${r.at}|${r.reason}`),
    },
  ),
  status: GraphPhase.default('drafting'),
  /** Why the case closed without approval (rejection reason, escalation). */
  closedReason: z.string().nullable().default(null),
});

export type ClinicalCaseStateValue = typeof ClinicalCaseState.State;
export type ClinicalCaseUpdate = typeof ClinicalCaseState.Update;
