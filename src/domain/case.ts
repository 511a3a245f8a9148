/**
 * Case submission and case view schemas: the contracts shared by the HTTP API, the BullMQ
 * producer and the workers (the job schemas live with their queues in src/queues/, the statuses
 * in src/cases/lifecycle.ts). Types are inferred from the schemas.
 */
import { z } from 'zod';
import { CaseStatus } from './case-status.js';
import { Bundle } from './fhir.js';
import { PlanLanguage, Severity } from './plan.js';

/**
 * Caller-chosen case id, also the idempotency key. Letters, digits, `.`, `_` and `-`;
 * no `:` or braces, so it is safe inside Redis keys and BullMQ job ids.
 */
export const CaseId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
    'case id: 1-128 characters of A-Z, a-z, 0-9, ., _ and -, starting with a letter or digit',
  );
export type CaseId = z.infer<typeof CaseId>;

/** FHIR request priority codes (http://hl7.org/fhir/request-priority). */
export const CasePriority = z.enum(['routine', 'urgent', 'asap', 'stat']);
export type CasePriority = z.infer<typeof CasePriority>;

/** BullMQ priority: lower is served first. 0 would mean "no priority" and bypass ordering, so it is never used. */
export const BULLMQ_PRIORITY: Readonly<Record<CasePriority, number>> = { stat: 1, asap: 2, urgent: 3, routine: 4 };

export const CaseSubmission = z.strictObject({
  caseId: CaseId,
  question: z.string().trim().min(3, 'the clinical question must be at least 3 characters').max(4000),
  priority: CasePriority.default('routine'),
  callbackUrl: z
    .string()
    .max(2048)
    .url()
    .refine((u) => /^https?:\/\//i.test(u), {
      message: 'callbackUrl must be an http or https URL',
      params: { zodCode: 'callback_url_scheme' },
    })
    .optional(),
  bundle: Bundle,
  /** Language for the plan's patient communication (`en` or `zh-CN`); the deployment's PLAN_LANGUAGE when omitted. */
  language: PlanLanguage.optional(),
  /** Free-text notes that are not inside the bundle (e.g. a referral letter), at most 50. */
  notes: z.array(z.string().max(20_000)).max(50).optional(),
});
export type CaseSubmissionInput = z.input<typeof CaseSubmission>;
export type CaseSubmission = z.output<typeof CaseSubmission>;

export const FindingSeverity = Severity;

export const CaseSummaryCounts = z.object({
  conditions: z.number().int(),
  medications: z.number().int(),
  allergies: z.number().int(),
  observations: z.number().int(),
  imagingStudies: z.number().int(),
  notes: z.number().int(),
});

/** Delivery of a closed case to its submitter: a webhook when a callback URL was given, else availability via the API. */
export const DeliveryState = z.object({
  status: z.enum(['pending', 'delivered', 'failed', 'not_requested']),
  /** `webhook` or `api` (read with GET /v1/cases/:id). */
  channel: z.enum(['webhook', 'api']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  deliveredAt: z.string().nullable(),
});
export type DeliveryState = z.infer<typeof DeliveryState>;

/** What `GET /v1/cases/:id` returns. Holds no PHI: ids, states, counts and (later) the reviewed plan. */
export const CaseView = z.object({
  caseId: CaseId,
  status: CaseStatus,
  priority: CasePriority,
  currentStep: z.string().nullable(),
  /** Steps completed so far, in order. */
  completedSteps: z.array(z.string()),
  attempts: z.number().int(),
  mode: z.enum(['knowledge-driven', 'llm']),
  pipeline: z.string().nullable(),
  summary: CaseSummaryCounts.nullable(),
  /** Current plan revision (1 for the first draft). */
  revision: z.number().int(),
  /** Most severe verification finding of the current draft. */
  maxSeverity: FindingSeverity.nullable(),
  plan: z.unknown().nullable().describe('The plan a human approved (sections with citations); null until then.'),
  closedReason: z.string().nullable(),
  /** The human decision that closed the case: who and when (null until then). */
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  delivery: DeliveryState.nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
});
export type CaseView = z.infer<typeof CaseView>;
