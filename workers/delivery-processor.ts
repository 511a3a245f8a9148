/**
 * The `delivery` job processor, exported on its own. For a closed case revision it POSTs the
 * signed webhook to the case's callback URL (or, without one, records that the result is
 * available through `GET /v1/cases/:id`), and records the delivery state and audit events.
 *
 * Retries are BullMQ's (attempts with exponential backoff). A delivery that cannot succeed (a
 * forbidden address, a 4xx, a redirect) or has used its last attempt is copied to the
 * dead-letter queue before the job fails. Delivered once: a case whose delivery is recorded is
 * not sent again, and receivers deduplicate on `X-CO-Delivery-Id` (a crash after the POST but
 * before the record means one more POST with the same id).
 */
import { UnrecoverableError, type Job } from 'bullmq';
import { DeliveryPayload } from '../src/domain/review.js';
import { DeliveryError, postWebhook, signatureHeader, withoutAddresses } from '../src/delivery/webhook.js';
import type { Logger } from '../src/logger.js';
import type { Metrics } from '../src/metrics/metrics.js';
import { CaseLifecycle, isClosed } from '../src/cases/lifecycle.js';
import type { AuditLog } from '../src/audit/case-log.js';
import type { CaseStore } from '../src/cases/store.js';
import type { DeliveryState } from '../src/domain/case.js';
import type { CaseLedger } from '../src/records/case-ledger.js';
import type { DeadLetterJobData } from '../src/queues/dead-letter.js';
import { DeliveryJobData, deliveryId } from '../src/queues/delivery.js';

export interface DeliveryProcessorDeps {
  store: CaseStore;
  /** The durable case ledger: each delivery outcome is written there before the Redis record. */
  ledger: CaseLedger;
  audit: AuditLog;
  metrics: Metrics;
  addDeadLetter: (data: DeadLetterJobData) => Promise<void>;
  logger: Logger;
  /** Each service's webhook secrets (`config.delivery.secrets`); a service without any gets no webhook. */
  secrets: Readonly<Record<string, readonly string[]>>;
  timeoutMs: number;
  hostAllowlist: readonly string[];
  now?: () => Date;
}

const ACTOR = 'system:delivery-worker';

export function createDeliveryProcessor(deps: DeliveryProcessorDeps) {
  const now = deps.now ?? (() => new Date());
  const lifecycle = new CaseLifecycle(deps.store);
  /** Attempt and dead-letter events: a failure to write one fails the attempt, which is retried. */
  const audit = (entry: Parameters<AuditLog['append']>[0]) => deps.audit.append(entry);
  /**
   * `delivered` is a milestone: once per revision, also when a crash came between the delivery and
   * its audit entry. A failure to write it fails the attempt (Redis down): the retry finds the case
   * delivered and writes it then, instead of losing it (found by the 5,000-case soak).
   */
  const delivered = (entry: Parameters<AuditLog['append']>[0]) => deps.audit.appendOnce(entry);
  /** A delivery state, on disk first, then on the Redis record. */
  const recordDelivery = async (caseId: string, revision: number, state: DeliveryState) => {
    await deps.ledger.recordDelivery(caseId, revision, state);
    await lifecycle.recordDelivery(caseId, state);
  };

  return async function processDelivery(
    job: Job,
  ): Promise<{ status: 'delivered' | 'skipped'; channel?: 'webhook' | 'api' }> {
    const parsed = DeliveryJobData.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError('JOB_DATA_INVALID: job data does not match the delivery job schema');
    const { caseId, revision } = parsed.data;
    const logger = deps.logger.child({ caseId, revision, jobId: job.id, attempt: job.attemptsMade + 1 });
    const record = await deps.store.get(caseId);
    if (!record) throw new UnrecoverableError(`CASE_NOT_FOUND: no record for case ${caseId}`);
    if (!isClosed(record.status)) throw new UnrecoverableError(`CASE_NOT_CLOSED: case ${caseId} is ${record.status}`);
    if (record.delivery?.status === 'delivered') {
      logger.info('already delivered; not sent again');
      await delivered({
        caseId,
        event: 'delivered',
        actor: ACTOR,
        revision,
        at: record.delivery.deliveredAt ?? undefined,
        detail: { channel: record.delivery.channel, recovered: true },
      });
      return { status: 'skipped' };
    }
    // Delivered before Redis lost its copy of that (a restore from an older snapshot, or recovery): not sent again.
    const entry = await deps.ledger.get(caseId);
    const durable = entry?.revision === revision ? entry.delivery : null;
    if (durable?.status === 'delivered') {
      await lifecycle.recordDelivery(caseId, durable);
      logger.info('delivered before (the case ledger says so); not sent again');
      await delivered({
        caseId,
        event: 'delivered',
        actor: ACTOR,
        revision,
        at: durable.deliveredAt ?? undefined,
        detail: { channel: durable.channel, recovered: true },
      });
      return { status: 'skipped' };
    }
    const decidedAt = record.decidedAt;
    const observeLatency = () =>
      decidedAt
        ? deps.metrics.observe(
            'co_delivery_decision_to_delivered_seconds',
            Math.max(0, (now().getTime() - Date.parse(decidedAt)) / 1000),
          )
        : Promise.resolve();

    if (!record.callbackUrl) {
      await recordDelivery(caseId, revision, {
        status: 'delivered',
        channel: 'api',
        attempts: 0,
        lastError: null,
        deliveredAt: now().toISOString(),
      });
      await delivered({ caseId, event: 'delivered', actor: ACTOR, revision, detail: { channel: 'api' } });
      await deps.metrics.inc('co_delivery_attempts_total', { result: 'delivered' });
      await observeLatency();
      return { status: 'delivered', channel: 'api' };
    }

    const id = deliveryId(caseId, revision);
    const payload: DeliveryPayload = {
      deliveryId: id,
      caseId,
      status: record.status,
      revision,
      plan: record.status === 'approved' ? (record.plan as DeliveryPayload['plan']) : null,
      closedReason: record.closedReason,
      decidedBy: record.decidedBy,
      decidedAt: record.decidedAt,
      sentAt: now().toISOString(),
    };
    const body = JSON.stringify(DeliveryPayload.parse(payload));
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    const host = new URL(record.callbackUrl).host;
    const secrets = Object.hasOwn(deps.secrets, record.submittedBy) ? deps.secrets[record.submittedBy]! : [];
    let status: number;
    try {
      if (secrets.length === 0)
        throw new DeliveryError(
          'unsigned',
          `no webhook secret is configured for service ${record.submittedBy} (WEBHOOK_SECRETS); plans are never sent unsigned`,
          false,
        );
      status = await postWebhook(record.callbackUrl, body, {
        timeoutMs: deps.timeoutMs,
        allowlist: deps.hostAllowlist,
        headers: {
          'x-co-delivery-id': id,
          'x-co-timestamp': timestamp,
          'x-co-signature': signatureHeader(body, timestamp, secrets),
        },
      });
    } catch (err) {
      const e =
        err instanceof DeliveryError
          ? err
          : new DeliveryError('network', err instanceof Error ? err.message : String(err), true);
      const final = !e.retryable || attempt >= attempts;
      const error = `${e.reason}: ${e.message}`;
      await deps.metrics.inc('co_delivery_attempts_total', { result: 'failed' });
      await deps.metrics.inc('co_delivery_failures_total', { reason: e.reason });
      await recordDelivery(caseId, revision, {
        status: final ? 'failed' : 'pending',
        channel: 'webhook',
        attempts: attempt,
        lastError: withoutAddresses(error).slice(0, 500),
        deliveredAt: null,
      });
      await audit({
        caseId,
        event: 'delivery_attempt_failed',
        actor: ACTOR,
        revision,
        detail: { host, attempt, of: attempts, reason: e.reason, httpStatus: e.status, final },
      });
      logger.warn(
        { host, attempt, of: attempts, reason: e.reason, final, error: e.message },
        final ? 'delivery failed for good; dead-lettered' : 'delivery attempt failed; will retry',
      );
      if (!final) throw e;
      await deps.addDeadLetter({
        caseId,
        revision,
        deliveryId: id,
        host,
        attempts: attempt,
        lastError: error.slice(0, 500), // ops only: the address helps
        failedAt: now().toISOString(),
      });
      await deps.metrics.inc('co_delivery_dead_letters_total');
      await audit({
        caseId,
        event: 'dead_lettered',
        actor: ACTOR,
        revision,
        detail: { host, attempts: attempt, reason: e.reason },
      });
      throw new UnrecoverableError(`DELIVERY_FAILED: ${e.reason}: ${e.message}`);
    }
    // Outside the try: a failure from here on (Redis down) is not a failed delivery; the retry finds the case delivered.
    await recordDelivery(caseId, revision, {
      status: 'delivered',
      channel: 'webhook',
      attempts: attempt,
      lastError: null,
      deliveredAt: now().toISOString(),
    });
    await delivered({
      caseId,
      event: 'delivered',
      actor: ACTOR,
      revision,
      detail: { channel: 'webhook', host, attempt, httpStatus: status },
    });
    await deps.metrics.inc('co_delivery_attempts_total', { result: 'delivered' });
    await observeLatency();
    logger.info({ host, attempt, status }, 'delivered');
    return { status: 'delivered', channel: 'webhook' };
  };
}
