/**
 * POST /v1/cases and GET /v1/cases/:id against real Redis and BullMQ (fastify.inject).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES } from '../../src/infra/redis-keys.js';
import { minimalSubmission } from '../helpers/cases.js';
import { OTHER_TOKEN, TEST_TOKEN, deletePrefix, testConfig, uniquePrefix } from '../helpers/env.js';
import { startApi, type ApiStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
let api: ApiStack;
const auth = { authorization: `Bearer ${TEST_TOKEN}` };

const jobCount = () =>
  api.producer.queue.getJobCountByTypes('wait', 'prioritized', 'active', 'completed', 'failed', 'delayed');

beforeAll(async () => {
  // ehr-gateway has a webhook secret; other-service has none.
  api = await startApi(
    testConfig(prefix, {
      MAX_BODY_BYTES: '65536',
      WEBHOOK_SECRETS: 'ehr-gateway:intake-webhook-secret-0123456789abcdef',
    }),
  );
});
afterAll(async () => {
  await api.close();
  await deletePrefix(prefix);
});

describe('POST /v1/cases', () => {
  it('accepts a valid case with 202, a Location header and the case view', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth,
      payload: minimalSubmission('accept-1', { priority: 'stat' }),
    });
    expect(res.statusCode).toBe(202);
    expect(res.headers.location).toBe('/v1/cases/accept-1');
    const body = res.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      caseId: 'accept-1',
      status: 'queued',
      priority: 'stat',
      plan: null,
      mode: 'knowledge-driven',
    });
    const job = await api.producer.queue.getJob('case.accept-1');
    expect(job?.opts.priority).toBe(1);
    expect(job?.data.submittedBy).toBe('ehr-gateway');
  });

  it('refuses a callbackUrl from a service that has no webhook secret (a plan is never sent unsigned)', async () => {
    const payload = minimalSubmission('cb-unsigned-1', { callbackUrl: 'https://hooks.example.org/care-plans' });
    const refused = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: { authorization: `Bearer ${OTHER_TOKEN}` },
      payload,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json<{ errors: Array<{ pointer: string; code: string; message: string }> }>().errors).toEqual([
      expect.objectContaining({
        pointer: '/callbackUrl',
        code: 'callback_unsigned',
        message: expect.stringContaining('other-service:<secret> to WEBHOOK_SECRETS') as string,
      }),
    ]);
    expect(await api.producer.queue.getJob('case.cb-unsigned-1')).toBeUndefined();
    // The service with a secret may name the same callback.
    const accepted = await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload });
    expect(accepted.statusCode).toBe(202);
  });

  it('rejects invalid input with problem+json listing each problem, and enqueues nothing', async () => {
    const before = await jobCount();
    const payload = minimalSubmission('bad-1', { priority: 'sometime', question: '' });
    const res = await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json<{
      code: string;
      status: number;
      type: string;
      instance: string;
      errors: Array<{ pointer: string; code: string }>;
    }>();
    expect(body).toMatchObject({
      status: 400,
      code: 'CASE_INVALID',
      type: 'urn:clinical-orchestrator:problem:case-invalid',
      instance: '/v1/cases',
    });
    expect(body.errors.map((e) => [e.pointer, e.code])).toEqual([
      ['/question', 'too_small'],
      ['/priority', 'invalid_value'],
    ]);
    expect(await jobCount()).toBe(before);
    expect(await api.producer.get('bad-1')).toBeNull();
  });

  it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"caseId": "x",',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'MALFORMED_JSON' });
  });

  it('rejects prototype pollution attempts in JSON', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"caseId":"proto-1","__proto__":{"admin":true},"question":"abc","bundle":{}}',
    });
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
  });

  it('answers a non-JSON content type with 415', async () => {
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  });

  it('answers payloads over the size limit with 413 and enqueues nothing', async () => {
    const before = await jobCount();
    const payload = minimalSubmission('big-1', { notes: ['x'.repeat(70_000)] });
    const res = await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
    expect(await jobCount()).toBe(before);
  });

  it('requires a valid service token', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-token-wrong-token' },
      { authorization: `Basic ${TEST_TOKEN}` },
    ]) {
      const res = await api.app.inject({
        method: 'POST',
        url: '/v1/cases',
        headers,
        payload: minimalSubmission('auth-1'),
      });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(res.json()).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
    expect(await api.producer.get('auth-1')).toBeNull();
  });

  it('is idempotent: resubmitting the same case enqueues nothing new and returns its status', async () => {
    const payload = minimalSubmission('idem-1');
    const first = await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload });
    expect(first.statusCode).toBe(202);
    const job = await api.producer.queue.getJob('case.idem-1');
    const before = await jobCount();
    for (let i = 0; i < 3; i++) {
      const again = await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload });
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ caseId: 'idem-1', status: 'queued' });
    }
    expect(await jobCount()).toBe(before);
    expect((await api.producer.queue.getJob('case.idem-1'))?.timestamp).toBe(job?.timestamp);
  });

  it('handles concurrent duplicate submissions with exactly one job', async () => {
    const payload = minimalSubmission('race-1');
    const before = await jobCount();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload })),
    );
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    expect(await jobCount()).toBe(before + 1);
  });

  it('refuses to reuse a case id with a different payload (409) or by another service (409)', async () => {
    await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload: minimalSubmission('conflict-1') });
    const changed = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth,
      payload: minimalSubmission('conflict-1', { question: 'A different question entirely' }),
    });
    expect(changed.statusCode).toBe(409);
    expect(changed.json()).toMatchObject({ code: 'CASE_ID_CONFLICT' });
    const other = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: { authorization: `Bearer ${OTHER_TOKEN}` },
      payload: minimalSubmission('conflict-1'),
    });
    expect(other.statusCode).toBe(409);
  });

  it('re-enqueues a case whose earlier submission crashed between record and enqueue', async () => {
    // Simulate the crash: the record exists in `accepted` but the job was never added.
    const { parseSubmission } = await import('../../src/queues/producer.js');
    const { createHash } = await import('node:crypto');
    const submission = parseSubmission(minimalSubmission('crash-1'), []);
    await api.producer.store.create({
      caseId: 'crash-1',
      priority: 'routine',
      submittedBy: 'ehr-gateway',
      inputDigest: createHash('sha256').update(JSON.stringify(submission)).digest('hex'),
      mode: 'knowledge-driven',
      hasCallback: false,
      callbackUrl: null,
    });
    expect(await api.producer.queue.getJob('case.crash-1')).toBeUndefined();
    const res = await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth,
      payload: minimalSubmission('crash-1'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'queued' });
    expect(await api.producer.queue.getJob('case.crash-1')).toBeDefined();
  });

  it('never logs PHI from the submission', async () => {
    const payload = minimalSubmission('phi-1', {
      notes: ['Patient Ada Synthetic-Testperson lives at 99 Nowhere Street'],
    });
    await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload });
    await api.app.inject({
      method: 'POST',
      url: '/v1/cases',
      headers: auth,
      payload: { ...payload, question: 'Nowhere Street question changed' },
    });
    const logs = api.logs.text();
    expect(logs).toContain('phi-1');
    for (const secret of ['Synthetic-Testperson', '1950-05-05', 'Nowhere Street', TEST_TOKEN])
      expect(logs).not.toContain(secret);
  });
});

describe('GET /v1/cases/:id', () => {
  it('returns the status of an own case', async () => {
    await api.app.inject({ method: 'POST', url: '/v1/cases', headers: auth, payload: minimalSubmission('get-1') });
    const res = await api.app.inject({ method: 'GET', url: '/v1/cases/get-1', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      caseId: 'get-1',
      status: 'queued',
      currentStep: null,
      completedSteps: [],
      plan: null,
      error: null,
    });
  });

  it('hides other services’ cases as 404 and rejects malformed ids with 400', async () => {
    const other = await api.app.inject({
      method: 'GET',
      url: '/v1/cases/get-1',
      headers: { authorization: `Bearer ${OTHER_TOKEN}` },
    });
    expect(other.statusCode).toBe(404);
    expect(other.json()).toMatchObject({ code: 'CASE_NOT_FOUND' });
    const missing = await api.app.inject({ method: 'GET', url: '/v1/cases/no-such-case', headers: auth });
    expect(missing.statusCode).toBe(404);
    const bad = await api.app.inject({
      method: 'GET',
      url: `/v1/cases/${encodeURIComponent('a:b{c}')}`,
      headers: auth,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'CASE_ID_INVALID' });
  });
});

describe('health, readiness and the OpenAPI document', () => {
  it('reports liveness and readiness with Redis up', async () => {
    expect((await api.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', checks: { redis: { status: 'up' } } });
  });

  it('serves an OpenAPI 3.1 document generated from the zod schemas, and Swagger UI', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/cases', '/v1/cases/{id}', '/healthz', '/readyz']),
    );
    const submission = doc.components.schemas.CaseSubmission!;
    expect(Object.keys(submission.properties ?? {})).toEqual([
      'caseId',
      'question',
      'priority',
      'callbackUrl',
      'bundle',
      'language',
      'notes',
    ]);
    expect(submission.required).toEqual(expect.arrayContaining(['caseId', 'question', 'bundle']));
    const ui = await api.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('answers unknown routes with a problem document', async () => {
    const res = await api.app.inject({ method: 'GET', url: '/v2/nothing' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('uses the cases queue under a Cluster-safe per-queue hash tag', () => {
    expect(api.producer.queue.name).toBe(QUEUES.cases);
    expect(api.producer.queue.opts.prefix).toBe(`{${prefix}:cases}`);
  });
});
