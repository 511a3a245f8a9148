/**
 * The hostile-input corpus (test/fixtures/hostile, ≥ 100 synthetic cases): malformed FHIR, wrong
 * types, huge strings, deep nesting, unicode tricks, prompt injections in notes, observations and
 * file names, review-bypass attempts, SSRF callback URLs and path traversal in file and DICOM
 * references. Each goes to the real intake API; each must get a clear error (status, stable code,
 * message, no case created) or reach review with the expected finding flagged, without failing or
 * crashing the worker. The accepted ones also run through the LLM path against a local
 * OpenAI-compatible server, and every prompt is checked: case text only inside the JSON data
 * block, never able to close it, never in the system message. Finally every log line and every
 * prompt is scanned for the corpus's patient identifiers.
 */
import { MemorySaver } from '@langchain/langgraph';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { llmDrafter } from '../../src/agents/llm-drafter.js';
import { llmPlanner } from '../../src/agents/llm-planner.js';
import { createChatModel } from '../../src/agents/models.js';
import { DRAFTER_SYSTEM, PLANNER_SYSTEM } from '../../src/agents/prompts.js';
import { loadConfig } from '../../src/config.js';
import type { ReviewRequest } from '../../src/domain/plan.js';
import { compileClinicalCaseGraph } from '../../src/graphs/clinical-case/graph.js';
import { parseSubmission } from '../../src/queues/producer.js';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/queues/connection.js';
import { bullPrefix, QUEUES } from '../../src/infra/redis-keys.js';
import { reviewJobId, type ReviewJobData } from '../../src/queues/review.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { deletePrefix, TEST_TOKEN, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { loadHostileCases, type HostileCase } from '../helpers/hostile.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';
import { startOpenAiFixture, type OpenAiFixture } from '../helpers/openai-fixture.js';
import { scanForPhi } from '../helpers/phi.js';
import { LogCapture, startApi, startWorker, type ApiStack, type WorkerStack } from '../helpers/stack.js';

const corpus = loadHostileCases();
const rejected = corpus.filter((c) => c.expect.outcome === 'rejected');
const flagged = corpus.filter((c) => c.expect.outcome === 'flagged');
const prefix = uniquePrefix();
// The corpus's oversized bodies (3 MB and more) were written against a 2 MB limit, a setting a
// deployment may choose; the 16 MB default is exercised by test/integration/synthea-http.test.ts.
const config = testConfig(prefix, { MAX_BODY_BYTES: String(2 * 1024 * 1024) });
const logs = new LogCapture();
let kb: TestKb;
let api: ApiStack;
let worker: WorkerStack;
let redis: Redis;
let reviewQueue: Queue<ReviewJobData>;
let fixture: OpenAiFixture;
const workerErrors: string[] = [];
const caseIdOf = (c: HostileCase): string | null => {
  try {
    const v = (JSON.parse(c.payload) as { caseId?: unknown } | null)?.caseId;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
};
const submit = (app: ApiStack['app'], c: HostileCase) =>
  app.inject({
    method: 'POST',
    url: '/v1/cases',
    headers: { authorization: `Bearer ${TEST_TOKEN}`, 'content-type': c.contentType },
    payload: c.payload,
  });

beforeAll(async () => {
  kb = await openTestKb('sqlite');
  api = await startApi(config, logs);
  worker = await startWorker(config, logs, {
    tools: { knowledgeBase: new LocalKnowledgeBaseClient(kb.store), literature: null, imaging: null },
  });
  worker.handle.worker.on('failed', (job, err) => workerErrors.push(`${job?.id}: ${err.message}`));
  worker.handle.worker.on('error', (err) => workerErrors.push(`worker error: ${err.message}`));
  redis = createRedis(config.redis.url!, 'test-hostile');
  reviewQueue = new Queue<ReviewJobData>(QUEUES.review, {
    connection: redis,
    prefix: bullPrefix(prefix, QUEUES.review),
  });
  fixture = await startOpenAiFixture((body) =>
    body.tools?.[0]?.function.name === 'propose_plan'
      ? {
          name: 'propose_plan',
          args: {
            steps: [
              { id: 'lookup', type: 'kb_lookup', purpose: 'Map the medications', terms: ['warfarin', 'ibuprofen'] },
            ],
          },
        }
      : {
          name: 'write_plan',
          args: {
            assessment: [{ id: 'a1', text: 'Medications reviewed.', citations: ['case:med-1'], medications: [] }],
            recommendations: [],
            medicationChanges: [],
            monitoring: [],
            patientCommunication: [],
          },
        },
  );
}, 120_000);

afterAll(async () => {
  await fixture?.close();
  await reviewQueue?.close();
  await worker?.close();
  await api?.close();
  await redis?.quit();
  await kb?.drop();
  await deletePrefix(prefix);
});

describe('hostile input corpus', () => {
  it(`has at least 100 cases across every category (${corpus.length})`, () => {
    expect(corpus.length).toBeGreaterThanOrEqual(100);
    expect(new Set(corpus.map((c) => c.category))).toEqual(
      new Set([
        'malformed-fhir',
        'huge',
        'nesting',
        'unicode',
        'prompt-injection',
        'review-bypass',
        'ssrf',
        'path-traversal',
      ]),
    );
  });

  describe.each(rejected.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    it(`is refused with a clear error: ${c.description}`, async () => {
      const res = await submit(api.app, c);
      const want = c.expect as Extract<HostileCase['expect'], { outcome: 'rejected' }>;
      expect(res.statusCode, res.body.slice(0, 500)).toBe(want.status);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      const body = res.json<{ code: string; title: string; detail?: string }>();
      if (want.code) expect(body.code).toBe(want.code);
      expect(body.code).toMatch(/^[A-Z_]+$/);
      expect(`${body.title} ${body.detail ?? ''}`.length).toBeGreaterThan(10);
      const caseId = caseIdOf(c);
      if (caseId && /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(caseId))
        expect(await api.producer.get(caseId)).toBeNull();
    });
  });

  describe('accepted cases', () => {
    const results = new Map<string, ReviewJobData>();
    beforeAll(async () => {
      for (const c of flagged) {
        const res = await submit(api.app, c);
        expect(res.statusCode, `${c.file}: ${res.body.slice(0, 300)}`).toBe(202);
      }
      await Promise.all(
        flagged.map(async (c) => {
          const caseId = caseIdOf(c)!;
          const r = await waitUntil(
            async () => {
              const rec = await api.producer.get(caseId);
              return rec && rec.status !== 'queued' && rec.status !== 'running' && rec.status !== 'accepted'
                ? rec
                : undefined;
            },
            90_000,
            `${caseId} to be drafted`,
          );
          expect(r.status, `${c.file}: ${JSON.stringify(r.error)}`).toBe('awaiting_review');
          results.set(
            c.file,
            (
              await waitUntil(
                async () => (await reviewQueue.getJob(reviewJobId(caseId, 1))) ?? undefined,
                10_000,
                `the review job of ${caseId}`,
              )
            ).data,
          );
        }),
      );
    }, 120_000);

    describe.each(flagged.map((c) => [c.file, c] as const))('%s', (_file, c) => {
      it(`reaches review (never approved by itself) with its finding flagged: ${c.description}`, () => {
        const data = results.get(c.file)!;
        const codes = data.request.findings.map((f) => f.code);
        for (const code of (c.expect as { findings: string[] }).findings)
          expect(codes, JSON.stringify(data.request.findings.map((f) => [f.code, f.message.slice(0, 100)]))).toContain(
            code,
          );
        expect(data.request.allowedActions).toContain('approve');
      });
    });

    it('no case failed and the worker never crashed', () => {
      expect(workerErrors.map((e) => e.slice(0, 300))).toEqual([]);
      expect(worker.handle.worker.isRunning()).toBe(true);
    });
  });

  it('with CALLBACK_HOST_ALLOWLIST set, listed private hosts are accepted and the rest still refused', async () => {
    const p = uniquePrefix();
    const allowing = await startApi(
      testConfig(p, {
        CALLBACK_HOST_ALLOWLIST: '10.0.0.5,metadata.google.internal',
        WEBHOOK_SECRETS: `ehr-gateway:${'s'.repeat(32)}`,
      }),
    );
    try {
      const byId = (id: string) => corpus.find((c) => c.id === id)!;
      expect((await submit(allowing.app, byId('private-10'))).statusCode).toBe(202);
      expect((await submit(allowing.app, byId('gcp-metadata'))).statusCode).toBe(202);
      expect((await submit(allowing.app, byId('aws-metadata'))).statusCode).toBe(400);
      expect((await submit(allowing.app, byId('private-192'))).statusCode).toBe(400);
    } finally {
      await allowing.close();
      await deletePrefix(p);
    }
  });

  it('on the LLM path, case text reaches the model only inside the JSON data block, never as an instruction', async () => {
    const llm = loadConfig({
      OPENAI_MODEL: 'fixture-model',
      OPENAI_BASE_URL: fixture.baseUrl,
      OPENAI_API_KEY: 'test-key',
      OPENAI_TIMEOUT_MS: '5000',
      OPENAI_MAX_RETRIES: '0',
    });
    if (llm.model.mode !== 'llm') throw new Error('expected LLM mode');
    const model = createChatModel(llm.model);
    const graph = compileClinicalCaseGraph(
      {
        tools: { knowledgeBase: new LocalKnowledgeBaseClient(kb.store), literature: null, imaging: null },
        planner: llmPlanner(model),
        drafter: llmDrafter(model, 'fixture-model'),
        maxRevisions: 2,
      },
      new MemorySaver(),
    );
    const before = fixture.requests.length;
    for (const c of flagged) {
      const submission = parseSubmission(JSON.parse(c.payload) as unknown, []);
      const out = await graph.invoke(
        { caseId: submission.caseId, submission, receivedAt: '2026-12-01T12:00:00.000Z', mode: 'llm' },
        { configurable: { thread_id: `llm-${submission.caseId}` } },
      );
      const request = (out as { __interrupt__?: Array<{ value: ReviewRequest }> }).__interrupt__![0]!.value;
      expect(request.plan.mode, c.file).toBe('llm');
    }
    const sent = fixture.requests.slice(before);
    expect(sent.length).toBe(flagged.length * 2);
    const BLOCK = /<(case_data|evidence_data|review_comments)>\n([\s\S]*?)\n<\/\1>/g;
    for (const req of sent) {
      const [system, ...rest] = req.messages;
      // The system message is the fixed prompt: no case text can reach it.
      expect([PLANNER_SYSTEM, DRAFTER_SYSTEM]).toContain(system!.content);
      expect(rest.map((m) => m.role)).toEqual(['user']);
      const user = rest[0]!.content ?? '';
      // Each block is one JSON document with no '<' in it, so the data can neither close the block nor open a fake one.
      const blocks = [...user.matchAll(BLOCK)];
      expect(blocks.length).toBeGreaterThan(0);
      for (const [, , inner] of blocks) {
        expect(inner).not.toContain('<');
        expect(() => JSON.parse(inner!) as unknown).not.toThrow();
      }
      expect(user.match(/<\/case_data>/g)).toHaveLength(1);
      // Outside the blocks only the fixed framing is left.
      const outside = user.replace(BLOCK, '').replace(/\s+/g, ' ').trim();
      expect(outside).toMatch(
        /^(Plan the work-up for this case\.|Draft revision \d+ of the plan\.)( Reviewer comments on earlier revisions:)?$/,
      );
    }
    // The hostile strings did go to the model, as data (the view keeps them, flagged): the check above is not vacuous.
    expect(sent.some((r) => JSON.stringify(r).includes('previous instructions'))).toBe(true);

    const identifiers = corpus.flatMap((c) => c.identifiers);
    const phi = scanForPhi(
      [
        ...sent.map((r, i) => ({ source: `model request ${i}`, text: JSON.stringify(r) })),
        ...logs.lines.map((text, i) => ({ source: `log line ${i}`, text })),
      ],
      identifiers,
    );
    process.stderr.write(
      `[hostile] ${corpus.length} cases (${rejected.length} refused, ${flagged.length} flagged); PHI scan of ${sent.length} model requests and ${logs.lines.length} log lines for ${new Set(identifiers).size} identifiers: ${phi.length} hits\n`,
    );
    expect(phi.slice(0, 5)).toEqual([]);
  }, 180_000);
});
