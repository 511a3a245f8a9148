/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and
 * shape responses, so the document cannot drift from the code.
 */
import { z } from 'zod';
import { CaseSubmission, CaseView } from '../domain/case.js';
import { SafetyCheckInput } from '../tools/knowledge-base/schema.js';
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
import { KbFact } from '../tools/knowledge-base/schema.js';
import { LiteratureQuery, LiteratureResult } from '../tools/literature/schema.js';

const schema = (s: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
const ok = (description: string, name: string) => ({ description, content: { 'application/json': { schema: ref(name) } } });
const staff = [{ staffToken: [] }];
const anyToken = [{ serviceToken: [] }, { staffToken: [] }];

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDetails' } } },
});

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
        serviceToken: { type: 'http', scheme: 'bearer', description: 'A service token; only its SHA-256 is configured on the server.' },
        staffToken: { type: 'http', scheme: 'bearer', description: 'A staff API token with roles (reviewer, kb_editor, ops, admin); only its SHA-256 is configured.' },
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
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseSubmission' } } } },
          responses: {
            '202': { description: 'Accepted and enqueued', headers: { Location: { schema: { type: 'string' } } }, content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseView' } } } },
            '200': { description: 'Already submitted: current status, nothing enqueued', content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseView' } } } },
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
            '200': { description: 'The case', content: { 'application/json': { schema: { $ref: '#/components/schemas/CaseView' } } } },
            '400': problemResponse('Malformed case id'),
            '401': problemResponse('Missing or invalid service token'),
            '404': problemResponse('No such case for this service'),
          },
        },
      },
      '/v1/kb/version': {
        get: { summary: 'Knowledge-base revision and counts', tags: ['knowledge base'], security: anyToken, responses: { '200': { description: 'Revision, entity and fact counts, pending edits' }, '401': problemResponse('Missing or invalid token') } },
      },
      '/v1/kb/entities': {
        get: {
          summary: 'Search entities by any name (generic, brand, Chinese, lay, synonym)',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [
            { name: 'q', in: 'query', required: true, schema: { type: 'string', maxLength: 200 } },
            { name: 'type', in: 'query', schema: { type: 'string', enum: ['ingredient', 'product', 'drug_class', 'condition', 'lab_test', 'allergen_class'] } },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
          ],
          responses: { '200': ok('Matches: exact, then prefix, then substring', 'KbSearchResult'), '400': problemResponse('Invalid query'), '401': problemResponse('Missing or invalid token') },
        },
      },
      '/v1/kb/entities/{id}': {
        get: {
          summary: 'An entity with its active facts and the facts it inherits from its classes, each with provenance',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', example: 'drug:warfarin' } }],
          responses: { '200': ok('The entity', 'KbEntityView'), '400': problemResponse('Malformed entity id'), '401': problemResponse('Missing or invalid token'), '404': problemResponse('No such entity') },
        },
      },
      '/v1/kb/facts/{id}': {
        get: {
          summary: 'One fact (any status) with its statement and provenance',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', example: 'ix:class:anticoagulants~class:nsaids' } }],
          responses: { '200': ok('The fact', 'KbFact'), '401': problemResponse('Missing or invalid token'), '404': problemResponse('No such fact') },
        },
      },
      '/v1/kb/facts/{id}/history': {
        get: {
          summary: 'Every version of a fact: import, proposal, apply, retire, with who and when',
          tags: ['knowledge base'],
          security: anyToken,
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '200': ok('The history, oldest first', 'KbHistoryView'), '401': problemResponse('Missing or invalid token'), '404': problemResponse('No such fact') },
        },
      },
      '/v1/kb/normalise': {
        post: {
          summary: 'Map terms to canonical entities; unknown terms come back with no entity (never guessed)',
          tags: ['knowledge base'],
          security: anyToken,
          requestBody: jsonBody('KbNormaliseRequest'),
          responses: { '200': ok('One result per term', 'KbNormaliseResult'), '400': problemResponse('Invalid request'), '401': problemResponse('Missing or invalid token') },
        },
      },
      '/v1/kb/checks': {
        post: {
          summary: 'Run one safety check (interaction, allergy, contraindication, dose, duplicate therapy) over the active facts',
          tags: ['knowledge base'],
          security: anyToken,
          requestBody: jsonBody('SafetyCheckInput'),
          responses: { '200': ok('Findings with the facts they rest on; what could not be checked, and why', 'KbCheckResponse'), '400': problemResponse('Invalid request'), '401': problemResponse('Missing or invalid token') },
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
          responses: { '200': ok('Newest first', 'KbEditList'), '401': problemResponse('Missing or invalid token'), '403': problemResponse('Role not allowed') },
        },
        post: {
          summary: 'Propose an edit: add, change or retire a fact, or add an entity (reviewer, kb_editor)',
          description: 'Nothing changes until a second person applies the proposal. A reviewer correction from the review UI arrives here with origin.kind = case_review.',
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
          responses: { '200': ok('The edit', 'KbEditView'), '401': problemResponse('Missing or invalid token'), '403': problemResponse('Role not allowed'), '404': problemResponse('No such edit') },
        },
      },
      ...Object.fromEntries(
        (['apply', 'reject'] as const).map((action) => [
          `/v1/kb/edits/{id}/${action}`,
          {
            post: {
              summary: action === 'apply' ? 'Apply a proposal: a new fact version, a new knowledge-base revision (kb_editor; not the proposer)' : 'Reject a proposal (kb_editor; not the proposer)',
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
                '409': problemResponse('Already decided (KB_EDIT_CLOSED) or the fact changed since the proposal (KB_STALE_EDIT)'),
              },
            },
          },
        ]),
      ),
      '/v1/literature/search': {
        post: {
          summary: 'Search PubMed (or the local PubMed-compatible service) the way plan steps do (reviewer, kb_editor)',
          description: 'The intent and concepts become a tagged PubMed query with filters (humans, last N years, publication types); citations come back with PMID, title, journal, year, authors, publication types, MeSH and the matching snippet, guidelines, meta-analyses and RCTs first. Records are never invented: no match is an empty list.',
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
      '/readyz': { get: { summary: 'Readiness (checks Redis)', responses: { '200': { description: 'Ready' }, '503': { description: 'A dependency is down' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 document' } } } },
    },
  };
}
