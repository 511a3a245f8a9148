import type { FastifyInstance } from 'fastify';
import { CaseId } from '../../domain/case.js';
import { CaseValidationError } from '../../domain/validation.js';
import { CaseIdConflictError } from '../../errors.js';
import { toCaseView } from '../../cases/store.js';
import type { CaseProducer } from '../../queues/producer.js';
import type { AuditLog } from '../../audit/case-log.js';
import { actorFor, requireRole, requireService, type Authenticator } from '../auth.js';
import { problem, problemFor, sendProblem } from '../problem.js';

export function registerCaseRoutes(
  app: FastifyInstance,
  deps: { producer: CaseProducer; auth: Authenticator; audit: AuditLog },
): void {
  const auth = requireService(deps.auth);
  const auditReaders = requireRole(deps.auth, ['service', 'reviewer', 'ops']);

  app.post('/v1/cases', { preHandler: auth }, async (request, reply) => {
    try {
      const { created, record } = await deps.producer.submit(request.body, request.service!);
      request.log.info(
        { caseId: record.caseId, created, status: record.status, service: request.service },
        created ? 'case accepted' : 'case resubmitted',
      );
      return reply
        .status(created ? 202 : 200)
        .header('location', `/v1/cases/${encodeURIComponent(record.caseId)}`)
        .send(toCaseView(record));
    } catch (err) {
      if (err instanceof CaseValidationError) {
        request.log.info({ problems: err.issues.length, first: err.issues[0]?.pointer }, 'case rejected');
        return sendProblem(reply, problemFor(err, 'The case is invalid', err.issues));
      }
      if (err instanceof CaseIdConflictError) return sendProblem(reply, problemFor(err, 'Case id conflict'));
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/v1/cases/:id', { preHandler: auth }, async (request, reply) => {
    const id = CaseId.safeParse(request.params.id);
    if (!id.success) {
      return sendProblem(
        reply,
        problem(400, 'CASE_ID_INVALID', 'Invalid case id', id.error.issues[0]?.message, [
          { pointer: '/id', code: 'invalid_format', message: id.error.issues[0]?.message ?? 'invalid' },
        ]),
      );
    }
    const record = await deps.producer.get(id.data);
    // Another service's case is reported as not found, so ids cannot be probed.
    if (!record || record.submittedBy !== request.service) {
      return sendProblem(
        reply,
        problem(404, 'CASE_NOT_FOUND', 'Case not found', `no case ${id.data} for this service`),
      );
    }
    await deps.audit.viewed(id.data, actorFor(request.principal!), 'api:case');
    return reply.send(toCaseView(record));
  });

  app.get<{ Params: { id: string } }>('/v1/cases/:id/audit', { preHandler: auditReaders }, async (request, reply) => {
    const id = CaseId.safeParse(request.params.id);
    if (!id.success)
      return sendProblem(reply, problem(400, 'CASE_ID_INVALID', 'Invalid case id', id.error.issues[0]?.message));
    const record = await deps.producer.get(id.data);
    // A service sees only its own cases; another's is reported as not found.
    if (!record || (request.principal!.kind === 'service' && record.submittedBy !== request.principal!.name)) {
      return sendProblem(reply, problem(404, 'CASE_NOT_FOUND', 'Case not found', `no case ${id.data}`));
    }
    await deps.audit.viewed(id.data, actorFor(request.principal!), 'api:audit');
    return { caseId: id.data, events: await deps.audit.list(id.data) };
  });
}
