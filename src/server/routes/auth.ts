/**
 * Staff sign-in and accounts.
 *
 *   POST /v1/auth/login      name + password → session cookie and CSRF token (rate limited)
 *   POST /v1/auth/logout     end the session
 *   GET  /v1/auth/session    who is signed in, the CSRF token for state changes, and when the
 *                            session ends (counts as activity: the review UI's keep-alive)
 *   GET  /v1/admin/accounts, POST /v1/admin/accounts, PATCH /v1/admin/accounts/:name   (admin)
 *
 * Login failures all answer the same 401 whatever was wrong, after the same password-hash
 * work, so neither the message nor the timing tells which account names exist.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { STAFF_ROLES } from '../../config.js';
import { AccountError, AccountName, type Account, type AccountStore } from '../../auth/accounts.js';
import type { LoginLimiter } from '../../auth/login-limiter.js';
import type { SecurityLog } from '../../audit/security-log.js';
import { csrfTokenFor, type SessionStore } from '../../auth/sessions.js';
import { toFieldIssues } from '../../domain/validation.js';
import { actorFor, requireRole, SESSION_COOKIE, type Authenticator } from '../auth.js';
import { problem, problemFor, sendProblem } from '../problem.js';

export const LoginInput = z.object({
  name: z.string().trim().toLowerCase().min(1).max(64),
  password: z.string().min(1).max(1024),
  next: z.string().max(2000).optional(),
});
export const SessionView = z.object({
  account: z.string(),
  roles: z.array(z.enum(STAFF_ROLES)),
  csrfToken: z.string(),
  /** The session's absolute end. */
  expiresAt: z.string(),
  /** When it ends without further activity (this request counted as activity). */
  idleExpiresAt: z.string(),
  /** The inactivity allowed (`SESSION_IDLE_SECONDS`). */
  idleSeconds: z.number().int(),
});
export const AccountView = z.object({
  name: z.string(),
  roles: z.array(z.enum(STAFF_ROLES)),
  disabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Who created it (an admin, `cli` or `demo`); null for accounts older than this field. */
  createdBy: z.string().nullable(),
});
export const AccountCreate = z.strictObject({
  name: AccountName,
  password: z.string().min(1).max(1024),
  roles: z.array(z.enum(STAFF_ROLES)).min(1),
});
export const AccountPatch = z.strictObject({
  password: z.string().min(1).max(1024).optional(),
  roles: z.array(z.enum(STAFF_ROLES)).min(1).optional(),
  disabled: z.boolean().optional(),
});

export interface AuthRouteDeps {
  auth: Authenticator;
  accounts: AccountStore;
  sessions: SessionStore;
  cookieSecure: boolean;
  /** Attempts per name and client address within a window, shared by both sign-in routes. */
  limiter: LoginLimiter;
  /** Sign-ins, failures, sign-outs and account changes are recorded here. */
  security: SecurityLog;
}

export type LoginOutcome =
  | { account: Account; token: string; expiresAt: string; idleExpiresAt: string }
  | { failed: 'credentials' }
  | { failed: 'rate_limited'; retryAfterSeconds: number };

/** Shared by the JSON login and the review UI's form login. */
export async function login(
  deps: Pick<AuthRouteDeps, 'accounts' | 'sessions' | 'cookieSecure' | 'limiter' | 'security'>,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  password: string,
): Promise<LoginOutcome> {
  const entry = (event: 'sign_in' | 'sign_in_failed' | 'sign_in_rate_limited') => ({
    event,
    actor: name,
    ...(event === 'sign_in' ? { actorType: 'staff_session' as const } : {}),
    address: request.ip,
    detail: { via: request.url.startsWith('/review') ? 'review-ui' : 'api' },
  });
  const record = async (event: 'sign_in' | 'sign_in_failed') => void (await deps.security.append(entry(event)));
  // Counted before the password is checked, so parallel guesses are limited too.
  const limited = await deps.limiter.attempt(request.ip, name);
  if (limited) {
    // Refused guesses cost an attacker nothing: recorded once a minute per address and name, not each.
    await deps.security.appendThrottled(entry('sign_in_rate_limited'), `${request.ip}|${name}`, 60);
    return { failed: 'rate_limited', retryAfterSeconds: Math.ceil(limited.retryAfterMs / 1000) };
  }
  const account = await deps.accounts.verify(name, password);
  if (!account) {
    await record('sign_in_failed');
    return { failed: 'credentials' };
  }
  await deps.limiter.succeeded(request.ip, name);
  const { token, session } = await deps.sessions.create(account.name);
  await record('sign_in');
  // A session cookie (no Max-Age or Expires): it ends when the browser closes; the server ends it sooner.
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: deps.cookieSecure, path: '/' });
  return { account, token, expiresAt: session.expiresAt, idleExpiresAt: session.idleExpiresAt };
}

export async function logout(
  deps: Pick<AuthRouteDeps, 'sessions' | 'security'>,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  await deps.sessions.destroy(request.cookies[SESSION_COOKIE]);
  if (request.principal)
    await deps.security.append({
      event: 'sign_out',
      actor: request.principal.name,
      actorType: request.sessionToken ? 'staff_session' : 'staff_token',
      address: request.ip,
      detail: {},
    });
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}

function accountProblem(reply: FastifyReply, err: AccountError) {
  return sendProblem(reply, problemFor(err, 'Account request refused'));
}

export function registerAuthRoutes(app: FastifyInstance, deps: AuthRouteDeps): void {
  const staff = requireRole(deps.auth, ['reviewer', 'kb_editor', 'ops']);
  const admin = requireRole(deps.auth, ['admin']);

  app.post('/v1/auth/login', async (request, reply) => {
    const body = LoginInput.safeParse(request.body);
    if (!body.success)
      return sendProblem(
        reply,
        problem(
          400,
          'VALIDATION_FAILED',
          'Invalid sign-in request',
          body.error.issues[0]?.message,
          toFieldIssues(body.error),
        ),
      );
    const outcome = await login(deps, request, reply, body.data.name, body.data.password);
    if ('failed' in outcome) {
      request.log.info({ event: 'login_failed', reason: outcome.failed }, 'sign-in refused');
      if (outcome.failed === 'rate_limited') {
        reply.header('retry-after', String(outcome.retryAfterSeconds));
        return sendProblem(
          reply,
          problem(
            429,
            'LOGIN_RATE_LIMITED',
            'Too many sign-in attempts',
            `try again in ${outcome.retryAfterSeconds} s`,
          ),
        );
      }
      return sendProblem(
        reply,
        problem(401, 'LOGIN_FAILED', 'Sign-in failed', 'wrong account name or password, or the account is disabled'),
      );
    }
    request.log.info({ account: outcome.account.name, event: 'login' }, 'signed in');
    return {
      account: outcome.account.name,
      roles: outcome.account.roles,
      csrfToken: csrfTokenFor(outcome.token),
      expiresAt: outcome.expiresAt,
      idleExpiresAt: outcome.idleExpiresAt,
      idleSeconds: deps.sessions.idleSeconds,
    };
  });

  app.post('/v1/auth/logout', { preHandler: staff }, async (request, reply) => {
    await logout(deps, request, reply);
    return reply.status(204).send();
  });

  app.get('/v1/auth/session', { preHandler: staff }, async (request, reply) => {
    if (!request.sessionToken)
      return sendProblem(
        reply,
        problem(400, 'NOT_A_SESSION', 'Not a session', 'this request authenticated with a token, not a session'),
      );
    const session = request.session!;
    return {
      account: request.principal!.name,
      roles: request.principal!.roles,
      csrfToken: csrfTokenFor(request.sessionToken),
      expiresAt: session.expiresAt,
      idleExpiresAt: session.idleExpiresAt,
      idleSeconds: deps.sessions.idleSeconds,
    };
  });

  app.get('/v1/admin/accounts', { preHandler: admin }, async () => ({ accounts: await deps.accounts.list() }));

  app.post('/v1/admin/accounts', { preHandler: admin }, async (request, reply) => {
    const body = AccountCreate.safeParse(request.body);
    if (!body.success)
      return sendProblem(
        reply,
        problem(400, 'VALIDATION_FAILED', 'Invalid account', body.error.issues[0]?.message, toFieldIssues(body.error)),
      );
    try {
      const account = await deps.accounts.create(
        body.data.name,
        body.data.password,
        body.data.roles,
        request.principal!.name,
      );
      await deps.security.append({
        event: 'account_created',
        actor: request.principal!.name,
        actorType: actorFor(request.principal!).type,
        address: request.ip,
        detail: { account: account.name, roles: account.roles.join('+') },
      });
      request.log.info({ account: account.name, roles: account.roles, by: request.principal!.name }, 'account created');
      return reply.status(201).send(account);
    } catch (err) {
      if (err instanceof AccountError) return accountProblem(reply, err);
      throw err;
    }
  });

  app.patch<{ Params: { name: string } }>('/v1/admin/accounts/:name', { preHandler: admin }, async (request, reply) => {
    const body = AccountPatch.safeParse(request.body);
    if (!body.success)
      return sendProblem(
        reply,
        problem(
          400,
          'VALIDATION_FAILED',
          'Invalid account change',
          body.error.issues[0]?.message,
          toFieldIssues(body.error),
        ),
      );
    const name = request.params.name;
    try {
      let account = await deps.accounts.get(name);
      if (!account) throw new AccountError('ACCOUNT_NOT_FOUND', `no account ${name}`);
      if (body.data.roles) account = await deps.accounts.setRoles(name, body.data.roles);
      if (body.data.disabled !== undefined) account = await deps.accounts.setDisabled(name, body.data.disabled);
      if (body.data.password) account = await deps.accounts.setPassword(name, body.data.password);
      // A changed password, a disabled account or fewer roles take effect now, not at session expiry.
      if (body.data.password || body.data.disabled) await deps.sessions.destroyAll(name);
      deps.auth.forget(name);
      await deps.security.append({
        event: 'account_changed',
        actor: request.principal!.name,
        actorType: actorFor(request.principal!).type,
        address: request.ip,
        detail: {
          account: name,
          changed: Object.keys(body.data).sort().join('+'),
          ...(body.data.roles ? { roles: body.data.roles.join('+') } : {}),
          ...(body.data.disabled !== undefined ? { disabled: body.data.disabled } : {}),
        },
      });
      request.log.info(
        { account: name, by: request.principal!.name, changed: Object.keys(body.data) },
        'account changed',
      );
      return account;
    } catch (err) {
      if (err instanceof AccountError) return accountProblem(reply, err);
      throw err;
    }
  });
}
