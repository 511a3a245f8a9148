/**
 * The imaging tool's client over real sockets: against the imaging service (inline images and
 * DICOMweb instances from a WADO-RS test server), against servers that misbehave (5xx, garbage,
 * out-of-range outputs, slow answers, no configuration extension), and against a service that
 * is stopped and started again, which must open and then close the circuit breaker. Also: what
 * crosses the wire to the inference server is a grey-level tensor and nothing identifying.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelMeta } from '../../src/imaging/model.js';
import { ToolError } from '../../src/tools/common.js';
import { KServeImagingClient, type ImagingClientOptions } from '../../src/tools/imaging/client.js';
import { DicomwebClient } from '../../src/tools/imaging/dicomweb.js';
import { imagingTool } from '../../src/tools/imaging/tool.js';
import type { ImagingInput } from '../../src/tools/imaging/schema.js';
import {
  makeDicom,
  makePng,
  MODEL_DIR,
  sampleImage,
  startDicomweb,
  startImagingService,
  stopImagingService,
  TEST_UIDS,
  upscale,
  type DicomwebServer,
  type RunningService,
} from '../helpers/imaging.js';

let service: RunningService;
let dicomweb: DicomwebServer;
const signal = () => new AbortController().signal;
const png = makePng(28, 28, sampleImage(0).pixels);
const dicom = makeDicom({ rows: 112, cols: 112, values: upscale(sampleImage(0).pixels, 4), bitsAllocated: 8 });
const inline = (bytes: Uint8Array, contentType = 'image/png'): ImagingInput => ({
  studyRef: 'img-1',
  modality: 'CR',
  bodySite: 'chest',
  description: null,
  image: { kind: 'inline', contentType, base64: Buffer.from(bytes).toString('base64') },
});
const onPacs: ImagingInput = {
  studyRef: 'img-1',
  modality: 'CR',
  bodySite: null,
  description: null,
  image: { kind: 'dicomweb', studyUid: TEST_UIDS.study, seriesUid: TEST_UIDS.series, instanceUid: TEST_UIDS.instance },
};

const client = (o: Partial<ImagingClientOptions> = {}) =>
  new KServeImagingClient({
    baseUrl: service.base,
    model: 'pneumonia-cnn',
    timeoutMs: 2000,
    retries: 2,
    backoffMs: 20,
    breaker: { failures: 3, halfOpenAfterMs: 400 },
    maxImageBytes: 4 * 1024 * 1024,
    ...o,
  });

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof ToolError) return err.code;
    throw err;
  }
};

beforeAll(async () => {
  service = await startImagingService(MODEL_DIR);
  dicomweb = await startDicomweb(new Map([[`${TEST_UIDS.study}/${TEST_UIDS.series}/${TEST_UIDS.instance}`, dicom]]), {
    token: 'pacs-token-1',
  });
});
afterAll(async () => {
  await stopImagingService(service);
  await dicomweb?.app.close();
});

describe('against the imaging service', () => {
  it('returns the finding with model name and version, calibrated threshold, band and interpretation', async () => {
    const meta = await readModelMeta(MODEL_DIR);
    const { data, version } = await client().analyse(inline(png), signal());
    expect(version).toBe(`pneumonia-cnn@${meta.version}`);
    const f = data.findings[0]!;
    expect(f).toMatchObject({
      id: 'pneumonia',
      label: 'pneumonia',
      threshold: meta.threshold,
      indeterminateBand: meta.indeterminateBand,
      model: { name: 'pneumonia-cnn', version: meta.version },
    });
    expect(f.interpretation).toBe(
      f.score >= f.indeterminateBand[0] && f.score <= f.indeterminateBand[1]
        ? 'indeterminate'
        : f.score >= f.threshold
          ? 'positive'
          : 'negative',
    );
    expect(data.preprocessing).toEqual(['png', 'luminance', 'resized 28×28 → 28×28']);
  });

  it('fetches a DICOMweb instance (uncompressed, with the configured token) and gets the same score as the PNG', async () => {
    const viaPacs = client({
      dicomweb: new DicomwebClient({ baseUrl: dicomweb.base, token: 'pacs-token-1', timeoutMs: 2000, maxBytes: 1e7 }),
    });
    const a = await viaPacs.analyse(onPacs, signal());
    const b = await viaPacs.analyse(inline(png), signal());
    expect(a.data.findings[0]!.score).toBeCloseTo(b.data.findings[0]!.score, 4);
    expect(a.data.preprocessing[0]).toBe('dicom');
    const last = dicomweb.requests.at(-1)!;
    expect(last.url).toBe(
      `/dicomweb/studies/${TEST_UIDS.study}/series/${TEST_UIDS.series}/instances/${TEST_UIDS.instance}`,
    );
    expect(last.accept).toBe('multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1');
    expect(last.authorization).toBe('Bearer pacs-token-1');
  });

  it('asks a server that cannot transcode for any transfer syntax, and takes a bare application/dicom answer', async () => {
    const refusing = await startDicomweb(
      new Map([[`${TEST_UIDS.study}/${TEST_UIDS.series}/${TEST_UIDS.instance}`, dicom]]),
      { refuseExplicit: true, bare: true },
    );
    try {
      const c = client({ dicomweb: new DicomwebClient({ baseUrl: refusing.base, timeoutMs: 2000, maxBytes: 1e7 }) });
      expect((await c.analyse(onPacs, signal())).data.findings).toHaveLength(1);
      expect(refusing.requests.map((r) => /transfer-syntax=(\S+)/.exec(r.accept ?? '')?.[1])).toEqual([
        '1.2.840.10008.1.2.1',
        '*',
      ]);
    } finally {
      await refusing.app.close();
    }
  });

  it('refuses what it cannot or must not fetch, without guessing', async () => {
    const c = client({
      dicomweb: new DicomwebClient({ baseUrl: dicomweb.base, token: 'pacs-token-1', timeoutMs: 2000, maxBytes: 1e7 }),
    });
    const missing = { ...onPacs, image: { ...onPacs.image, instanceUid: '2.25.999' } } as ImagingInput;
    expect(await codeOf(c.analyse(missing, signal()))).toBe('INVALID_INPUT');
    const traversal = { ...onPacs, image: { ...onPacs.image, instanceUid: '../../../etc/passwd' } } as ImagingInput;
    const before = dicomweb.requests.length;
    expect(await codeOf(c.analyse(traversal, signal()))).toBe('INVALID_INPUT');
    expect(dicomweb.requests.length).toBe(before); // refused before any request
    expect(await codeOf(client().analyse(onPacs, signal()))).toBe('NOT_CONFIGURED');
    const wrongToken = client({
      dicomweb: new DicomwebClient({ baseUrl: dicomweb.base, token: 'wrong', timeoutMs: 2000, maxBytes: 1e7 }),
    });
    expect(await codeOf(wrongToken.analyse(onPacs, signal()))).toBe('NOT_CONFIGURED');
    expect(
      await codeOf(c.analyse({ ...onPacs, image: { kind: 'none', reason: 'no UIDs in the record' } }, signal())),
    ).toBe('INVALID_INPUT');
    expect(await codeOf(c.analyse(inline(new TextEncoder().encode('<svg/>'), 'image/png'), signal()))).toBe(
      'INVALID_INPUT',
    );
    const tooSmall = new DicomwebClient({
      baseUrl: dicomweb.base,
      token: 'pacs-token-1',
      timeoutMs: 2000,
      maxBytes: 1000,
    });
    expect(await codeOf(client({ dicomweb: tooSmall }).analyse(onPacs, signal()))).toBe('INVALID_INPUT');
  });

  it('sends the inference server only a grey-level tensor: no DICOM header, no patient data, no UIDs', async () => {
    const bodies: string[] = [];
    const recording: typeof fetch = (url, init) => {
      if (typeof init?.body === 'string') bodies.push(init.body);
      return fetch(url, init);
    };
    const c = client({
      fetch: recording,
      dicomweb: new DicomwebClient({ baseUrl: dicomweb.base, token: 'pacs-token-1', timeoutMs: 2000, maxBytes: 1e7 }),
    });
    await c.analyse(onPacs, signal());
    expect(bodies).toHaveLength(1);
    const sent = JSON.parse(bodies[0]!) as {
      id: string;
      inputs: Array<{ name: string; shape: number[]; data: number[] }>;
    };
    expect(Object.keys(sent).sort()).toEqual(['id', 'inputs']);
    expect(sent.id).toBe('img-1');
    expect(sent.inputs).toHaveLength(1);
    expect(sent.inputs[0]!.shape).toEqual([1, 28, 28, 1]);
    expect(sent.inputs[0]!.data.every((v) => typeof v === 'number' && v >= 0 && v <= 1)).toBe(true);
    for (const secret of ['SYNTHETIC', TEST_UIDS.study, TEST_UIDS.series, TEST_UIDS.instance, 'pacs-token-1'])
      expect(bodies[0]).not.toContain(secret);
  });

  it('is usable as a LangChain tool that answers JSON or a coded error', async () => {
    const t = imagingTool(client());
    const ok = JSON.parse(String(await t.invoke(inline(png)))) as {
      status: string;
      data: { findings: Array<{ model: { name: string } }> };
    };
    expect(ok.status).toBe('ok');
    expect(ok.data.findings[0]!.model.name).toBe('pneumonia-cnn');
    const bad = JSON.parse(String(await t.invoke({ ...inline(png), image: { kind: 'none', reason: 'nothing' } }))) as {
      status: string;
      code: string;
    };
    expect(bad).toMatchObject({ status: 'error', code: 'INVALID_INPUT' });
  });
});

/** A scripted Open Inference Protocol server: each request is answered by `handler`. */
async function fakeServer(
  handler: (req: IncomingMessage, body: string) => { status: number; body: unknown; delayMs?: number },
): Promise<{ server: Server; base: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push(`${req.method} ${req.url}`);
      const answer = handler(req, body);
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, hits, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
const METADATA = {
  name: 'm',
  versions: ['3'],
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1, 28, 28] }],
  outputs: [{ name: 'p', datatype: 'FP32', shape: [-1, 1] }],
};
const answer = (p: unknown) => ({
  model_name: 'm',
  model_version: '3',
  outputs: [{ name: 'p', shape: [1, 1], datatype: 'FP32', data: [p] }],
});

describe('against misbehaving or plain Triton-like servers', () => {
  it('uses IMAGING_* overrides when a server publishes no calibration, and refuses to guess without them', async () => {
    const fake = await fakeServer((req) =>
      req.url?.endsWith('/config')
        ? { status: 404, body: { error: 'no config' } }
        : req.method === 'GET'
          ? { status: 200, body: METADATA }
          : { status: 200, body: answer(0.93) },
    );
    try {
      const base = { baseUrl: fake.base, model: 'm' };
      expect(await codeOf(client(base).analyse(inline(png), signal()))).toBe('NOT_CONFIGURED');
      const { data } = await client({ ...base, threshold: 0.6, indeterminateBand: [0.4, 0.7] }).analyse(
        inline(png),
        signal(),
      );
      expect(data.findings[0]).toMatchObject({
        score: 0.93,
        threshold: 0.6,
        indeterminateBand: [0.4, 0.7],
        interpretation: 'positive',
        model: { name: 'm', version: '3' },
      });
      // NCHW input layout from the metadata.
      expect(fake.hits).toContain('POST /v2/models/m/infer');
    } finally {
      fake.server.close();
    }
  });

  it('retries 5xx with backoff and succeeds; does not retry 4xx', async () => {
    let failures = 2;
    const fake = await fakeServer((req) => {
      if (req.method === 'GET')
        return req.url?.endsWith('/config')
          ? {
              status: 200,
              body: {
                parameters: {
                  threshold: { string_value: '0.5' },
                  indeterminate_low: { string_value: '0.3' },
                  indeterminate_high: { string_value: '0.7' },
                },
              },
            }
          : { status: 200, body: METADATA };
      if (failures-- > 0) return { status: 503, body: { error: 'warming up' } };
      return { status: 200, body: answer(0.1) };
    });
    try {
      const c = client({ baseUrl: fake.base, model: 'm' });
      expect((await c.analyse(inline(png), signal())).data.findings[0]!.interpretation).toBe('negative');
      expect(fake.hits.filter((h) => h.startsWith('POST')).length).toBe(3);
      fake.hits.length = 0;
      const bad = await fakeServer((req) =>
        req.method === 'GET' ? { status: 200, body: METADATA } : { status: 400, body: { error: 'bad tensor' } },
      );
      const c2 = client({ baseUrl: bad.base, model: 'm', threshold: 0.5, indeterminateBand: [0.3, 0.7] });
      await expect(c2.analyse(inline(png), signal())).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('bad tensor') as string,
      });
      expect(bad.hits.filter((h) => h.startsWith('POST')).length).toBe(1);
      bad.server.close();
    } finally {
      fake.server.close();
    }
  });

  it('treats garbage, wrong shapes and out-of-range outputs as BAD_RESPONSE, and a slow server as TIMEOUT', async () => {
    const scripted = async (infer: { status: number; body: unknown; delayMs?: number }) => {
      const fake = await fakeServer((req) => (req.method === 'GET' ? { status: 200, body: METADATA } : infer));
      try {
        return await codeOf(
          client({
            baseUrl: fake.base,
            model: 'm',
            threshold: 0.5,
            indeterminateBand: [0.3, 0.7],
            timeoutMs: 300,
            retries: 1,
          }).analyse(inline(png), signal()),
        );
      } finally {
        fake.server.close();
      }
    };
    expect(await scripted({ status: 200, body: '<html>proxy error</html>' })).toBe('BAD_RESPONSE');
    expect(await scripted({ status: 200, body: { outputs: 'none' } })).toBe('BAD_RESPONSE');
    expect(await scripted({ status: 200, body: answer(3.5) })).toBe('BAD_RESPONSE');
    expect(await scripted({ status: 200, body: answer('high') })).toBe('BAD_RESPONSE');
    expect(await scripted({ status: 200, body: answer(0.5), delayMs: 1000 })).toBe('TIMEOUT');
    const wrongInput = await fakeServer(() => ({
      status: 200,
      body: { ...METADATA, inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 224, 224] }] },
    }));
    expect(await codeOf(client({ baseUrl: wrongInput.base, model: 'm' }).analyse(inline(png), signal()))).toBe(
      'BAD_RESPONSE',
    );
    wrongInput.server.close();
  });
});

describe('circuit breaker against a service that stops and starts', () => {
  it('opens after consecutive failures, fails fast while open, and closes after a successful trial call', async () => {
    const own = await startImagingService(MODEL_DIR);
    const port = own.port;
    let attempts = 0;
    const counting: typeof fetch = (url, init) => {
      attempts++;
      return fetch(url, init);
    };
    const c = new KServeImagingClient({
      baseUrl: own.base,
      model: 'pneumonia-cnn',
      timeoutMs: 1000,
      retries: 1,
      backoffMs: 10,
      breaker: { failures: 3, halfOpenAfterMs: 500 },
      maxImageBytes: 1e7,
      metadataTtlMs: 0,
      fetch: counting,
    });
    expect((await c.analyse(inline(png), signal())).data.findings).toHaveLength(1);
    expect(c.breakerState).toBe(0); // CircuitState.Closed

    await stopImagingService(own);
    attempts = 0;
    // Each analyse makes up to retries + 1 = 2 attempts; the third consecutive failure opens the breaker.
    expect(await codeOf(c.analyse(inline(png), signal()))).toBe('UNREACHABLE');
    expect(await codeOf(c.analyse(inline(png), signal()))).toBe('CIRCUIT_OPEN');
    expect(attempts).toBe(3);
    expect(c.breakerState).toBe(1); // CircuitState.Open
    const started = performance.now();
    expect(await codeOf(c.analyse(inline(png), signal()))).toBe('CIRCUIT_OPEN');
    expect(attempts).toBe(3); // no network call while open
    expect(performance.now() - started).toBeLessThan(100);
    expect(c.stats.breakerOpened).toBe(1);

    // Back at the same address; after halfOpenAfter one trial call goes through and closes the circuit.
    const back = await startImagingService(MODEL_DIR, port);
    try {
      // The breaker's own timer is under test: it lets a trial call through only after halfOpenAfter (500 ms).
      await new Promise((r) => setTimeout(r, 600));
      expect((await c.analyse(inline(png), signal())).data.findings).toHaveLength(1);
      expect(c.breakerState).toBe(0);
      expect((await c.analyse(inline(dicom, 'application/dicom'), signal())).data.findings).toHaveLength(1);
    } finally {
      await stopImagingService(back);
    }
  });
});
