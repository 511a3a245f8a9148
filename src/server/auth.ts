/**
 * Authentication and roles for every route.
 *
 * - Bearer tokens: service tokens (submit and read their own cases) and staff API tokens with
 *   roles. Only SHA-256 hashes are configured; a presented token is hashed once and compared in
 *   constant time with every configured hash.
 * - Sessions: staff accounts log in with a password (scrypt-hashed in the accounts store) and
 *   get an HttpOnly, SameSite=Strict session cookie. State-changing requests on a session must
 *   carry its CSRF token (header `x-csrf-token` or form field `_csrf`); bearer requests need
 *   none, as no browser sends them on its own.
 *
 * Roles: `service`, `reviewer`, `kb_editor`, `ops`, `admin` (admin may do everything staff may).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AccountStore } from '../auth/accounts.js';
import type { SecurityLog } from '../audit/security-log.js';
import { csrfMatches, type Session, type SessionStore } from '../auth/sessions.js';
import type { Actor } from '../domain/review.js';
import { problem, sendProblem } from './problem.js';

export interface ServiceToken {
  readonly name: string;
  readonly sha256: string;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The SHA-256 of the bearer token presented, or null when the header is not a well-formed bearer token. */
function presentedHash(authorization: string | undefined): Buffer | null {
  const match = /^Bearer ([A-Za-z0-9._~+/=-]{16,512})$/.exec(authorization ?? '');
  return match ? Buffer.from(hashToken(match[1]!), 'hex') : null;
}

function matchToken(presented: Buffer, tokens: readonly ServiceToken[]): string | null {
  let found: string | null = null;
  for (const token of tokens) {
    // Compare against every entry so timing does not reveal which one matched.
    if (timingSafeEqual(presented, Buffer.from(token.sha256, 'hex')) && found === null) found = token.name;
  }
  return found;
}

export type Role = 'service' | 'reviewer' | 'kb_editor' | 'ops' | 'admin';

export interface Principal {
  readonly name: string;
  readonly kind: 'service' | 'staff';
  readonly roles: readonly Role[];
  /** How the request authenticated. */
  readonly via: 'token' | 'session';
}

/** The principal as an audit actor: its name and how it authenticated. */
export function actorFor(principal: Principal): Required<Actor> {
  return {
    name: principal.name,
    type: principal.kind === 'service' ? 'service' : principal.via === 'session' ? 'staff_session' : 'staff_token',
  };
}

export interface StaffToken extends ServiceToken {
  readonly roles: readonly Role[];
}

export interface TokenRegistry {
  readonly serviceTokens: readonly ServiceToken[];
  readonly staffTokens: readonly StaffToken[];
}

export function identifyPrincipal(authorization: string | undefined, registry: TokenRegistry): Principal | null {
  const presented = presentedHash(authorization);
  if (!presented) return null;
  const service = matchToken(presented, registry.serviceTokens);
  const staffName = matchToken(presented, registry.staffTokens);
  if (service) return { name: service, kind: 'service', roles: ['service'], via: 'token' };
  if (staffName)
    return {
      name: staffName,
      kind: 'staff',
      roles: registry.staffTokens.find((t) => t.name === staffName)!.roles,
      via: 'token',
    };
  return null;
}

export const SESSION_COOKIE = 'co_session';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated principal, set by the auth pre-handlers. */
    principal?: Principal;
    /** The authenticated service (service-token routes). */
    service?: string;
    /** The session cookie value, when the request authenticated with a session. */
    sessionToken?: string;
    /** The session itself (its idle and absolute ends), when the request authenticated with one. */
    session?: Session;
  }
}

/**
 * Requests a page makes on its own (lease renewal, follow-up polling, the queue's refresh) and
 * that therefore do not count as the person's activity: header `x-co-background: 1`, or a GET
 * with `refresh=auto` (a page reload cannot set headers).
 */
export function isBackgroundRequest(request: FastifyRequest): boolean {
  if (request.headers['x-co-background'] === '1') return true;
  const query = request.query as Record<string, unknown> | undefined;
  return request.method === 'GET' && query?.refresh === 'auto';
}

export type AuthResult =
  | { principal: Principal; sessionToken: string | null; session: Session | null }
  | { failure: 'none' | 'invalid_token' | 'expired_session' };

/** Resolves who a request is from: a bearer token first, else a session cookie. */
export class Authenticator {
  /** A short cache of accounts, so a disabled account stops working within seconds without a query per request. */
  private readonly cache = new Map<string, { at: number; roles: Role[] | null }>();

  constructor(
    readonly registry: TokenRegistry,
    readonly sessions: SessionStore | null = null,
    readonly accounts: AccountStore | null = null,
    /** Where refused requests (403) are recorded; null: not recorded (servers without staff routes). */
    readonly security: SecurityLog | null = null,
  ) {}

  private async accountRoles(name: string): Promise<Role[] | null> {
    const hit = this.cache.get(name);
    if (hit && Date.now() - hit.at < 5000) return hit.roles;
    const account = await this.accounts!.get(name);
    const roles = account && !account.disabled ? account.roles : null;
    this.cache.set(name, { at: Date.now(), roles });
    return roles;
  }

  forget(name: string): void {
    this.cache.delete(name);
  }

  async authenticate(request: FastifyRequest): Promise<AuthResult> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const principal = identifyPrincipal(header, this.registry);
      return principal ? { principal, sessionToken: null, session: null } : { failure: 'invalid_token' };
    }
    const token = request.cookies?.[SESSION_COOKIE];
    if (!token || !this.sessions || !this.accounts) return { failure: 'none' };
    const session = await this.sessions.get(token, { activity: !isBackgroundRequest(request) });
    if (!session) return { failure: 'expired_session' };
    const roles = await this.accountRoles(session.account);
    if (!roles) return { failure: 'expired_session' };
    return {
      principal: { name: session.account, kind: 'staff', roles, via: 'session' },
      sessionToken: token,
      session,
    };
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Whether a request's Origin (or Referer) is this server. `whenAbsent` answers requests that
 * carry neither header (some clients send none; SameSite=Strict cookies still protect sessions).
 */
export function isSameOrigin(request: FastifyRequest, whenAbsent: boolean): boolean {
  const origin = request.headers.origin ?? request.headers.referer;
  if (!origin) return whenAbsent;
  try {
    return new URL(origin).host === new URL(`http://${request.headers.host ?? ''}`).host;
  } catch {
    return false;
  }
}

const explain = {
  none: 'send a valid token as "Authorization: Bearer <token>", or log in',
  invalid_token: 'the bearer token is not valid',
  expired_session: 'your session has ended (signed out, inactive too long, or past its lifetime); log in again',
} as const;

export interface RequireOptions {
  /** For browser pages: redirect to the login page instead of answering 401. */
  loginRedirect?: string;
  /**
   * How state changes on a session are protected from cross-site requests: the session's CSRF
   * token (default), or, for pages whose own requests cannot carry one (Bull Board), the
   * Origin/Referer matching this server (GETs without either header pass).
   */
  csrf?: 'token' | 'same-origin';
}

/** The CSRF token presented with a request: the `x-csrf-token` header or the `_csrf` form field. */
function presentedCsrf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const body = request.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' && typeof body._csrf === 'string' ? body._csrf : undefined;
}

/** Authenticate, then allow only principals holding one of `roles` (admin is allowed wherever staff are). */
export function requireRole(auth: Authenticator, roles: readonly Role[], options: RequireOptions = {}) {
  const staffRoute = roles.some((r) => r !== 'service');
  return async function (request: FastifyRequest, reply: FastifyReply) {
    const result = await auth.authenticate(request);
    if ('failure' in result) {
      if (options.loginRedirect && result.failure !== 'invalid_token')
        return reply.redirect(`${options.loginRedirect}?next=${encodeURIComponent(request.url)}`, 303);
      reply.header('www-authenticate', 'Bearer realm="clinical-orchestrator"');
      return sendProblem(
        reply,
        problem(
          401,
          result.failure === 'expired_session' ? 'SESSION_EXPIRED' : 'UNAUTHENTICATED',
          'Authentication required',
          explain[result.failure],
        ),
      );
    }
    const { principal, sessionToken, session } = result;
    const denied = (reason: 'roles' | 'csrf') =>
      auth.security?.append({
        event: 'access_denied',
        actor: principal.name,
        actorType: actorFor(principal).type,
        address: request.ip,
        detail: { method: request.method, route: request.routeOptions.url ?? null, reason },
      });
    if (!principal.roles.some((r) => (r === 'admin' && staffRoute) || roles.includes(r))) {
      await denied('roles');
      return sendProblem(
        reply,
        problem(403, 'FORBIDDEN', 'Forbidden', `this needs one of the roles: ${roles.join(', ')}`),
      );
    }
    if (sessionToken && options.csrf === 'same-origin' && !isSameOrigin(request, !UNSAFE.has(request.method))) {
      await denied('csrf');
      return sendProblem(reply, problem(403, 'CSRF_INVALID', 'Cross-origin request refused'));
    }
    if (
      sessionToken &&
      options.csrf !== 'same-origin' &&
      UNSAFE.has(request.method) &&
      !csrfMatches(sessionToken, presentedCsrf(request))
    ) {
      await denied('csrf');
      return sendProblem(
        reply,
        problem(403, 'CSRF_INVALID', 'Missing or invalid CSRF token', 'reload the page and try again'),
      );
    }
    request.principal = principal;
    request.sessionToken = sessionToken ?? undefined;
    request.session = session ?? undefined;
    if (principal.kind === 'service') request.service = principal.name;
  };
}

/** Service-token routes: only services (they act on their own cases). */
export function requireService(auth: Authenticator) {
  return requireRole(auth, ['service']);
}
