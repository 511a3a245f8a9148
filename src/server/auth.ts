/**
 * Service-token authentication. Only SHA-256 hashes of tokens are configured; a presented
 * bearer token is hashed and compared in constant time with every configured hash.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
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

export function identifyService(authorization: string | undefined, tokens: readonly ServiceToken[]): string | null {
  const presented = presentedHash(authorization);
  return presented ? matchToken(presented, tokens) : null;
}

function matchToken(presented: Buffer, tokens: readonly ServiceToken[]): string | null {
  let found: string | null = null;
  for (const token of tokens) {
    // Compare against every entry so timing does not reveal which one matched.
    if (timingSafeEqual(presented, Buffer.from(token.sha256, 'hex')) && found === null) found = token.name;
  }
  return found;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated service, set by requireService. */
    service?: string;
  }
}

export function requireService(tokens: readonly ServiceToken[]) {
  return async function (request: FastifyRequest, reply: FastifyReply) {
    const service = identifyService(request.headers.authorization, tokens);
    if (!service) {
      reply.header('www-authenticate', 'Bearer realm="clinical-orchestrator"');
      return sendProblem(reply, problem(401, 'UNAUTHENTICATED', 'Authentication required', 'send a valid service token as "Authorization: Bearer <token>"'));
    }
    request.service = service;
  };
}

// ---------------------------------------------------------------------------------------------
// Principals with roles: services (their own cases) and staff (reviewers, knowledge-base
// editors, ops, admins). Staff authenticate with API tokens here; the review UI's accounts
// build on the same roles.

export type Role = 'service' | 'reviewer' | 'kb_editor' | 'ops' | 'admin';

export interface Principal {
  readonly name: string;
  readonly kind: 'service' | 'staff';
  readonly roles: readonly Role[];
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
  if (service) return { name: service, kind: 'service', roles: ['service'] };
  if (staffName) return { name: staffName, kind: 'staff', roles: registry.staffTokens.find((t) => t.name === staffName)!.roles };
  return null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated principal, set by requireRole. */
    principal?: Principal;
  }
}

/** Authenticate, then allow only principals holding one of `roles` (admin is always allowed). */
export function requireRole(registry: TokenRegistry, roles: readonly Role[]) {
  return async function (request: FastifyRequest, reply: FastifyReply) {
    const principal = identifyPrincipal(request.headers.authorization, registry);
    if (!principal) {
      reply.header('www-authenticate', 'Bearer realm="clinical-orchestrator"');
      return sendProblem(reply, problem(401, 'UNAUTHENTICATED', 'Authentication required', 'send a valid token as "Authorization: Bearer <token>"'));
    }
    if (!principal.roles.some((r) => r === 'admin' || roles.includes(r))) {
      return sendProblem(reply, problem(403, 'FORBIDDEN', 'Forbidden', `this needs one of the roles: ${roles.join(', ')}`));
    }
    request.principal = principal;
  };
}
