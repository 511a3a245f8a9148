/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and
 * shape responses, so the document cannot drift from the code.
 */
import { z } from 'zod';
import { CaseSubmission, CaseView } from '../domain/case.js';
import { SafetyCheckInput } from '../domain/knowledge.js';
import { ProblemDetails } from './problem.js';
import {
  KbCheckResponse,
  KbDecisionRequest,
  KbEditList,
  KbEditProposal,
  KbEditView,
  KbEntityView,
  KbHistoryView,
  KbNormaliseRequest,
  KbNormaliseResult,
  KbSearchResult,
} from './routes/knowledge-base.js';
import { KbFact } from '../domain/knowledge.js';
import { LiteratureQuery, LiteratureResult } from '../tools/literature/schema.js';
import { AuditEvent, ClaimView, DecisionInput, DeliveryPayload, ReviewList } from '../domain/review.js';
import { AccountCreate, AccountPatch, AccountView, LoginInput, SessionView } from './routes/auth.js';
import { DeadLetterList, SecurityEventList } from './routes/ops.js';
import { DecisionResponse, ReviewCase, ReviewDetail } from './routes/reviews.js';

const schema = (s: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const ok = (description: string, name: string) => ({
  description,
  content: { 'application/json': { schema: ref(name) } },
});
const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
});
const staff = [{ staffToken: [] }, { session: [] }];
const anyToken = [{ serviceToken: [] }, { staffToken: [] }, { session: [] }];
const caseParams = [
  { name: 'caseId', in: 'path', required: true, schema: { type: 'string' } },
  { name: 'revision', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
];
const staffErrors = {
  '401': problemResponse('Missing or invalid token, or the session expired (SESSION_EXPIRED)'),
  '403': problemResponse('Role not allowed, or a session request without its CSRF token (CSRF_INVALID)'),
};
const reviewErrors = {
  ...staffErrors,
  '404': problemResponse('No such review item (REVIEW_NOT_FOUND)'),
  '409': problemResponse(
    'ALREADY_CLAIMED (by someone else), NOT_CLAIMED, LEASE_EXPIRED (your claim lapsed; the item went back to the queue) or ALREADY_DECIDED',
  ),
};

export function buildOpenApiDocument(opts: { maxBodyBytes: number }) {
  return {
    openapi: '3.1.0',
    info: {
      title: 'clinical-orchestrator API',
      version: '0.1.0',
      description:
        'Submit clinical cases (a FHIR R4 Bundle plus a clinical question) for evidence-grounded care-plan drafting under mandatory human review. ' +
        'Errors are RFC 9457 problem details.',
    },
    components: {
      securitySchemes: {
        serviceToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'A service token; only its SHA-256 is configured on the server.',
        },
        staffToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A staff API token with roles (reviewer, kb_editor, ops, admin); only its SHA-256 is configured.',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'co_session',
          description:
            "A staff session from POST /v1/auth/login (HttpOnly, SameSite=Strict). State-changing requests also need the session's CSRF token in `x-csrf-token`.",
        },
      },
      schemas: {
        CaseSubmission: schema(CaseSubmission, 'input'),
        CaseView: schema(CaseView, 'output'),
        ProblemDetails: schema(ProblemDetails, 'output'),
        KbFact: schema(KbFact, 'output'),
        KbSearchResult: schema(KbSearchResult, 'output'),
        KbEntityView: schema(KbEntityView, 'output'),
        KbHistoryView: schema(KbHistoryView, 'output'),
        KbNormaliseRequest: schema(KbNormaliseRequest, 'input'),
        KbNormaliseResult: schema(KbNormaliseResult, 'output'),
        SafetyCheckInput: schema(SafetyCheckInput, 'input'),
        KbCheckResponse: schema(KbCheckResponse, 'output'),
        KbEditProposal: schema(KbEditProposal, 'input'),
        KbEditView: schema(KbEditView, 'output'),
        KbEditList: schema(KbEditList, 'output'),
        KbDecisionRequest: schema(KbDecisionRequest, 'input'),
        LiteratureQuery: schema(LiteratureQuery, 'input'),
        LiteratureResult: schema(LiteratureResult.extend({ source: LiteratureResult.shape.query }), 'output'),
        AuditEvent: schema(AuditEvent, 'output'),
        ReviewList: schema(ReviewList, 'output'),
        ClaimView: schema(ClaimView, 'output'),
        ReviewDetail: schema(ReviewDetail, 'output'),
        ReviewCase: schema(ReviewCase, 'output'),
        DecisionInput: schema(DecisionInput, 'input'),
        DecisionResponse: schema(DecisionResponse, 'output'),
        DeliveryPayload: schema(DeliveryPayload, 'output'),
        DeadLetterList: schema(DeadLetterList, 'output'),
        SecurityEventList: schema(SecurityEventList, 'output'),
        LoginInput: schema(LoginInput, 'input'),
        SessionView: schema(SessionView, 'output'),
        AccountView: schema(AccountView, 'output'),
        AccountCreate: schema(AccountCreate, 'input'),
        AccountPatch: schema(AccountPatch, 'input'),
      },
    },
    paths: {
      '/v1/cases': {
        post: {
          summary: 'Submit a case',
          description:
            'Validates the case and enqueues it once. `caseId` is the idempotency key: resubmitting the same case returns its current status (200) and enqueues nothing; ' +
            `reusing an id with a different payload is a 409. Bodies over ${opts.maxBodyBytes} bytes get 413.`,
          security: [{ serviceToken: [] }],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseSubmission' } } },
          },
          responses: {
            '202': {
              description: 'Accepted and enqueued',
              headers: { Location: { schema: { type: 'string' } } },
              content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseView' } } },
            },
            '200': {
              description: 'Already submitted: current status, nothing enqueued',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseView' } } },
            },
            '400': problemResponse('Invalid case: `errors` lists each problem with a JSON Pointer'),
            '401': problemResponse('Missing or invalid service token'),
            '409': problemResponse('The case id is in use with a different payload or by another service'),
            '413': problemResponse('Payload too large'),
            '415': problemResponse('Content-Type is not application/json'),
          },
        },
      },
      '/v1/cases/{id}': {
        get: {
          summary: 'Read a case: status, current step and, when reviewed, the plan',
          security: [{ serviceToken: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'The case',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseView' } } },
            },
            '400': problemResponse('Malformed case id'),
            '401': problemResponse('Missing or invalid service token'),
            '404': problemResponse('No such case for this service'),
          },
        },
      },
      '/v1/cases/{id}/audit': {
        get: {
          summary:
            'The append-only audit log of a case: every event with its actor and time (a service reads its own cases; reviewer and ops any)',
          security: anyToken,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': {
              description: 'Events, oldest first',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: { caseId: { type: 'string' }, events: { type: 'array', items: ref('AuditEvent') } },
                  },
                },
              },
            },
            '401': problemResponse('Missing or invalid token'),
            '403': problemResponse('Role not allowed'),
            '404': problemResponse('No such case (for this service)'),
          },
        },
      },
      '/v1/auth/login': {
        post: {
          summary: 'Staff sign-in: a session cookie and its CSRF token',
          description:
            'Rate limited per account name and client address, per account name and per address (LOGIN_RATE_MAX, LOGIN_RATE_MAX_PER_ACCOUNT, LOGIN_RATE_MAX_PER_ADDRESS per LOGIN_RATE_WINDOW_MS; 429 LOGIN_RATE_LIMITED), each attempt counted before its password is checked. Every failure is the same 401.',
          tags: ['auth'],
          requestBody: jsonBody('LoginInput'),
          responses: {
            '200': ok('Signed in (Set-Cookie: co_session)', 'SessionView'),
            '400': problemResponse('Malformed request'),
            '401': problemResponse('LOGIN_FAILED'),
            '429': problemResponse('LOGIN_RATE_LIMITED'),
          },
        },
      },
      '/v1/auth/logout': {
        post: {
          summary: 'End the session',
          tags: ['auth'],
          security: staff,
          responses: { '204': { description: 'Signed out' }, ...staffErrors },
        },
      },
      '/v1/auth/session': {
        get: {
          summary: 'The signed-in account and the CSRF token',
          tags: ['auth'],
          security: [{ session: [] }],
          responses: { '200': ok('The session', 'SessionView'), ...staffErrors },
        },
      },
      '/v1/admin/accounts': {
        get: {
          summary: 'Staff accounts (admin)',
          tags: ['auth'],
          security: staff,
          responses: {
            '200': {
              description: 'Accounts',
              content: {
                'application/json': {
                  schema: { type: 'object', properties: { accounts: { type: 'array', items: ref('AccountView') } } },
                },
              },
            },
            ...staffErrors,
          },
        },
        post: {
          summary: 'Create a staff account (admin); the password is stored scrypt-hashed',
          tags: ['auth'],
          security: staff,
          requestBody: jsonBody('AccountCreate'),
          responses: {
            '201': ok('Created', 'AccountView'),
            '400': problemResponse('Invalid name, roles or password (12+ characters)'),
            ...staffErrors,
            '409': problemResponse('ACCOUNT_EXISTS'),
          },
        },
      },
      '/v1/admin/accounts/{name}': {
        patch: {
          summary:
            "Change an account's roles, password or disabled flag (admin); a new password or disabling ends its sessions",
          tags: ['auth'],
          security: staff,
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: jsonBody('AccountPatch'),
          responses: {
            '200': ok('Changed', 'AccountView'),
            '400': problemResponse('Invalid change'),
            ...staffErrors,
            '404': problemResponse('ACCOUNT_NOT_FOUND'),
          },
        },
      },
      '/v1/reviews': {
        get: {
          summary: 'The review queue: waiting and claimed items, by case priority, severity, then age (reviewer)',
          tags: ['review'],
          security: staff,
          responses: { '200': ok('The queue', 'ReviewList'), ...staffErrors },
        },
      },
      '/v1/reviews/claim': {
        post: {
          summary: 'Claim the next item: a lease of REVIEW_LEASE_MS, renewed with …/lease (reviewer)',
          tags: ['review'],
          security: staff,
          responses: {
            '200': ok('Your claim', 'ClaimView'),
            '204': { description: 'Nothing is waiting' },
            ...staffErrors,
            '503': problemResponse('REVIEW_BUSY: try again'),
          },
        },
      },
      '/v1/reviews/{caseId}': {
        get: {
          summary: 'A case as reviewers see it: status and delivery, every decision, the audit trail (reviewer)',
          tags: ['review'],
          security: staff,
          parameters: [{ name: 'caseId', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': ok('The case', 'ReviewCase'), ...staffErrors, '404': problemResponse('No such case') },
        },
      },
      '/v1/reviews/{caseId}/revisions/{revision}': {
        get: {
          summary:
            'One revision: the PHI-minimised case, the plan with its evidence, verification findings, the diff to the previous revision and the comments that led to it, your claim, the decision (reviewer)',
          tags: ['review'],
          security: staff,
          parameters: caseParams,
          responses: {
            '200': ok('The revision', 'ReviewDetail'),
            ...staffErrors,
            '404': problemResponse('REVIEW_NOT_FOUND'),
          },
        },
      },
      '/v1/reviews/{caseId}/revisions/{revision}/claim': {
        post: {
          summary: 'Claim this item (yours again if you hold it)',
          tags: ['review'],
          security: staff,
          parameters: caseParams,
          responses: { '200': ok('Your claim', 'ClaimView'), ...reviewErrors },
        },
      },
      '/v1/reviews/{caseId}/revisions/{revision}/lease': {
        post: {
          summary: 'Renew your lease',
          tags: ['review'],
          security: staff,
          parameters: caseParams,
          responses: { '200': ok('The renewed claim', 'ClaimView'), ...reviewErrors },
        },
      },
      '/v1/reviews/{caseId}/revisions/{revision}/release': {
        post: {
          summary: 'Give the item back to the queue',
          tags: ['review'],
          security: staff,
          parameters: caseParams,
          responses: { '204': { description: 'Released' }, ...reviewErrors },
        },
      },
      '/v1/reviews/{caseId}/revisions/{revision}/decision': {
        post: {
          summary:
            'Decide: approve, edit (edit-and-approve, the diff is stored), request changes (the plan is revised) or reject (reviewer; needs a live lease)',
          description:
            'Recorded with your identity and time, then handed to the case workers once (job resume.<case>.r<revision>); the graph applies it exactly once.',
          tags: ['review'],
          security: staff,
          parameters: caseParams,
          requestBody: jsonBody('DecisionInput'),
          responses: {
            '201': ok('Recorded', 'DecisionResponse'),
            '200': ok('Already recorded (returned as stored)', 'DecisionResponse'),
            '400': problemResponse('DECISION_INVALID'),
            ...reviewErrors,
            '403': problemResponse(
              'Role not allowed, a session request without its CSRF token, or a staff API token where only signed-in people may decide (DECISION_NEEDS_SESSION, STAFF_TOKEN_DECISIONS off: the production default)',
            ),
          },
        },
      },
      '/v1/ops/security-events': {
        get: {
          summary:
            'The security log (ops): sign-ins, failed and rate-limited sign-ins, sign-outs, account changes and refused requests, hash-chained, oldest first',
          tags: ['ops'],
          security: staff,
          parameters: [
            {
              name: 'after',
              in: 'query',
              required: false,
              description: 'Continue after this entry id (the previous page’s `next`)',
              schema: { type: 'string', pattern: '^\\d{1,20}-\\d{1,20}$' },
            },
            {
              name: 'limit',
              in: 'query',
              required: false,
              description: 'Entries per page (1–1000, default 200)',
              schema: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
            },
          ],
          responses: {
            '200': ok('A page of security events', 'SecurityEventList'),
            '400': problemResponse('VALIDATION_FAILED'),
            ...staffErrors,
          },
        },
      },
      '/v1/ops/dead-letters': {
        get: {
          summary: 'Deliveries that failed for good (ops)',
          tags: ['ops'],
          security: staff,
          responses: { '200': ok('Dead letters', 'DeadLetterList'), ...staffErrors },
        },
      },
      '/v1/ops/dead-letters/{caseId}/revisions/{revision}/retry': {
        post: {
          summary: 'Send a dead-lettered delivery again, with all its attempts (ops)',
          tags: ['ops'],
          security: staff,
          parameters: caseParams,
          responses: {
            '202': { description: 'Re-enqueued' },
            ...staffErrors,
            '404': problemResponse('DEAD_LETTER_NOT_FOUND'),
          },
        },
      },
      '/metrics': {
        get: {
          summary:
            'Prometheus metrics (ops): queue depths, review wait and time to decision, decisions by action, tool calls and latency, deliveries and failures',
          tags: ['ops'],
          security: staff,
          responses: {
            '200': {
              description: 'Prometheus text format 0.0.4',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...staffErrors,
          },
        },
      },
      '/v1/kb/version': {
        get: {
          summary: 'Knowledge-base revision and counts',
          tags: ['knowledge base'],
          security: anyToken,
          responses: {
            '200': { description: 'Revision, entity and fact counts, pending edits' },
            '401': problemResponse('Missing or invalid token'),
          },
        },
      },
      '/v1/kb/entities': {
        get: {
          summary: 'Search entities by any name (generic, brand, Chinese, lay, synonym)',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [
            { name: 'q', in: 'query', required: true, schema: { type: 'string', maxLength: 200 } },
            {
              name: 'type',
              in: 'query',
              schema: {
                type: 'string',
                enum: ['ingredient', 'product', 'drug_class', 'condition', 'lab_test', 'allergen_class'],
              },
            },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          ],
          responses: {
            '200': ok('Matches: exact, then prefix, then substring', 'KbSearchResult'),
            '400': problemResponse('Invalid query'),
            '401': problemResponse('Missing or invalid token'),
          },
        },
      },
      '/v1/kb/entities/{id}': {
        get: {
          summary: 'An entity with its active facts and the facts it inherits from its classes, each with provenance',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string', example: 'drug:warfarin' } },
          ],
          responses: {
            '200': ok('The entity', 'KbEntityView'),
            '400': problemResponse('Malformed entity id'),
            '401': problemResponse('Missing or invalid token'),
            '404': problemResponse('No such entity'),
          },
        },
      },
      '/v1/kb/facts/{id}': {
        get: {
          summary: 'One fact (any status) with its statement and provenance',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [
            {
              name: 'id',
              in: 'path',
              required: true,
              schema: { type: 'string', example: 'ix:class:anticoagulants~class:nsaids' },
            },
          ],
          responses: {
            '200': ok('The fact', 'KbFact'),
            '401': problemResponse('Missing or invalid token'),
            '404': problemResponse('No such fact'),
          },
        },
      },
      '/v1/kb/facts/{id}/history': {
        get: {
          summary: 'Every version of a fact: import, proposal, apply, retire, with who and when',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': ok('The history, oldest first', 'KbHistoryView'),
            '401': problemResponse('Missing or invalid token'),
            '404': problemResponse('No such fact'),
          },
        },
      },
      '/v1/kb/normalise': {
        post: {
          summary: 'Map terms to canonical entities; unknown terms come back with no entity (never guessed)',
          tags: ['knowledge base'],
          security: anyToken,
          requestBody: jsonBody('KbNormaliseRequest'),
          responses: {
            '200': ok('One result per term', 'KbNormaliseResult'),
            '400': problemResponse('Invalid request'),
            '401': problemResponse('Missing or invalid token'),
          },
        },
      },
      '/v1/kb/checks': {
        post: {
          summary:
            'Run one safety check (interaction, allergy, contraindication, dose, duplicate therapy) over the active facts',
          tags: ['knowledge base'],
          security: anyToken,
          requestBody: jsonBody('SafetyCheckInput'),
          responses: {
            '200': ok('Findings with the facts they rest on; what could not be checked, and why', 'KbCheckResponse'),
            '400': problemResponse('Invalid request'),
            '401': problemResponse('Missing or invalid token'),
          },
        },
      },
      '/v1/kb/edits': {
        get: {
          summary: 'List edit proposals (reviewer, kb_editor)',
          tags: ['knowledge base'],
          security: staff,
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: ['proposed', 'applied', 'rejected'] } },
            { name: 'target', in: 'query', schema: { type: 'string' } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
          ],
          responses: {
            '200': ok('Newest first', 'KbEditList'),
            '401': problemResponse('Missing or invalid token'),
            '403': problemResponse('Role not allowed'),
          },
        },
        post: {
          summary: 'Propose an edit: add, change or retire a fact, or add an entity (reviewer, kb_editor)',
          description:
            'Nothing changes until a second person applies the proposal. A reviewer correction from the review UI arrives here with origin.kind = case_review.',
          tags: ['knowledge base'],
          security: staff,
          requestBody: jsonBody('KbEditProposal'),
          responses: {
            '201': { ...ok('Proposed', 'KbEditView'), headers: { Location: { schema: { type: 'string' } } } },
            '400': problemResponse('Invalid proposal: `errors` points into the request'),
            '401': problemResponse('Missing or invalid token'),
            '403': problemResponse('Role not allowed'),
            '404': problemResponse('The fact or an entity it names does not exist'),
            '409': problemResponse('The fact already exists or is not active'),
          },
        },
      },
      '/v1/kb/edits/{id}': {
        get: {
          summary: 'One edit proposal',
          tags: ['knowledge base'],
          security: staff,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            '200': ok('The edit', 'KbEditView'),
            '401': problemResponse('Missing or invalid token'),
            '403': problemResponse('Role not allowed'),
            '404': problemResponse('No such edit'),
          },
        },
      },
      ...Object.fromEntries(
        (['apply', 'reject'] as const).map((action) => [
          `/v1/kb/edits/{id}/${action}`,
          {
            post: {
              summary:
                action === 'apply'
                  ? 'Apply a proposal: a new fact version, a new knowledge-base revision (kb_editor; not the proposer)'
                  : 'Reject a proposal (kb_editor; not the proposer)',
              tags: ['knowledge base'],
              security: staff,
              parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
              requestBody: { required: false, content: { 'application/json': { schema: ref('KbDecisionRequest') } } },
              responses: {
                '200': ok('Decided', 'KbEditView'),
                '400': problemResponse('Malformed id or body'),
                '401': problemResponse('Missing or invalid token'),
                '403': problemResponse('Role not allowed, or the decider proposed the edit (KB_SELF_REVIEW)'),
                '404': problemResponse('No such edit'),
                '409': problemResponse(
                  'Already decided (KB_EDIT_CLOSED) or the fact changed since the proposal (KB_STALE_EDIT)',
                ),
              },
            },
          },
        ]),
      ),
      '/v1/literature/search': {
        post: {
          summary: 'Search PubMed (or the local PubMed-compatible service) the way plan steps do (reviewer, kb_editor)',
          description:
            'The intent and concepts become a tagged PubMed query with filters (humans, last N years, publication types); citations come back with PMID, title, journal, year, authors, publication types, MeSH and the matching snippet, guidelines, meta-analyses and RCTs first. Records are never invented: no match is an empty list.',
          tags: ['literature'],
          security: staff,
          requestBody: jsonBody('LiteratureQuery'),
          responses: {
            '200': ok('The query sent and the citations', 'LiteratureResult'),
            '400': problemResponse('Invalid request'),
            '401': problemResponse('Missing or invalid token'),
            '403': problemResponse('Role not allowed'),
            '502': problemResponse('The E-utilities answer was malformed'),
            '503': problemResponse('Not configured (LITERATURE_NOT_CONFIGURED) or unreachable'),
          },
        },
      },
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'The process is up' } } } },
      '/readyz': {
        get: {
          summary: 'Readiness (checks Redis)',
          responses: { '200': { description: 'Ready' }, '503': { description: 'A dependency is down' } },
        },
      },
      '/openapi.json': {
        get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 document' } } },
      },
    },
  };
}
