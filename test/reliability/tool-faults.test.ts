/**
 * Tool faults. The real literature service (E-utilities, synthetic corpus) and the real imaging
 * service (KServe v2, the committed model) each sit behind a fault-injecting proxy; the knowledge
 * base (a real SQLite store) is wrapped with the same faults. Cases go through the real queue and
 * an in-process cases worker while one tool at a time becomes slow, answers 500, answers garbage
 * or goes down. Asserted: every case still reaches review, the faulty tool's steps are listed as
 * unavailable with the right code and said NOT CHECKED in the plan, the other tools' steps are
 * fine; the literature and imaging circuit breakers open and close again; no unhandled
 * rejection; the heap does not grow over repeated fault rounds; and no identifier of an input
 * bundle reaches a tool request or a log line.
 */
import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queues/connection.js';
import { bullPrefix, QUEUES } from '../../src/infra/redis-keys.js';
import { reviewJobId, type ReviewJobData } from '../../src/queues/review.js';
import { KServeImagingClient } from '../../src/tools/imaging/client.js';
import { LocalKnowledgeBaseClient } from '../../src/tools/knowledge-base/client.js';
import { EutilsClient } from '../../src/tools/literature/eutils-client.js';
import { LiteratureIndex } from '../../services/literature/search-index.js';
import { buildLiteratureService } from '../../services/literature/server.js';
import { loadExampleCases, type ExampleCase } from '../helpers/cases.js';
import { deletePrefix, testConfig, uniquePrefix, waitUntil } from '../helpers/env.js';
import { faultyKnowledgeBase, startFaultProxy, type FaultMode, type FaultProxy } from '../helpers/fault-proxy.js';
import {
  makePng,
  MODEL_DIR,
  sampleImage,
  startImagingService,
  stopImagingService,
  type RunningService,
} from '../helpers/imaging.js';
import { openTestKb, type TestKb } from '../helpers/kb.js';
import { scanForPhi } from '../helpers/phi.js';
import { withSyntheticIdentity } from '../helpers/pipeline.js';
import { ROOT } from '../helpers/processes.js';
import { LogCapture, startApi, startWorker, type ApiStack, type WorkerStack } from '../helpers/stack.js';

const prefix = uniquePrefix();
const config = testConfig(prefix, { WORKER_CONCURRENCY: '6' });
const dir = path.join(ROOT, '.data', `test-faults-${randomBytes(4).toString('hex')}`);
const BREAKER = { failures: 3, halfOpenAfterMs: 1500 };
const logs = new LogCapture();
let kb: TestKb;
let literatureService: ReturnType<typeof buildLiteratureService>;
let imagingService: RunningService;
let litProxy: FaultProxy;
let imgProxy: FaultProxy;
const kbFault = { mode: 'pass' as FaultMode, slowMs: 3000, calls: 0 };
let literature: EutilsClient;
let imaging: KServeImagingClient;
let api: ApiStack;
let worker: WorkerStack;
let redis: Redis;
let reviewQueue: Queue<ReviewJobData>;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
const identifiers: string[] = [];

/** The pneumonia example with its radiograph attached inline (so imaging runs), under a new synthetic identity. */
const template: ExampleCase = (() => {
  const base = loadExampleCases().find((e) => e.file === 'pneumonia-penicillin-allergy.json')!;
  const copy = structuredClone(base);
  copy.submission.bundle.entry = copy.submission.bundle.entry.filter((e) => e.resource.resourceType !== 'ImagingStudy');
  copy.submission.bundle.entry.push({
    resource: {
      resourceType: 'DocumentReference',
      id: 'd-img',
      status: 'current',
      description: 'Chest radiograph (synthetic test image)',
      content: [
        {
          attachment: {
            contentType: 'image/png',
            data: Buffer.from(makePng(28, 28, sampleImage(3).pixels)).toString('base64'),
          },
        },
      ],
    },
  });
  return copy;
})();

let counter = 0;
async function runCases(n: number, label: string): Promise<ReviewJobData[]> {
  const ids = await Promise.all(
    Array.from({ length: n }, async () => {
      const caseId = `fault-${label}-${counter++}`;
      const { submission, identifiers: ids } = withSyntheticIdentity(template, caseId, 'https://ehr.example.org/hook');
      delete (submission as { callbackUrl?: string }).callbackUrl;
      identifiers.push(...ids);
      const res = await api.app.inject({
        method: 'POST',
        url: '/v1/cases',
        headers: { authorization: 'Bearer test-service-token-0123456789abcdef' },
        payload: submission,
      });
      expect(res.statusCode, res.body).toBe(202);
      return caseId;
    }),
  );
  return Promise.all(
    ids.map(async (caseId) => {
      const record = await waitUntil(
        async () => {
          const r = await api.producer.get(caseId);
          return r && ['awaiting_review', 'failed'].includes(r.status) ? r : undefined;
        },
        60_000,
        `${caseId} to reach review`,
      );
      expect(record.status, JSON.stringify(record.error)).toBe('awaiting_review');
      // The record says awaiting_review a moment before the review job is added.
      const job = await waitUntil(
        async () => (await reviewQueue.getJob(reviewJobId(caseId, 1))) ?? undefined,
        10_000,
        `the review job of ${caseId}`,
      );
      return job.data;
    }),
  );
}

const TYPES = {
  literature: ['literature_search'],
  imaging: ['imaging_analysis'],
  kb: [
    'kb_lookup',
    'interaction_check',
    'allergy_check',
    'dose_check',
    'contraindication_check',
    'duplicate_therapy_check',
  ],
} as const;
type Tool = keyof typeof TYPES;
const EXPECTED: Record<Tool, Record<Exclude<FaultMode, 'pass'>, string[]>> = {
  literature: {
    slow: ['TIMEOUT', 'CIRCUIT_OPEN'],
    error: ['UNREACHABLE', 'CIRCUIT_OPEN'],
    garbage: ['BAD_RESPONSE'],
    down: ['UNREACHABLE', 'CIRCUIT_OPEN'],
  },
  imaging: {
    slow: ['TIMEOUT', 'CIRCUIT_OPEN'],
    error: ['UNREACHABLE', 'CIRCUIT_OPEN'],
    garbage: ['BAD_RESPONSE', 'CIRCUIT_OPEN'],
    down: ['UNREACHABLE', 'CIRCUIT_OPEN'],
  },
  kb: { slow: ['TIMEOUT'], error: ['INTERNAL'], garbage: ['BAD_RESPONSE'], down: ['UNREACHABLE'] },
};

async function setFault(tool: Tool, mode: FaultMode): Promise<void> {
  if (tool === 'literature') await litProxy.set(mode);
  else if (tool === 'imaging') await imgProxy.set(mode);
  else kbFault.mode = mode;
}

/** Check one review request: the faulty tool's steps unavailable with an expected code and NOT CHECKED in the plan; the others ok. */
function checkRequest(data: ReviewJobData, faulty: Tool | null, codes: readonly string[]): void {
  const { plan, findings } = data.request;
  const unavailable = plan.unavailable;
  for (const tool of Object.keys(TYPES) as Tool[]) {
    const mine = unavailable.filter((u) => (TYPES[tool] as readonly string[]).includes(u.type));
    if (tool === faulty) {
      expect(mine.length, `${tool} steps unavailable in ${data.caseId}`).toBeGreaterThan(0);
      for (const u of mine) expect(codes, `${data.caseId} ${u.type}: ${u.code} ${u.reason}`).toContain(u.code);
    } else expect(mine, `${tool} steps of ${data.caseId} should be fine`).toEqual([]);
  }
  if (faulty) {
    expect(plan.sections.recommendations.some((r) => r.text.startsWith('NOT CHECKED'))).toBe(true);
    expect(findings.some((f) => f.code === 'tool_unavailable')).toBe(true);
  }
  expect(data.request.allowedActions).toContain('approve');
}

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  process.on('unhandledRejection', onUnhandled);
  kb = await openTestKb('sqlite');
  const { index } = await LiteratureIndex.open(
    path.join(ROOT, 'test/fixtures/literature/synthetic-pubmed.xml'),
    path.join(dir, 'index'),
  );
  literatureService = buildLiteratureService(index);
  await literatureService.listen({ host: '127.0.0.1', port: 0 });
  const litPort = (literatureService.server.address() as AddressInfo).port;
  imagingService = await startImagingService(MODEL_DIR);
  litProxy = await startFaultProxy(`http://127.0.0.1:${litPort}`);
  imgProxy = await startFaultProxy(imagingService.base);
  litProxy.slowMs = imgProxy.slowMs = 3000;
  literature = new EutilsClient({
    baseUrl: `${litProxy.url}/entrez/eutils`,
    rateLimit: 200,
    timeoutMs: 800,
    retries: 1,
    backoffMs: 20,
    sourceName: 'local-pubmed',
    breaker: BREAKER,
  });
  imaging = new KServeImagingClient({
    baseUrl: imgProxy.url,
    model: 'pneumonia-cnn',
    timeoutMs: 800,
    retries: 1,
    backoffMs: 20,
    breaker: BREAKER,
    maxImageBytes: 1e7,
    dicomweb: null,
  });
  api = await startApi(config, logs);
  worker = await startWorker(config, logs, {
    tools: {
      knowledgeBase: faultyKnowledgeBase(new LocalKnowledgeBaseClient(kb.store), kbFault),
      literature,
      imaging,
      policy: { timeoutMs: 2500, retries: 1, backoffMs: 20 },
    },
  });
  redis = createRedis(config.redis.url!, 'test-faults');
  reviewQueue = new Queue<ReviewJobData>(QUEUES.review, {
    connection: redis,
    prefix: bullPrefix(prefix, QUEUES.review),
  });
}, 120_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await reviewQueue?.close();
  await worker?.close();
  await api?.close();
  await redis?.quit();
  await litProxy?.close();
  await imgProxy?.close();
  await literatureService?.close();
  await stopImagingService(imagingService);
  await kb?.drop();
  await deletePrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

// The breakers' own timer is under test: they let a trial call through only after halfOpenAfterMs.
const waitBreakerHalfOpen = () => new Promise((r) => setTimeout(r, BREAKER.halfOpenAfterMs + 200));

describe('tool faults', () => {
  it('with every tool healthy, every step is checked', async () => {
    for (const data of await runCases(3, 'healthy')) checkRequest(data, null, []);
  });

  for (const tool of ['literature', 'imaging', 'kb'] as const) {
    for (const mode of ['slow', 'error', 'garbage', 'down'] as const) {
      it(`${tool} ${mode}: cases still reach review, with the ${tool} steps NOT CHECKED and coded ${EXPECTED[tool][mode].join(' or ')}`, async () => {
        await setFault(tool, mode);
        try {
          for (const data of await runCases(3, `${tool}-${mode}`)) checkRequest(data, tool, EXPECTED[tool][mode]);
        } finally {
          await setFault(tool, 'pass');
        }
        await waitBreakerHalfOpen();
      }, 60_000);
    }
  }

  it('the literature and imaging breakers open on failures, fail fast while open, and close after a successful trial', async () => {
    for (const [name, proxy, client] of [
      ['literature', litProxy, literature],
      ['imaging', imgProxy, imaging],
    ] as const) {
      const type = name === 'literature' ? 'literature_search' : 'imaging_analysis';
      const opened = client.stats.breakerOpened;
      await proxy.set('error');
      await runCases(3, `${name}-breaker-opens`);
      expect(client.stats.breakerOpened, `${name} breaker opened`).toBeGreaterThan(opened);
      // While open, calls fail fast: nothing reaches the service, every step says CIRCUIT_OPEN.
      const before = proxy.requests.length;
      const jobs = await runCases(3, `${name}-breaker-open`);
      const codes = jobs.flatMap((j) => j.request.plan.unavailable.filter((u) => u.type === type).map((u) => u.code));
      expect(codes.length).toBeGreaterThan(0);
      expect(new Set(codes), name).toEqual(new Set(['CIRCUIT_OPEN']));
      expect(proxy.requests.length - before, `${name}: requests sent while the breaker was open`).toBe(0);
      await proxy.set('pass');
      await waitBreakerHalfOpen();
      for (const data of await runCases(2, `${name}-recovered`)) checkRequest(data, null, []);
      const state = name === 'literature' ? literature.breaker!.policy.state : imaging.breakerState;
      expect(String(state), `${name} breaker closed again`).toBe('0'); // CircuitState.Closed
    }
  }, 90_000);

  it('repeated fault rounds: no unhandled rejection, the heap stays flat, no identifier leaves the process', async () => {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as () => void;
    const heap = () => {
      gc();
      gc();
      return process.memoryUsage().heapUsed;
    };
    const round = async (r: number) => {
      for (const [tool, mode] of [
        ['kb', 'error'],
        ['kb', 'garbage'],
        ['literature', 'garbage'],
        ['imaging', 'down'],
        ['literature', 'down'],
      ] as const) {
        await setFault(tool, mode);
        await runCases(4, `round${r}-${tool}-${mode}`);
        await setFault(tool, 'pass');
      }
      await waitBreakerHalfOpen();
      await runCases(4, `round${r}-healthy`);
    };
    await round(0); // warm-up: JIT, caches, pools
    const start = heap();
    const samples: number[] = [];
    for (let r = 1; r <= 4; r++) {
      await round(r);
      samples.push(heap());
    }
    const growthMb = (samples.at(-1)! - start) / 1e6;
    process.stderr.write(
      `[tool-faults] heap after warm-up ${(start / 1e6).toFixed(1)} MB; after rounds ${samples.map((s) => (s / 1e6).toFixed(1)).join(', ')} MB; growth ${growthMb.toFixed(1)} MB over 4 rounds (${4 * 24} cases)\n`,
    );
    expect(growthMb).toBeLessThan(20);
    expect(unhandled).toEqual([]);

    const outbound = [...litProxy.requests, ...imgProxy.requests].map((r, i) => ({
      source: `tool request ${i} ${r.method} ${r.url.slice(0, 80)}`,
      text: `${r.url}\n${r.body}`,
    }));
    const phi = scanForPhi(
      [...outbound, ...logs.lines.map((text, i) => ({ source: `log line ${i}`, text }))],
      identifiers,
    );
    process.stderr.write(
      `[tool-faults] PHI scan: ${outbound.length} tool requests and ${logs.lines.length} log lines for ${new Set(identifiers).size} identifiers: ${phi.length} hits\n`,
    );
    expect(outbound.length).toBeGreaterThan(50);
    expect(phi.slice(0, 5)).toEqual([]);
  }, 300_000);
});
