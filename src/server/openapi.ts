/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and
 * shape responses, so the document cannot drift from the code.
 */
import { z } from 'zod';
import { CaseSubmission, CaseView } from '../domain/case.js';
import { ProblemDetails } from './problem.js';

const schema = (s: z.ZodType, io: 'input' | 'output') => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
};

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
      securitySchemes: { serviceToken: { type: 'http', scheme: 'bearer', description: 'A service token; only its SHA-256 is configured on the server.' } },
      schemas: {
        CaseSubmission: schema(CaseSubmission, 'input'),
        CaseView: schema(CaseView, 'output'),
        ProblemDetails: schema(ProblemDetails, 'output'),
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
      '/healthz': { get: { summary: 'Liveness', responses: { '200': { description: 'The process is up' } } } },
      '/readyz': { get: { summary: 'Readiness (checks Redis)', responses: { '200': { description: 'Ready' }, '503': { description: 'A dependency is down' } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1 document' } } } },
    },
  };
}
