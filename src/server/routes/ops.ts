/**
 * Operations (role `ops`; admin too):
 *
 *   GET  /metrics                                                   Prometheus text: queue depths, review and decision times, decisions, tools, deliveries
 *   GET  /v1/ops/dead-letters                                       deliveries that failed for good
 *   POST /v1/ops/dead-letters/:caseId/revisions/:revision/retry     send one again (with all its attempts)
 *   GET  /v1/ops/security-events?after=&limit=                     the security log: sign-ins, failures, account changes, refusals
 *   /ops/queues                                                     Bull Board over every queue
 *
 * Bull Board shows `cases` and `review` read-only (a retried or promoted review job would
 * break its lease); `delivery` and `dead-letter` allow its actions. Its own requests carry no
 * CSRF token, so for it a session must also come from this origin (SameSite=Strict cookie plus
 * an Origin/Referer check).
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CaseLifecycle, isClosed } from '../../cases/lifecycle.js';
import { renderPrometheus, type Gauge, type Metrics } from '../../metrics/metrics.js';
import type { AuditLog } from '../../audit/case-log.js';
import type { CaseStore } from '../../cases/store.js';
import type { SecurityLog } from '../../audit/security-log.js';
import { SecurityEvent } from '../../domain/security-event.js';
import { toFieldIssues } from '../../domain/validation.js';
import { DeadLetterJobData } from '../../queues/dead-letter.js';
import type { DeliveryQueues } from '../../queues/delivery.js';
import { actorFor, requireRole, type Authenticator } from '../auth.js';
import { problem, sendProblem } from '../problem.js';
import { ReviewItemParams } from './reviews.js';

export const SecurityEventList = z.object({
  events: z.array(SecurityEvent),
  /** Pass as `after` for the next page; null when this page is the end. */
  next: z.string().nullable(),
});
const SecurityEventQuery = z.strictObject({
  after: z
    .string()
    .regex(/^\d{1,20}-\d{1,20}$/, 'a stream id such as 1700000000000-0')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const DeadLetterList = z.object({ items: z.array(DeadLetterJobData.extend({ deadLetteredAt: z.string() })) });

export interface OpsRouteDeps {
  auth: Authenticator;
  metrics: Metrics;
  /** Every queue, for depths and Bull Board. */
  queues: { cases: Queue; review: Queue; delivery: Queue; deadLetter: Queue };
  deliveries: DeliveryQueues;
  store: CaseStore;
  audit: AuditLog;
  security: SecurityLog;
}

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed', 'waiting-children'] as const;

export async function queueDepths(queues: OpsRouteDeps['queues']): Promise<Gauge> {
  const samples: Gauge['samples'] = [];
  for (const q of Object.values(queues)) {
    const counts = await q.getJobCounts(...STATES);
    for (const state of STATES) samples.push({ labels: { queue: q.name, state }, value: counts[state] ?? 0 });
  }
  return { name: 'co_queue_jobs', help: 'Jobs per queue and state (BullMQ), read at scrape time.', samples };
}

export async function registerOpsRoutes(app: FastifyInstance, deps: OpsRouteDeps): Promise<void> {
  const ops = requireRole(deps.auth, ['ops']);
  const lifecycle = new CaseLifecycle(deps.store);

  app.get('/metrics', { preHandler: ops }, async (_request, reply) => {
    const [snapshot, depths] = await Promise.all([deps.metrics.snapshot(), queueDepths(deps.queues)]);
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(renderPrometheus(snapshot, [depths]));
  });

  app.get('/v1/ops/security-events', { preHandler: ops }, async (request, reply) => {
    const query = SecurityEventQuery.safeParse(request.query);
    if (!query.success)
      return sendProblem(
        reply,
        problem(400, 'VALIDATION_FAILED', 'Invalid query', query.error.issues[0]?.message, toFieldIssues(query.error)),
      );
    const events = await deps.security.list(query.data);
    return { events, next: events.length === query.data.limit ? events.at(-1)!.id : null };
  });

  app.get('/v1/ops/dead-letters', { preHandler: ops }, async () => ({ items: await deps.deliveries.deadLetters() }));

  app.post('/v1/ops/dead-letters/:caseId/revisions/:revision/retry', { preHandler: ops }, async (request, reply) => {
    const params = ReviewItemParams.safeParse(request.params);
    if (!params.success) return sendProblem(reply, problem(400, 'VALIDATION_FAILED', 'Invalid case id or revision'));
    const { caseId, revision } = params.data;
    const record = await deps.store.get(caseId);
    if (!record || !isClosed(record.status))
      return sendProblem(
        reply,
        problem(404, 'DEAD_LETTER_NOT_FOUND', 'Nothing to retry', `case ${caseId} is not a closed case`),
      );
    const nothing = () =>
      sendProblem(
        reply,
        problem(
          404,
          'DEAD_LETTER_NOT_FOUND',
          'Nothing to retry',
          `no dead-lettered delivery for case ${caseId} revision ${revision}`,
        ),
      );
    if (!(await deps.deliveries.isDeadLettered(caseId, revision))) return nothing();
    // Record and audit the retry before the job exists: a fast delivery must not be overwritten by "pending".
    await lifecycle.recordDelivery(caseId, {
      status: 'pending',
      channel: 'webhook',
      attempts: 0,
      lastError: null,
      deliveredAt: null,
    });
    await deps.audit.append({
      caseId,
      event: 'delivery_retried',
      actor: request.principal!.name,
      actorType: actorFor(request.principal!).type,
      revision,
      detail: {},
    });
    if (!(await deps.deliveries.retry(caseId, revision, record.status))) return nothing();
    return reply.status(202).send({ caseId, revision, status: 'pending' });
  });

  const board = new FastifyAdapter();
  createBullBoard({
    queues: [
      new BullMQAdapter(deps.queues.cases, {
        readOnlyMode: true,
        description: 'Case jobs: draft (case) and resume (decision)',
      }),
      new BullMQAdapter(deps.queues.review, {
        readOnlyMode: true,
        description: 'Plans waiting for a human decision (claimed = active)',
      }),
      new BullMQAdapter(deps.queues.delivery, { description: 'Webhook deliveries of finalized plans' }),
      new BullMQAdapter(deps.queues.deadLetter, {
        description: 'Deliveries that failed for good (retry: POST /v1/ops/dead-letters/…/retry)',
      }),
    ],
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'clinical-orchestrator' } },
  });
  board.setBasePath('/ops/queues');
  await app.register(async (scope) => {
    // Bull Board's own requests carry no CSRF token: for sessions, they must come from this origin.
    scope.addHook(
      'preHandler',
      requireRole(deps.auth, ['ops'], { loginRedirect: '/review/login', csrf: 'same-origin' }),
    );
    await scope.register(board.registerPlugin(), { prefix: '/ops/queues' });
  });
}
