/**
 * The human-review queue on BullMQ. A review job (`review.<caseId>.r<revision>`) waits, ordered
 * by BullMQ priority (case priority, then the most severe verification finding) and age.
 *
 * Claims are BullMQ manual processing: claiming moves the job to `active` under a lock whose
 * token only the server knows (kept in the claims hash with the reviewer's name). The lock is
 * the lease: the UI renews it (`extendLock`); if it lapses, BullMQ's stalled-job check puts the
 * job back in the queue, where anyone can claim it. Two reviewers can never hold one item: a
 * BullMQ lock has one token. A specific item is claimed by raising its priority to the front
 * and taking the next job, under a short Redis mutex shared by specific claims; a claim of the
 * next item that takes it first wins, and the specific claim gives back what it got.
 *
 * Deciding requires a live lease. The decision is recorded first (first write wins, see
 * DecisionStore), then handed to the case workers as a `resume` job with a deterministic id,
 * then the review job is completed. A crash between those steps leaves the job to come back to
 * the queue; whoever picks it up next finds the recorded decision and finishes the hand-over
 * instead of deciding again. The case worker applies a decision to the graph once.
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { diffPlans } from '../domain/plan-diff.js';
import { SEVERITY_RANK, type Evidence, type ReviewDecision, type Severity } from '../domain/plan.js';
import {
  actorOf,
  type Actor,
  type ClaimView,
  type DecisionInput,
  type DecisionRecord,
  type ReviewListItem,
} from '../domain/review.js';
import type { Metrics } from '../metrics/metrics.js';
import type { AuditLog } from '../audit/case-log.js';
import type { DecisionStore } from '../records/decisions.js';
import { claimMutexKey, claimsKey } from '../infra/redis-keys.js';
import { createReviewQueue, REVIEW_QUEUE, ReviewJobData, reviewJobId, reviewWorkerOptions } from './review.js';
import { AppError, type ErrorCodeOf } from '../errors.js';

export type ReviewErrorCode = ErrorCodeOf<'review'>;

/** A refused review action; only REVIEW_BUSY (the claim mutex is held) is worth another attempt. */
export class ReviewError extends AppError {
  declare readonly code: ReviewErrorCode;
  constructor(code: ReviewErrorCode, message: string) {
    super(code, message, code === 'REVIEW_BUSY');
  }
}

interface Claim {
  reviewer: string;
  token: string;
  claimedAt: string;
  renewedAt: string;
}

/** Hands a recorded decision to the case workers (idempotent per case revision): `enqueueResume` of src/queues/cases.ts. */
export interface DecisionSink {
  submitDecision(caseId: string, decision: ReviewDecision): Promise<void>;
}

export interface ReviewQueueOptions {
  /** A BullMQ-safe connection (maxRetriesPerRequest: null). */
  redis: Redis;
  keyPrefix: string;
  leaseMs: number;
  decisions: DecisionStore;
  sink: DecisionSink;
  audit: AuditLog;
  metrics: Metrics;
  now?: () => Date;
  onError?: (err: unknown) => void;
}

const RELEASE_MUTEX = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Review priorities are ≥ 10 (see reviewPriority); 1 puts an item at the front. */
const FRONT = 1;

export class ReviewQueue {
  readonly queue: Queue<ReviewJobData>;
  private readonly worker: Worker<ReviewJobData>;
  private readonly now: () => Date;
  private readonly onError: (err: unknown) => void;

  constructor(private readonly o: ReviewQueueOptions) {
    this.now = o.now ?? (() => new Date());
    this.onError = o.onError ?? (() => undefined);
    this.queue = createReviewQueue(o.redis, o.keyPrefix, this.onError);
    // No processor: jobs are taken by claims (see reviewWorkerOptions: the lock is the lease).
    this.worker = new Worker<ReviewJobData>(REVIEW_QUEUE, null, reviewWorkerOptions(o.redis, o.keyPrefix, o.leaseMs));
    this.worker.on('error', this.onError);
    this.worker.on('stalled', (jobId: string) => void this.onLeaseExpired(jobId).catch(this.onError));
  }

  /** Start returning abandoned claims to the queue (run it in every API process). */
  async start(): Promise<void> {
    await this.worker.startStalledCheckTimer();
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
  }

  private parseJob(job: Job<ReviewJobData>): ReviewJobData {
    return ReviewJobData.parse(job.data);
  }

  private async withMutex<T>(fn: () => Promise<T>): Promise<T> {
    const key = claimMutexKey(this.o.keyPrefix);
    const token = randomUUID();
    const deadline = Date.now() + 5000;
    while ((await this.o.redis.set(key, token, 'PX', 5000, 'NX')) !== 'OK') {
      if (Date.now() > deadline) throw new ReviewError('REVIEW_BUSY', 'the review queue is busy; try again');
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    }
    try {
      return await fn();
    } finally {
      await this.o.redis.eval(RELEASE_MUTEX, 1, key, token).catch(this.onError);
    }
  }

  private async getClaim(jobId: string): Promise<Claim | null> {
    const raw = await this.o.redis.hget(claimsKey(this.o.keyPrefix), jobId);
    return raw ? (JSON.parse(raw) as Claim) : null;
  }

  private async setClaim(jobId: string, claim: Claim): Promise<void> {
    await this.o.redis.hset(claimsKey(this.o.keyPrefix), jobId, JSON.stringify(claim));
  }

  private async dropClaim(jobId: string, token: string): Promise<void> {
    // Only the claim with this token: a newer claimant's entry stays.
    const current = await this.getClaim(jobId);
    if (current?.token === token) await this.o.redis.hdel(claimsKey(this.o.keyPrefix), jobId);
  }

  private leaseView(data: ReviewJobData, claim: Claim): ClaimView {
    return {
      caseId: data.caseId,
      revision: data.revision,
      claimedBy: claim.reviewer,
      claimedAt: claim.claimedAt,
      leaseExpiresAt: new Date(Date.parse(claim.renewedAt) + this.o.leaseMs).toISOString(),
      leaseMs: this.o.leaseMs,
    };
  }

  /** If the revision was decided already (a crash after recording), finish the hand-over and report true. */
  private async finishIfDecided(job: Job<ReviewJobData>, token: string): Promise<boolean> {
    const data = this.parseJob(job);
    const record = await this.o.decisions.get(data.caseId, data.revision);
    if (!record) return false;
    // The API may have crashed between recording the decision and auditing it.
    await this.o.audit.appendOnce({
      caseId: data.caseId,
      event: 'decided',
      actor: record.decision.reviewer,
      actorType: record.decision.reviewerType,
      revision: data.revision,
      at: record.decision.decidedAt,
      detail: { action: record.decision.action, recovered: true },
    });
    await this.o.sink.submitDecision(data.caseId, record.decision);
    await job.moveToCompleted(
      {
        action: record.decision.action,
        reviewer: record.decision.reviewer,
        decidedAt: record.decision.decidedAt,
        recovered: true,
      },
      token,
      false,
    );
    await this.o.redis.hdel(claimsKey(this.o.keyPrefix), `count:${job.id!}`);
    return true;
  }

  private async recordClaim(
    job: Job<ReviewJobData>,
    token: string,
    by: Actor,
    kind: 'next' | 'specific',
  ): Promise<ClaimView> {
    const data = this.parseJob(job);
    const at = this.now().toISOString();
    const reviewer = by.name;
    const claim: Claim = { reviewer, token, claimedAt: at, renewedAt: at };
    await this.setClaim(job.id!, claim);
    await job.updateProgress({ claimedBy: reviewer, claimedAt: at }).catch(this.onError);
    const first = (await this.o.redis.hincrby(claimsKey(this.o.keyPrefix), `count:${job.id!}`, 1)) === 1;
    await this.o.audit.append({
      caseId: data.caseId,
      event: 'claimed',
      actor: reviewer,
      actorType: by.type,
      revision: data.revision,
      detail: { kind, leaseMs: this.o.leaseMs },
    });
    await this.o.metrics.inc('co_review_claims_total', { kind });
    if (first)
      await this.o.metrics.observe('co_review_wait_seconds', (Date.parse(at) - Date.parse(data.enqueuedAt)) / 1000);
    return this.leaseView(data, claim);
  }

  /**
   * Claim the next item: highest priority first, then the oldest. Null when the queue is empty.
   * BullMQ's move to active is atomic, so this needs no mutex; a concurrent claim of a specific
   * item that loses the race to it reports the item as claimed.
   */
  async claimNext(by: string | Actor): Promise<ClaimView | null> {
    const who = actorOf(by);
    for (;;) {
      const token = randomUUID();
      const job = (await this.worker.getNextJob(token, { block: false })) as Job<ReviewJobData> | undefined;
      if (!job) return null;
      if (await this.finishIfDecided(job, token)) continue;
      return this.recordClaim(job, token, who, 'next');
    }
  }

  /** Claim one item. A reviewer who already holds it gets their lease back. */
  async claim(caseId: string, revision: number, by: string | Actor): Promise<ClaimView> {
    const who = actorOf(by);
    const id = reviewJobId(caseId, revision);
    return this.withMutex(async () => {
      const job = await this.queue.getJob(id);
      if (!job) throw new ReviewError('REVIEW_NOT_FOUND', `no review item for case ${caseId} revision ${revision}`);
      const state = await job.getState();
      if (state === 'active') {
        const claim = await this.getClaim(id);
        if (claim?.reviewer === who.name) return this.leaseView(this.parseJob(job), claim);
        throw new ReviewError(
          'ALREADY_CLAIMED',
          `case ${caseId} revision ${revision} is being reviewed by ${claim?.reviewer ?? 'someone else'}`,
        );
      }
      if (state === 'completed')
        throw new ReviewError('ALREADY_DECIDED', `case ${caseId} revision ${revision} has been decided`);
      if (state !== 'waiting' && state !== 'prioritized')
        throw new ReviewError('NOT_CLAIMABLE', `case ${caseId} revision ${revision} cannot be claimed (${state})`);
      const priority = job.opts.priority ?? job.priority;
      await job.changePriority({ priority: FRONT });
      const token = randomUUID();
      const got = (await this.worker.getNextJob(token, { block: false })) as Job<ReviewJobData> | undefined;
      if (got?.id !== id) {
        // A concurrent claim of the next item took this one first: give back what we got and report who has it.
        if (got) await got.moveToWait(token);
        await job.changePriority({ priority });
        const claim = await this.getClaim(id);
        if ((await job.getState()) === 'active')
          throw new ReviewError(
            'ALREADY_CLAIMED',
            `case ${caseId} revision ${revision} is being reviewed by ${claim?.reviewer ?? 'someone else'}`,
          );
        throw new ReviewError('REVIEW_BUSY', 'the review queue changed while claiming; try again');
      }
      await got.changePriority({ priority });
      if (await this.finishIfDecided(got, token))
        throw new ReviewError('ALREADY_DECIDED', `case ${caseId} revision ${revision} has been decided`);
      return this.recordClaim(got, token, who, 'specific');
    });
  }

  /** The job and lock token of a claim this reviewer holds, or a clear error. */
  private async held(
    caseId: string,
    revision: number,
    reviewer: string,
  ): Promise<{ job: Job<ReviewJobData>; claim: Claim }> {
    const id = reviewJobId(caseId, revision);
    const [job, claim] = await Promise.all([this.queue.getJob(id), this.getClaim(id)]);
    if (!job) throw new ReviewError('REVIEW_NOT_FOUND', `no review item for case ${caseId} revision ${revision}`);
    if (await job.isCompleted())
      throw new ReviewError('ALREADY_DECIDED', `case ${caseId} revision ${revision} has been decided`);
    if (!claim || claim.reviewer !== reviewer) {
      throw claim
        ? new ReviewError(
            'ALREADY_CLAIMED',
            `case ${caseId} revision ${revision} is being reviewed by ${claim.reviewer}`,
          )
        : new ReviewError(
            'NOT_CLAIMED',
            `you do not hold a claim on case ${caseId} revision ${revision}; claim it first`,
          );
    }
    return { job, claim };
  }

  private expired(caseId: string, revision: number, claim: Claim): ReviewError {
    const at = new Date(Date.parse(claim.renewedAt) + this.o.leaseMs).toISOString();
    return new ReviewError(
      'LEASE_EXPIRED',
      `your claim on case ${caseId} revision ${revision} expired at ${at} and the item went back to the queue; claim it again to decide`,
    );
  }

  /** Extend the lease. Fails with LEASE_EXPIRED when it has lapsed. */
  async renew(caseId: string, revision: number, reviewer: string): Promise<ClaimView> {
    const { job, claim } = await this.held(caseId, revision, reviewer);
    const ok = await job.extendLock(claim.token, this.o.leaseMs).catch(() => 0);
    if (!ok) {
      await this.dropClaim(job.id!, claim.token);
      throw this.expired(caseId, revision, claim);
    }
    const renewed = { ...claim, renewedAt: this.now().toISOString() };
    await this.setClaim(job.id!, renewed);
    return this.leaseView(this.parseJob(job), renewed);
  }

  /** Give the item back to the queue. */
  async release(caseId: string, revision: number, by: string | Actor): Promise<void> {
    const who = actorOf(by);
    const { job, claim } = await this.held(caseId, revision, who.name);
    try {
      await job.moveToWait(claim.token);
    } catch {
      await this.dropClaim(job.id!, claim.token);
      throw this.expired(caseId, revision, claim);
    }
    await this.dropClaim(job.id!, claim.token);
    await this.o.audit.append({
      caseId,
      event: 'released',
      actor: who.name,
      actorType: who.type,
      revision,
      detail: {},
    });
  }

  /**
   * Record a decision on a held item and hand it to the case workers. Requires a live lease.
   * Returns the recorded decision (an earlier one, if the revision was decided already).
   */
  async decide(
    caseId: string,
    revision: number,
    by: string | Actor,
    input: DecisionInput,
    /** For an edit: the records of `input.attach`, as the caller fetched them from the literature source. */
    sources: readonly Evidence[] = [],
  ): Promise<{ record: DecisionRecord; created: boolean }> {
    const who = actorOf(by);
    const reviewer = who.name;
    const { job, claim } = await this.held(caseId, revision, reviewer);
    if (!(await job.extendLock(claim.token, this.o.leaseMs).catch(() => 0))) {
      await this.dropClaim(job.id!, claim.token);
      throw this.expired(caseId, revision, claim);
    }
    const data = this.parseJob(job);
    const decidedAt = this.now().toISOString();
    const base = {
      revision,
      reviewer,
      ...(who.type === 'staff_session' || who.type === 'staff_token' ? { reviewerType: who.type } : {}),
      decidedAt,
    };
    const decision: ReviewDecision =
      input.action === 'approve'
        ? { action: 'approve', ...base }
        : input.action === 'edit'
          ? { action: 'edit', sections: input.sections, sources: [...sources], ...base }
          : input.action === 'request_changes'
            ? { action: 'request_changes', comments: input.comments, ...base }
            : { action: 'reject', reason: input.reason, ...base };
    const diff = decision.action === 'edit' ? diffPlans(data.request.plan.sections, decision.sections) : null;
    const { record, created } = await this.o.decisions.record({
      caseId,
      revision,
      decision,
      diff,
      recordedAt: decidedAt,
    });
    // Audited once per revision: also when an earlier request recorded the decision and crashed before auditing it.
    const d = record.diff;
    await this.o.audit.appendOnce({
      caseId,
      event: 'decided',
      actor: record.decision.reviewer,
      actorType: record.decision.reviewerType,
      revision,
      at: record.decision.decidedAt,
      detail: {
        action: record.decision.action,
        ...(d ? { added: d.added, removed: d.removed, changed: d.changed } : {}),
        ...(record.decision.action === 'edit' && record.decision.sources.length
          ? { attached: record.decision.sources.map((e) => e.id).join(' ') }
          : {}),
      },
    });
    if (created) {
      await this.o.metrics.inc('co_review_decisions_total', { action: decision.action });
      await this.o.metrics.observe(
        'co_review_time_to_decision_seconds',
        (Date.parse(decidedAt) - Date.parse(data.enqueuedAt)) / 1000,
      );
    }
    await this.o.sink.submitDecision(caseId, record.decision);
    await job.moveToCompleted(
      { action: record.decision.action, reviewer: record.decision.reviewer, decidedAt: record.decision.decidedAt },
      claim.token,
      false,
    );
    await this.dropClaim(job.id!, claim.token);
    await this.o.redis.hdel(claimsKey(this.o.keyPrefix), `count:${job.id!}`);
    return { record, created };
  }

  private async onLeaseExpired(jobId: string): Promise<void> {
    const claim = await this.getClaim(jobId);
    const job = await this.queue.getJob(jobId);
    if (!job) return;
    const data = this.parseJob(job);
    if (claim) await this.dropClaim(jobId, claim.token);
    await this.o.metrics.inc('co_review_leases_expired_total');
    await this.o.audit.append({
      caseId: data.caseId,
      event: 'lease_expired',
      actor: 'system:review-queue',
      revision: data.revision,
      detail: { claimedBy: claim?.reviewer ?? null },
    });
  }

  /** One item, its state and, when `reviewer` holds it, their lease; null when there is no such item. */
  async item(
    caseId: string,
    revision: number,
    reviewer?: string,
  ): Promise<{ data: ReviewJobData; listItem: ReviewListItem; claim: ClaimView | null } | null> {
    const id = reviewJobId(caseId, revision);
    const [job, claim] = await Promise.all([this.queue.getJob(id), this.getClaim(id)]);
    if (!job) return null;
    const state = await job.getState();
    const data = this.parseJob(job);
    const claimed = state === 'active';
    return {
      data,
      listItem: this.toListItem(
        job,
        claimed ? 'claimed' : state === 'completed' ? 'decided' : 'waiting',
        claimed ? claim : null,
      ),
      claim: claimed && claim && claim.reviewer === reviewer ? this.leaseView(data, claim) : null,
    };
  }

  private toListItem(job: Job<ReviewJobData>, state: ReviewListItem['state'], claim: Claim | null): ReviewListItem {
    const data = this.parseJob(job);
    const findings = { info: 0, low: 0, moderate: 0, high: 0, critical: 0 } as Record<Severity, number>;
    for (const f of data.request.findings) findings[f.severity]++;
    return {
      caseId: data.caseId,
      revision: data.revision,
      casePriority: data.casePriority,
      maxSeverity: data.maxSeverity,
      findings,
      state,
      claimedBy: claim?.reviewer ?? null,
      leaseExpiresAt: claim ? new Date(Date.parse(claim.renewedAt) + this.o.leaseMs).toISOString() : null,
      enqueuedAt: data.enqueuedAt,
      waitingSeconds: Math.max(0, Math.round((this.now().getTime() - Date.parse(data.enqueuedAt)) / 1000)),
      queuePriority: job.opts.priority ?? job.priority,
    };
  }

  /** Waiting and claimed items in the order they are served: priority, then age. */
  async list(limit = 500): Promise<ReviewListItem[]> {
    const [waiting, active, claims] = await Promise.all([
      this.queue.getJobs(['prioritized', 'waiting'], 0, limit - 1),
      this.queue.getJobs(['active'], 0, limit - 1),
      this.o.redis.hgetall(claimsKey(this.o.keyPrefix)),
    ]);
    const claimOf = (id: string) => (claims[id] ? (JSON.parse(claims[id]) as Claim) : null);
    const items = [
      ...waiting.map((j) => this.toListItem(j, 'waiting', null)),
      ...active.map((j) => this.toListItem(j, 'claimed', claimOf(j.id!))),
    ];
    return items.sort(
      (a, b) =>
        a.queuePriority - b.queuePriority ||
        SEVERITY_RANK[b.maxSeverity ?? 'info'] - SEVERITY_RANK[a.maxSeverity ?? 'info'] ||
        Date.parse(a.enqueuedAt) - Date.parse(b.enqueuedAt),
    );
  }
}
