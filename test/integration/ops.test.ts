/**
 * Operations endpoints: `/metrics` in the Prometheus text format (queue depths read from BullMQ
 * at scrape time; counters and histograms shared by every process through Redis, with
 * cumulative buckets), and Bull Board at /ops/queues behind the ops role, showing every queue,
 * read-only for the case and review queues, and refusing cross-origin session requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/server/auth.js';
import { deletePrefix, testConfig, uniquePrefix } from '../helpers/env.js';
import { addReviewJob, reviewJob } from '../helpers/review.js';
import { startApi, type ApiStack } from '../helpers/stack.js';

const OPS = 'ops-token-for-ops-tests-0123456789ab';
const REVIEWER = 'reviewer-token-for-ops-tests-012345';
const prefix = uniquePrefix();
let api: ApiStack;
const ops = { authorization: `Bearer ${OPS}` };

beforeAll(async () => {
  api = await startApi(
    testConfig(prefix, { STAFF_TOKENS: `ops-kim:${hashToken(OPS)}:ops,dr-lee:${hashToken(REVIEWER)}:reviewer` }),
    undefined,
    { review: true },
  );
});
afterAll(async () => {
  await api?.close();
  await deletePrefix(prefix);
});

describe('GET /metrics', () => {
  it('reports queue depths and the shared counters and histograms in Prometheus text format', async () => {
    const r = api.review!;
    await addReviewJob(r.queue, reviewJob('m-1'));
    await addReviewJob(r.queue, reviewJob('m-2'));
    await r.metrics.inc('co_review_decisions_total', { action: 'approve' });
    await r.metrics.inc('co_review_decisions_total', { action: 'approve' });
    await r.metrics.inc('co_tool_calls_total', { tool: 'knowledge-base', outcome: 'ok' });
    for (const s of [0.003, 0.02, 0.02, 7])
      await r.metrics.observe('co_tool_latency_seconds', s, { tool: 'knowledge-base' });
    const res = await api.app.inject({ method: 'GET', url: '/metrics', headers: ops });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    // Every line is a comment or a sample: name{labels} value.
    for (const line of text.trim().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[\w]+="[^"]*"(,[\w]+="[^"]*")*\})? -?[\d.e+]+)$/);
    expect(text).toMatch(/^# TYPE co_queue_jobs gauge$/m);
    for (const q of ['cases', 'review', 'delivery', 'dead-letter'])
      expect(text).toMatch(new RegExp(`^co_queue_jobs\\{queue="${q}",state="waiting"\\} \\d+$`, 'm'));
    expect(text).toMatch(/^co_queue_jobs\{queue="review",state="prioritized"\} 2$/m);
    expect(text).toMatch(/^co_review_decisions_total\{action="approve"\} 2$/m);
    expect(text).toMatch(/^co_tool_calls_total\{outcome="ok",tool="knowledge-base"\} 1$/m);
    expect(text).toMatch(/^co_tool_latency_seconds_bucket\{tool="knowledge-base",le="0.0025"\} 0$/m);
    expect(text).toMatch(/^co_tool_latency_seconds_bucket\{tool="knowledge-base",le="0.005"\} 1$/m);
    expect(text).toMatch(/^co_tool_latency_seconds_bucket\{tool="knowledge-base",le="0.025"\} 3$/m);
    expect(text).toMatch(/^co_tool_latency_seconds_bucket\{tool="knowledge-base",le="10"\} 4$/m);
    expect(text).toMatch(/^co_tool_latency_seconds_bucket\{tool="knowledge-base",le="\+Inf"\} 4$/m);
    expect(text).toMatch(/^co_tool_latency_seconds_count\{tool="knowledge-base"\} 4$/m);
    expect(Number(/^co_tool_latency_seconds_sum\{tool="knowledge-base"\} ([\d.]+)$/m.exec(text)![1])).toBeCloseTo(
      7.043,
      6,
    );
    for (const name of [
      'co_review_wait_seconds',
      'co_review_time_to_decision_seconds',
      'co_delivery_failures_total',
      'co_delivery_dead_letters_total',
    ])
      expect(text).toContain(`# TYPE ${name} `);
  });
});

describe('Bull Board at /ops/queues', () => {
  it('serves ops every queue; read-only where a change would break review leases', async () => {
    const page = await api.app.inject({ method: 'GET', url: '/ops/queues', headers: ops });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>');
    const queues = (await api.app.inject({ method: 'GET', url: '/ops/queues/api/queues', headers: ops })).json<{
      queues: Array<{ name: string; readOnlyMode: boolean }>;
    }>().queues;
    expect(queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([
      ['cases', true],
      ['dead-letter', false],
      ['delivery', false],
      ['review', true],
    ]);
    const pause = await api.app.inject({ method: 'PUT', url: '/ops/queues/api/queues/review/pause', headers: ops });
    expect(pause.statusCode).toBeGreaterThanOrEqual(400);
    expect(await api.review!.queue.queue.isPaused()).toBe(false);
  });

  it('sends anonymous browsers to sign in, refuses other roles and cross-origin session requests', async () => {
    const anon = await api.app.inject({ method: 'GET', url: '/ops/queues' });
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe('/review/login?next=%2Fops%2Fqueues');
    expect(
      (
        await api.app.inject({
          method: 'GET',
          url: '/ops/queues/api/queues',
          headers: { authorization: `Bearer ${REVIEWER}` },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await api.app.inject({
          method: 'GET',
          url: '/ops/queues/api/queues',
          headers: { authorization: 'Bearer not-a-real-token-0123456789' },
        })
      ).statusCode,
    ).toBe(401);
    await api.review!.accounts.create('ops-web', 'ops web long password', ['ops'], 'test-setup');
    const login = await api.app.inject({
      method: 'POST',
      url: '/v1/auth/login',
      payload: { name: 'ops-web', password: 'ops web long password' },
    });
    const cookie = /co_session=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
    const session = { cookie: `co_session=${cookie}`, host: 'ops.example.org' };
    expect((await api.app.inject({ method: 'GET', url: '/ops/queues/api/queues', headers: session })).statusCode).toBe(
      200,
    );
    const crossSite = await api.app.inject({
      method: 'PUT',
      url: '/ops/queues/api/queues/delivery/pause',
      headers: { ...session, origin: 'https://evil.example' },
    });
    expect(crossSite.statusCode).toBe(403);
    expect(await api.review!.deliveries.delivery.isPaused()).toBe(false);
    const sameSite = await api.app.inject({
      method: 'PUT',
      url: '/ops/queues/api/queues/delivery/pause',
      headers: { ...session, origin: 'https://ops.example.org' },
    });
    expect(sameSite.statusCode).toBe(200);
    expect(await api.review!.deliveries.delivery.isPaused()).toBe(true);
  });
});
