/**
 * The typed case producer. The HTTP API uses it, and so can any backend service that
 * enqueues straight into BullMQ: it validates the submission, screens the callback URL,
 * creates the case record idempotently and adds the job under a deterministic job id.
 *
 * Crash safety: the record is created first (status `accepted`), then the job is added, then
 * the record moves to `queued`. A crash between the steps leaves an `accepted` record;
 * resubmitting the same case re-adds the job, and BullMQ's job id makes that add idempotent.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { callbackUrlProblem } from '../domain/callback-url.js';
import { CaseSubmission, type CaseSubmissionInput } from '../domain/case.js';
import { CaseValidationError, toFieldIssues } from '../domain/validation.js';
import { CaseIdConflictError } from '../errors.js';
import { CaseLifecycle } from '../cases/lifecycle.js';
import { AuditLog } from '../audit/case-log.js';
import { CaseStore, type CaseRecord } from '../cases/store.js';
import {
  addCaseJob,
  casesQueueOptions,
  createCasesQueue,
  type CaseJobData,
  type CasesQueue,
  type CasesQueueOptions,
} from './cases.js';

export interface CaseProducerOptions extends CasesQueueOptions {
  mode: CaseJobData['mode'];
  callbackHostAllowlist: readonly string[];
  /** The services with a webhook secret: only their cases may carry a callbackUrl (plans are never sent unsigned). */
  webhookServices: readonly string[];
  /** AUDIT_CHAIN_KEY (see src/audit/chain.ts). */
  auditChainKey?: string | null;
}

export interface SubmitResult {
  /** False when the case id was already known: nothing new was enqueued. */
  created: boolean;
  record: CaseRecord;
}

export class CaseProducer {
  readonly queue: CasesQueue;
  readonly store: CaseStore;
  readonly audit: AuditLog;
  private readonly lifecycle: CaseLifecycle;

  constructor(private readonly options: CaseProducerOptions) {
    this.store = new CaseStore(options.redis, options.keyPrefix);
    this.lifecycle = new CaseLifecycle(this.store);
    this.audit = new AuditLog(options.redis, options.keyPrefix, options.auditChainKey ?? null);
    this.queue = createCasesQueue(options);
  }

  static fromConfig(config: Config, redis: Redis, onError?: (err: Error) => void): CaseProducer {
    return new CaseProducer({
      ...casesQueueOptions(config, redis, onError),
      mode: config.model.mode,
      callbackHostAllowlist: config.callbacks.hostAllowlist,
      webhookServices: Object.keys(config.delivery.secrets),
      auditChainKey: config.audit.chainKey,
    });
  }

  /** Validate `input` and enqueue it once. Throws CaseValidationError or CaseIdConflictError. */
  async submit(input: unknown, submittedBy: string): Promise<SubmitResult> {
    const submission = parseSubmission(input, this.options.callbackHostAllowlist);
    if (submission.callbackUrl !== undefined && !this.options.webhookServices.includes(submittedBy))
      throw new CaseValidationError([
        {
          pointer: '/callbackUrl',
          code: 'callback_unsigned',
          message: `no webhook secret is configured for service ${submittedBy}, so a plan could not be signed: ask the operator to add ${submittedBy}:<secret> to WEBHOOK_SECRETS, or omit callbackUrl and poll GET /v1/cases/{caseId}`,
        },
      ]);
    const inputDigest = createHash('sha256').update(JSON.stringify(submission)).digest('hex');
    const { caseId } = submission;

    const newRecord = {
      caseId,
      priority: submission.priority,
      submittedBy,
      inputDigest,
      mode: this.options.mode,
      hasCallback: submission.callbackUrl !== undefined,
      callbackUrl: submission.callbackUrl ?? null,
    };
    const created = await this.lifecycle.create(newRecord);
    if (!created) {
      const existing = await this.store.get(caseId);
      if (existing) {
        if (existing.submittedBy !== submittedBy) throw new CaseIdConflictError(caseId, 'different-owner');
        if (existing.inputDigest !== inputDigest) throw new CaseIdConflictError(caseId, 'different-payload');
        // Anything past `accepted` is already enqueued; `accepted` means an earlier submit crashed before enqueueing.
        if (existing.status !== 'accepted') return { created: false, record: existing };
      }
    }

    const data: CaseJobData = {
      submission,
      submittedBy,
      enqueuedAt: new Date().toISOString(),
      mode: this.options.mode,
    };
    // Audited before the job exists, so the trail starts with it; once, however often a crashed submit is repeated.
    await this.audit.appendOnce({
      caseId,
      event: 'enqueued',
      actor: submittedBy,
      actorType: 'service',
      revision: null,
      detail: {
        priority: submission.priority,
        callback: submission.callbackUrl !== undefined,
        mode: this.options.mode,
        resubmitted: !created,
      },
    });
    await addCaseJob(this.queue, data);
    const moved = await this.lifecycle.queue(caseId);
    // A fresh case that moved to `queued` is known without reading it back; anything else is read.
    const record =
      moved === 'applied' && created ? this.store.initialRecord(newRecord, 'queued') : await this.store.get(caseId);
    if (!record) throw new Error(`case record ${caseId} vanished after enqueue`);
    return { created, record };
  }

  get(caseId: string): Promise<CaseRecord | null> {
    return this.store.get(caseId);
  }

  /** Closes the queue; the Redis connection belongs to the caller. */
  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Parse a submission and screen its callback URL; throws CaseValidationError with precise issues. */
export function parseSubmission(input: unknown, callbackHostAllowlist: readonly string[]): CaseSubmission {
  const parsed = CaseSubmission.safeParse(input);
  if (!parsed.success) throw new CaseValidationError(toFieldIssues(parsed.error));
  const submission = parsed.data;
  if (submission.callbackUrl) {
    const problem = callbackUrlProblem(submission.callbackUrl, callbackHostAllowlist);
    if (problem)
      throw new CaseValidationError([{ pointer: '/callbackUrl', code: 'callback_url_forbidden', message: problem }]);
  }
  return submission;
}

/**
 * Typed entry point for backend services that enqueue straight into BullMQ instead of
 * calling the HTTP API. Same validation, idempotency and job ids as `POST /v1/cases`.
 *
 * ```ts
 * const redis = createRedis(process.env.REDIS_URL!, 'ehr-gateway');
 * const producer = CaseProducer.fromConfig(loadConfig(process.env), redis);
 * const { created, record } = await enqueueCase(producer, { caseId, question, bundle }, 'ehr-gateway');
 * ```
 */
export function enqueueCase(
  producer: CaseProducer,
  submission: CaseSubmissionInput,
  submittedBy: string,
): Promise<SubmitResult> {
  return producer.submit(submission, submittedBy);
}
