/**
 * The review web UI at /review, served by the API server: sign-in, the queue, a case revision
 * with its decision forms. Pages are rendered on the server; forms post back here and redirect
 * (POST → 303 → GET), carrying the session's CSRF token. Pages are sent with a strict Content
 * Security Policy (no inline script, nothing from elsewhere) and are never cached.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { attachedSources } from '../attachments.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { csrfTokenFor } from '../../auth/sessions.js';
import { SECTION_NAMES, type PlanSections } from '../../domain/plan.js';
import { DecisionInput } from '../../domain/review.js';
import { toCaseView } from '../../cases/store.js';
import { ReviewError } from '../../queues/review-queue.js';
import { actorFor, isSameOrigin, requireRole } from '../auth.js';
import { casePage, caseUrl, loginPage, queuePage, type Flash, type PageUser } from '../review-ui/pages.js';
import { login, logout, LoginInput, type AuthRouteDeps } from './auth.js';
import { reviewDetail, ReviewItemParams, tokenDecisionRefusal, type ReviewRouteDeps } from './reviews.js';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const asset = (name: string) =>
  readFileSync(fileURLToPath(new URL(`../review-ui/client/${name}`, import.meta.url)), 'utf8');

export type ReviewUiDeps = ReviewRouteDeps &
  Pick<AuthRouteDeps, 'accounts' | 'sessions' | 'cookieSecure' | 'limiter' | 'security'> & { leaseMs: number };

/** A flash message travels in the redirect's query string (text only; it is escaped on render). */
const withFlash = (url: string, flash: Flash) => `${url}?${flash.kind}=${encodeURIComponent(flash.text.slice(0, 500))}`;
const flashOf = (request: FastifyRequest): Flash | null => {
  const q = request.query as Record<string, unknown>;
  if (typeof q.error === 'string') return { kind: 'error', text: q.error.slice(0, 500) };
  if (typeof q.info === 'string') return { kind: 'info', text: q.info.slice(0, 500) };
  return null;
};
/** Only local paths may follow a sign-in (no open redirect). */
const safeNext = (next: unknown) =>
  typeof next === 'string' &&
  /^\/(review|ops)(\/|$|\?)/.test(next) &&
  !next.startsWith('//') &&
  // No control characters (a CR/LF would split the Location header) and no backslashes.
  ![...next].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f' || c === '\\') &&
  next.length <= 2000
    ? next
    : '/review';

/** The edit form's fields (`text.<section>.<i>`, `remove.<section>.<i>`) applied to the drafted sections. */
/**
 * The edit form's sections: each statement's text as edited (or removed), with the PMIDs typed
 * or attached from the literature panel into its "cite" field added to its citations as
 * `pmid:<id>`; `attach` lists those PMIDs for the server to fetch. A cite field that is not a
 * list of PMIDs is kept as written, so the decision is refused with a clear message.
 */
export function editedSections(
  drafted: PlanSections,
  form: Record<string, unknown>,
): { sections: PlanSections; attach: string[] } {
  const sections = {} as PlanSections;
  const attach: string[] = [];
  for (const name of SECTION_NAMES) {
    sections[name] = drafted[name].flatMap((rec, i) => {
      if (form[`remove.${name}.${i}`] === '1') return [];
      const text = form[`text.${name}.${i}`];
      const edited = typeof text === 'string' ? text.replace(/\r\n/g, '\n').trim() : rec.text;
      const cite = form[`cite.${name}.${i}`];
      const added = (typeof cite === 'string' ? cite : '')
        .split(/[\s,;]+/)
        .map((s) => s.replace(/^pmid:/i, ''))
        .filter(Boolean);
      attach.push(...added);
      const citations = [...new Set([...rec.citations, ...added.map((id) => `pmid:${id}`)])];
      return edited ? [{ ...rec, text: edited, citations }] : [];
    });
  }
  return { sections, attach: [...new Set(attach)] };
}

export function registerReviewUi(app: FastifyInstance, deps: ReviewUiDeps): void {
  const page = requireRole(deps.auth, ['reviewer'], { loginRedirect: '/review/login' });
  const js = asset('review.js');
  const css = asset('review.css');
  const user = (request: FastifyRequest): PageUser => ({
    name: request.principal!.name,
    roles: request.principal!.roles,
    ...(request.session
      ? {
          idle: {
            remainingMs: Date.parse(request.session.idleExpiresAt) - Date.now(),
            seconds: deps.sessions.idleSeconds,
          },
        }
      : {}),
  });
  const csrf = (request: FastifyRequest) => (request.sessionToken ? csrfTokenFor(request.sessionToken) : '');
  const send = (reply: FastifyReply, body: { toString(): string }, status = 200) =>
    reply
      .status(status)
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'same-origin')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(body.toString());

  app.get('/review/static/review.js', (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(js),
  );
  app.get('/review/static/review.css', (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send(css),
  );

  app.get('/review/login', (request, reply) =>
    send(reply, loginPage(safeNext((request.query as { next?: unknown }).next), flashOf(request))),
  );

  app.post('/review/login', async (request, reply) => {
    const body = LoginInput.safeParse(request.body);
    const next = safeNext((request.body as { next?: unknown } | undefined)?.next);
    if (!isSameOrigin(request, true))
      return send(
        reply,
        loginPage(next, { kind: 'error', text: 'Sign-in refused: the form was not sent from this site.' }),
        403,
      );
    if (!body.success)
      return send(reply, loginPage(next, { kind: 'error', text: 'Enter your account name and password.' }), 400);
    const outcome = await login(deps, request, reply, body.data.name, body.data.password);
    if ('failed' in outcome) {
      request.log.info({ event: 'login_failed', reason: outcome.failed }, 'sign-in refused');
      if (outcome.failed === 'rate_limited')
        return send(
          reply.header('retry-after', String(outcome.retryAfterSeconds)),
          loginPage(next, {
            kind: 'error',
            text: `Too many sign-in attempts; try again in ${outcome.retryAfterSeconds} s.`,
          }),
          429,
        );
      return send(
        reply,
        loginPage(next, {
          kind: 'error',
          text: 'Sign-in failed: wrong account name or password, or the account is disabled.',
        }),
        401,
      );
    }
    request.log.info({ account: outcome.account.name, event: 'login' }, 'signed in');
    return reply.redirect(next, 303);
  });

  app.post('/review/logout', { preHandler: page }, async (request, reply) => {
    await logout(deps, request, reply);
    return reply.redirect(withFlash('/review/login', { kind: 'info', text: 'Signed out.' }), 303);
  });

  app.get('/review', { preHandler: page }, async (request, reply) =>
    send(reply, queuePage(user(request), csrf(request), await deps.queue.list(), flashOf(request))),
  );

  const refusal = (err: unknown): Flash => {
    if (err instanceof ReviewError) return { kind: 'error', text: err.message };
    throw err;
  };

  app.post('/review/claim-next', { preHandler: page }, async (request, reply) => {
    try {
      const claim = await deps.queue.claimNext(actorFor(request.principal!));
      if (!claim)
        return reply.redirect(withFlash('/review', { kind: 'info', text: 'Nothing is waiting for review.' }), 303);
      return reply.redirect(caseUrl(claim.caseId, claim.revision), 303);
    } catch (err) {
      return reply.redirect(withFlash('/review', refusal(err)), 303);
    }
  });

  app.get('/review/cases/:caseId/:revision', { preHandler: page }, async (request, reply) => {
    const p = ReviewItemParams.safeParse(request.params);
    if (!p.success)
      return reply.redirect(withFlash('/review', { kind: 'error', text: 'That is not a review item.' }), 303);
    const { caseId, revision } = p.data;
    const detail = await reviewDetail(deps, caseId, revision, request.principal!.name);
    if (!detail)
      return reply.redirect(
        withFlash('/review', { kind: 'error', text: `No review item for case ${caseId} revision ${revision}.` }),
        303,
      );
    await deps.audit.viewed(caseId, actorFor(request.principal!), 'review-ui:case', revision);
    const record = await deps.store.get(caseId);
    return send(
      reply,
      casePage({
        user: user(request),
        csrf: csrf(request),
        detail,
        caseView: record ? toCaseView(record) : null,
        audit: await deps.audit.list(caseId),
        flash: flashOf(request),
        leaseMs: deps.leaseMs,
      }),
    );
  });

  app.post('/review/cases/:caseId/:revision/claim', { preHandler: page }, async (request, reply) => {
    const parsed = ReviewItemParams.safeParse(request.params);
    if (!parsed.success)
      return reply.redirect(withFlash('/review', { kind: 'error', text: 'That is not a review item.' }), 303);
    const p = parsed.data;
    try {
      await deps.queue.claim(p.caseId, p.revision, actorFor(request.principal!));
      return reply.redirect(caseUrl(p.caseId, p.revision), 303);
    } catch (err) {
      return reply.redirect(withFlash(caseUrl(p.caseId, p.revision), refusal(err)), 303);
    }
  });

  app.post('/review/cases/:caseId/:revision/release', { preHandler: page }, async (request, reply) => {
    const parsed = ReviewItemParams.safeParse(request.params);
    if (!parsed.success)
      return reply.redirect(withFlash('/review', { kind: 'error', text: 'That is not a review item.' }), 303);
    const p = parsed.data;
    try {
      await deps.queue.release(p.caseId, p.revision, actorFor(request.principal!));
      return reply.redirect(
        withFlash('/review', { kind: 'info', text: `Released case ${p.caseId} revision ${p.revision} to the queue.` }),
        303,
      );
    } catch (err) {
      return reply.redirect(withFlash(caseUrl(p.caseId, p.revision), refusal(err)), 303);
    }
  });

  app.post('/review/cases/:caseId/:revision/decision', { preHandler: page }, async (request, reply) => {
    const parsed = ReviewItemParams.safeParse(request.params);
    if (!parsed.success)
      return reply.redirect(withFlash('/review', { kind: 'error', text: 'That is not a review item.' }), 303);
    const p = parsed.data;
    const form = (request.body ?? {}) as Record<string, unknown>;
    const here = caseUrl(p.caseId, p.revision);
    const tokenRefusal = tokenDecisionRefusal(request.principal!, deps.tokenDecisions);
    if (tokenRefusal)
      return reply.redirect(withFlash(here, { kind: 'error', text: `Not recorded: ${tokenRefusal}.` }), 303);
    let raw: unknown = { action: form.action };
    if (form.action === 'request_changes') raw = { action: 'request_changes', comments: form.comments };
    if (form.action === 'reject') raw = { action: 'reject', reason: form.reason };
    if (form.action === 'edit') {
      const item = await deps.queue.item(p.caseId, p.revision);
      if (!item)
        return reply.redirect(withFlash('/review', { kind: 'error', text: 'That review item no longer exists.' }), 303);
      const edited = editedSections(item.data.request.plan.sections, form);
      raw = { action: 'edit', sections: edited.sections, attach: edited.attach };
    }
    const input = DecisionInput.safeParse(raw);
    if (!input.success)
      return reply.redirect(
        withFlash(here, {
          kind: 'error',
          text: `The decision was not recorded: ${input.error.issues[0]?.message ?? 'invalid'}.`,
        }),
        303,
      );
    try {
      const sources =
        input.data.action === 'edit'
          ? await attachedSources(deps.literature, input.data.attach, input.data.sections)
          : [];
      const { record } = await deps.queue.decide(
        p.caseId,
        p.revision,
        actorFor(request.principal!),
        input.data,
        sources,
      );
      request.log.info(
        { caseId: p.caseId, revision: p.revision, action: record.decision.action, reviewer: record.decision.reviewer },
        'review decision recorded',
      );
      return reply.redirect(
        withFlash(here, { kind: 'info', text: `Decision recorded: ${record.decision.action.replace('_', ' ')}.` }),
        303,
      );
    } catch (err) {
      return reply.redirect(withFlash(here, refusal(err)), 303);
    }
  });
}
