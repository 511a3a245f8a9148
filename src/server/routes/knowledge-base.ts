/**
 * `/v1/kb/...`: search entities, read facts with provenance and history, normalise terms, run
 * safety checks, and manage edits (propose → apply or reject by a second person). Reads are
 * open to every authenticated principal (they carry no patient data); proposing needs the
 * reviewer or kb_editor role; applying and rejecting need kb_editor, and never by the proposer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { toFieldIssues } from '../../domain/validation.js';
import { checkResult, kbVersion, lookupFacts } from '../../tools/knowledge-base/client.js';
import { KbError } from '../../knowledge/errors.js';
import { EditProposal, EditStatus, EntityId, type StoredEdit, type StoredFact } from '../../knowledge/model.js';
import { resolveTerm, searchEntities } from '../../knowledge/resolve.js';
import { EntityType, KbFact, SafetyCheckInput, SafetyCheckResult, SafetyFinding } from '../../domain/knowledge.js';
import type { KbSnapshot } from '../../knowledge/snapshot.js';
import { toKbFact } from '../../knowledge/statements.js';
import type { KnowledgeBaseStore } from '../../knowledge/store.js';
import { requireRole, type Authenticator } from '../auth.js';
import { problem, problemFor, sendProblem } from '../problem.js';

// ---------------------------------------------------------------------------------------------
// Request and response schemas (also used for the OpenAPI document)

export const KbSearchQuery = z.object({
  q: z.string().trim().min(1).max(200),
  type: EntityType.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export const KbEntitySummary = z.object({
  id: z.string(),
  type: EntityType,
  name: z.string(),
  matchedName: z.string(),
  match: z.enum(['exact', 'prefix', 'contains']),
});
export const KbSearchResult = z.object({ version: z.string(), results: z.array(KbEntitySummary) });

export const KbEntityView = z.object({
  version: z.string(),
  entity: z.object({
    id: z.string(),
    type: EntityType,
    name: z.string(),
    source: KbFact.shape.source,
    addedBy: z.string(),
    addedAt: z.string(),
    version: z.number().int(),
    status: z.string(),
  }),
  /** Facts about the entity (as subject or object), with provenance. */
  facts: z.array(KbFact),
  /** Recommendations, monitoring and indications inherited from its classes. */
  inherited: z.array(KbFact),
});

export const KbHistoryView = z.object({
  factId: z.string(),
  history: z.array(
    z.object({
      version: z.number().int(),
      change: z.string(),
      changedBy: z.string(),
      changedAt: z.string(),
      editId: z.string().nullable(),
      revision: z.number().int(),
      fact: KbFact,
    }),
  ),
});

export const KbNormaliseRequest = z.object({
  terms: z.array(z.string().trim().min(1).max(200)).min(1).max(100),
  context: z.enum(['medication', 'allergy', 'condition', 'any']).default('any'),
});
export const KbNormaliseResult = z.object({
  version: z.string(),
  results: z.array(
    z.object({
      term: z.string(),
      /** Empty when the term is unknown: it is never guessed. */
      entities: z.array(
        z.object({
          id: z.string(),
          type: EntityType,
          name: z.string(),
          matchedName: z.string(),
          match: z.string(),
          factIds: z.array(z.string()),
        }),
      ),
      suggestions: z.array(z.string()).describe('Close names for a human to consider; never used by checks'),
      conflict: z.string().optional(),
    }),
  ),
});

export const KbCheckResponse = SafetyCheckResult.extend({ version: z.string(), findings: z.array(SafetyFinding) });

export const KbEditView = z.object({
  id: z.string(),
  operation: z.record(z.string(), z.unknown()),
  reason: z.string(),
  origin: z.object({ kind: z.string(), caseId: z.string().optional(), revision: z.number().int().optional() }),
  status: EditStatus,
  baseVersion: z.number().int().nullable(),
  targetId: z.string(),
  proposedBy: z.string(),
  proposedAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  decisionComment: z.string().nullable(),
});
export const KbEditList = z.object({ edits: z.array(KbEditView) });
export const KbEditsQuery = z.object({
  status: EditStatus.optional(),
  target: z.string().max(300).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const KbDecisionRequest = z.object({ comment: z.string().trim().max(2000).optional() });
export { EditProposal as KbEditProposal };

const FactIdParam = z.string().min(1).max(300);
const EditIdParam = z.string().regex(/^edit-[0-9a-f-]{36}$/, 'an edit id is edit-<uuid>');

// ---------------------------------------------------------------------------------------------

function sendKbError(reply: FastifyReply, err: KbError) {
  const errors = err.details.map((d) => ({ pointer: d.pointer, code: 'invalid', message: d.message }));
  return sendProblem(
    reply,
    problemFor(
      err,
      err.code === 'KB_SELF_REVIEW' ? 'Four-eyes rule' : 'Knowledge-base request refused',
      errors.length ? errors : undefined,
    ),
  );
}

function invalid(reply: FastifyReply, error: z.ZodError, where: 'body' | 'query' | 'params') {
  return sendProblem(
    reply,
    problem(400, 'VALIDATION_FAILED', `Invalid request ${where}`, error.issues[0]?.message, toFieldIssues(error)),
  );
}

const idOf = (request: FastifyRequest) => (request.params as { id?: string }).id;
const editView = (e: StoredEdit) => ({ ...e, operation: e.operation as unknown as Record<string, unknown> });

export function registerKnowledgeBaseRoutes(
  app: FastifyInstance,
  deps: { store: KnowledgeBaseStore; auth: Authenticator },
): void {
  const { store } = deps;
  const read = requireRole(deps.auth, ['service', 'reviewer', 'kb_editor', 'ops']);
  const propose = requireRole(deps.auth, ['reviewer', 'kb_editor']);
  const decide = requireRole(deps.auth, ['kb_editor']);

  const handle =
    <T>(fn: (request: FastifyRequest, reply: FastifyReply) => Promise<T>) =>
    async (request: FastifyRequest, reply: FastifyReply) => {
      try {
        return await fn(request, reply);
      } catch (err) {
        if (err instanceof KbError) return sendKbError(reply, err);
        throw err;
      }
    };
  const factOf = (f: StoredFact, kb: KbSnapshot) => toKbFact(f, kb);

  app.get('/v1/kb/version', { preHandler: read }, async () => {
    const counts = await store.counts();
    return {
      version: `kb-r${counts.revision}`,
      revision: counts.revision,
      entities: counts.entities,
      facts: counts.facts,
      editsPending: counts.editsPending,
    };
  });

  app.get(
    '/v1/kb/entities',
    { preHandler: read },
    handle(async (request, reply) => {
      const q = KbSearchQuery.safeParse(request.query);
      if (!q.success) return invalid(reply, q.error, 'query');
      const kb = await store.snapshot();
      return {
        version: kbVersion(kb),
        results: searchEntities(kb, q.data.q, { type: q.data.type, limit: q.data.limit }),
      };
    }),
  );

  app.get(
    '/v1/kb/entities/:id',
    { preHandler: read },
    handle(async (request, reply) => {
      const id = EntityId.safeParse(idOf(request));
      if (!id.success) return invalid(reply, id.error, 'params');
      const entity = await store.getEntity(id.data);
      if (!entity) throw new KbError('KB_NOT_FOUND', `no entity ${id.data}`);
      const kb = await store.snapshot();
      const own = await store.factsOf(id.data);
      const ownIds = new Set(own.map((f) => f.id));
      const inherited = lookupFacts(kb, id.data).filter((f) => !ownIds.has(f.id));
      const { attrs: _attrs, ...rest } = entity;
      return {
        version: kbVersion(kb),
        entity: rest,
        facts: own.map((f) => factOf(f, kb)),
        inherited: inherited.map((f) => factOf(f, kb)),
      };
    }),
  );

  app.get(
    '/v1/kb/facts/:id',
    { preHandler: read },
    handle(async (request, reply) => {
      const id = FactIdParam.safeParse(idOf(request));
      if (!id.success) return invalid(reply, id.error, 'params');
      const fact = await store.getFact(id.data);
      if (!fact) throw new KbError('KB_NOT_FOUND', `no fact ${id.data}`);
      return factOf(fact, await store.snapshot());
    }),
  );

  app.get(
    '/v1/kb/facts/:id/history',
    { preHandler: read },
    handle(async (request, reply) => {
      const id = FactIdParam.safeParse(idOf(request));
      if (!id.success) return invalid(reply, id.error, 'params');
      const history = await store.history(id.data);
      if (!history.length) throw new KbError('KB_NOT_FOUND', `no fact ${id.data}`);
      const kb = await store.snapshot();
      return {
        factId: id.data,
        history: history.map((h) => ({
          version: h.version,
          change: h.change,
          changedBy: h.changedBy,
          changedAt: h.changedAt,
          editId: h.editId,
          revision: h.revision,
          fact: factOf(h.record as StoredFact, kb),
        })),
      };
    }),
  );

  app.post(
    '/v1/kb/normalise',
    { preHandler: read },
    handle(async (request, reply) => {
      const body = KbNormaliseRequest.safeParse(request.body);
      if (!body.success) return invalid(reply, body.error, 'body');
      const kb = await store.snapshot();
      return { version: kbVersion(kb), results: body.data.terms.map((t) => resolveTerm(kb, t, body.data.context)) };
    }),
  );

  app.post(
    '/v1/kb/checks',
    { preHandler: read },
    handle(async (request, reply) => {
      const body = SafetyCheckInput.safeParse(request.body);
      if (!body.success) return invalid(reply, body.error, 'body');
      const kb = await store.snapshot();
      return { version: kbVersion(kb), ...checkResult(kb, body.data) };
    }),
  );

  app.post(
    '/v1/kb/edits',
    { preHandler: propose },
    handle(async (request, reply) => {
      const body = EditProposal.safeParse(request.body);
      if (!body.success) return invalid(reply, body.error, 'body');
      const edit = await store.propose(body.data, request.principal!.name);
      request.log.info(
        { editId: edit.id, op: edit.operation.op, target: edit.targetId, by: request.principal!.name },
        'kb edit proposed',
      );
      return reply.status(201).header('location', `/v1/kb/edits/${edit.id}`).send(editView(edit));
    }),
  );

  app.get(
    '/v1/kb/edits',
    { preHandler: propose },
    handle(async (request, reply) => {
      const q = KbEditsQuery.safeParse(request.query);
      if (!q.success) return invalid(reply, q.error, 'query');
      const edits = await store.listEdits({ status: q.data.status, targetId: q.data.target, limit: q.data.limit });
      return { edits: edits.map(editView) };
    }),
  );

  app.get(
    '/v1/kb/edits/:id',
    { preHandler: propose },
    handle(async (request, reply) => {
      const id = EditIdParam.safeParse(idOf(request));
      if (!id.success) return invalid(reply, id.error, 'params');
      const edit = await store.getEdit(id.data);
      if (!edit) throw new KbError('KB_NOT_FOUND', `no edit ${id.data}`);
      return editView(edit);
    }),
  );

  for (const action of ['apply', 'reject'] as const) {
    app.post(
      `/v1/kb/edits/:id/${action}`,
      { preHandler: decide },
      handle(async (request, reply) => {
        const id = EditIdParam.safeParse(idOf(request));
        if (!id.success) return invalid(reply, id.error, 'params');
        const body = KbDecisionRequest.safeParse(request.body ?? {});
        if (!body.success) return invalid(reply, body.error, 'body');
        const by = request.principal!.name;
        // An account its author created cannot approve the author's edit (a second identity is not a second reviewer).
        const account = request.principal!.kind === 'staff' ? await deps.auth.accounts?.get(by) : null;
        const edit = await store.decide(id.data, {
          action,
          by,
          byCreatedBy: account?.createdBy ?? null,
          comment: body.data.comment,
        });
        request.log.info({ editId: edit.id, action, by: request.principal!.name }, 'kb edit decided');
        return editView(edit);
      }),
    );
  }
}
