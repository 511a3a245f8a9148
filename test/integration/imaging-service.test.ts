/**
 * The imaging-model service over real sockets, with the committed model: the Open Inference
 * Protocol endpoints (health, server and model metadata, readiness, configuration, inference
 * with flat and nested tensors, versioned paths), its error objects for malformed requests,
 * the convenience endpoint for DICOM, PNG and JPEG files (and its refusals of malformed,
 * oversized and unsupported images), the ONNX export served through onnxruntime-node giving
 * the same answers, and the entry point as its own process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelMeta } from '../../src/imaging/model.js';
import {
  makeDicom,
  makeJpeg,
  makePng,
  MODEL_DIR,
  ONNX_MODEL_DIR,
  sampleImage,
  startImagingService,
  stopImagingService,
  upscale,
  type RunningService,
} from '../helpers/imaging.js';
import { spawnTs, waitForLine } from '../helpers/processes.js';

let tfjs: RunningService;
let onnx: RunningService;
const NAME = 'pneumonia-cnn';

beforeAll(async () => {
  tfjs = await startImagingService(MODEL_DIR, 0, { maxImageBytes: 2 * 1024 * 1024, maxBatch: 16 });
  onnx = await startImagingService(ONNX_MODEL_DIR);
});
afterAll(async () => {
  await stopImagingService(tfjs);
  await stopImagingService(onnx);
});

const json = async (res: Response) => ({ status: res.status, body: (await res.json()) as Record<string, unknown> });
const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const tensor = (pixels: Uint8Array[]) => ({
  name: 'image',
  shape: [pixels.length, 28, 28, 1],
  datatype: 'FP32',
  data: pixels.flatMap((p) => Array.from(p, (v) => v / 255)),
});

describe('Open Inference Protocol endpoints', () => {
  it('health, server metadata, model metadata, readiness and configuration', async () => {
    const meta = await readModelMeta(MODEL_DIR);
    expect(await json(await fetch(`${tfjs.base}/v2/health/live`))).toEqual({ status: 200, body: { live: true } });
    expect(await json(await fetch(`${tfjs.base}/v2/health/ready`))).toEqual({ status: 200, body: { ready: true } });
    expect((await json(await fetch(`${tfjs.base}/v2`))).body).toMatchObject({
      name: 'clinical-orchestrator-imaging',
      extensions: ['model_configuration', 'image_analyse'],
    });
    const model = await json(await fetch(`${tfjs.base}/v2/models/${NAME}`));
    expect(model).toEqual({
      status: 200,
      body: {
        name: NAME,
        versions: [meta.version],
        platform: 'tensorflowjs_layers',
        inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, 28, 28, 1] }],
        outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1] }],
      },
    });
    expect((await json(await fetch(`${tfjs.base}/v2/models/${NAME}/versions/${meta.version}/ready`))).body).toEqual({
      name: NAME,
      ready: true,
    });
    const config = (await json(await fetch(`${tfjs.base}/v2/models/${NAME}/config`))).body as {
      parameters: Record<string, { string_value: string }>;
      max_batch_size: number;
    };
    expect(config.max_batch_size).toBe(16);
    expect(config.parameters.threshold!.string_value).toBe(String(meta.threshold));
    expect([
      config.parameters.indeterminate_low!.string_value,
      config.parameters.indeterminate_high!.string_value,
    ]).toEqual(meta.indeterminateBand.map(String));
    expect(config.parameters.intended_use!.string_value).toMatch(/not for diagnosis/);
  });

  it('infers a batch, flat or nested, echoing the request id, on both paths', async () => {
    const images = [sampleImage(0).pixels, sampleImage(1).pixels, sampleImage(2).pixels];
    const flat = await json(
      await post(tfjs.base, `/v2/models/${NAME}/infer`, { id: 'req-1', inputs: [tensor(images)] }),
    );
    expect(flat.status).toBe(200);
    const out = (flat.body as { outputs: Array<{ name: string; shape: number[]; datatype: string; data: number[] }> })
      .outputs[0]!;
    expect(flat.body).toMatchObject({ model_name: NAME, id: 'req-1' });
    expect(out).toMatchObject({ name: 'probability', shape: [3, 1], datatype: 'FP32' });
    for (const p of out.data) {
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThanOrEqual(1);
    }
    // The same images as nested [n][28][28][1] arrays, on the versioned path.
    const nested = images.map((img) =>
      Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => [img[y * 28 + x]! / 255])),
    );
    const version = (flat.body as { model_version: string }).model_version;
    const again = await json(
      await post(tfjs.base, `/v2/models/${NAME}/versions/${version}/infer`, {
        inputs: [{ name: 'image', shape: [3, 28, 28, 1], datatype: 'FP32', data: nested }],
      }),
    );
    expect((again.body as { outputs: Array<{ data: number[] }> }).outputs[0]!.data).toEqual(out.data);
  });

  it('answers malformed requests with the protocol error object and a stable code', async () => {
    const one = sampleImage(0).pixels;
    const cases: Array<[string, unknown, number, string]> = [
      [`/v2/models/other-model/infer`, { inputs: [tensor([one])] }, 404, 'MODEL_NOT_FOUND'],
      [`/v2/models/${NAME}/versions/9.9.9/infer`, { inputs: [tensor([one])] }, 404, 'MODEL_NOT_FOUND'],
      [`/v2/models/${NAME}/infer`, { inputs: [] }, 400, 'BAD_REQUEST'],
      [`/v2/models/${NAME}/infer`, { inputs: [{ ...tensor([one]), name: 'pixels' }] }, 400, 'BAD_TENSOR'],
      [`/v2/models/${NAME}/infer`, { inputs: [{ ...tensor([one]), datatype: 'INT32' }] }, 400, 'BAD_TENSOR'],
      [`/v2/models/${NAME}/infer`, { inputs: [{ ...tensor([one]), shape: [1, 32, 32, 1] }] }, 400, 'BAD_TENSOR'],
      [`/v2/models/${NAME}/infer`, { inputs: [{ ...tensor([one]), data: [1, 2, 3] }] }, 400, 'BAD_TENSOR'],
      [`/v2/models/${NAME}/infer`, { inputs: [{ ...tensor([one]), data: Array(784).fill('x') }] }, 400, 'BAD_TENSOR'],
      [`/v2/models/${NAME}/infer`, { inputs: [{ ...tensor([one]), data: Array(784).fill(255) }] }, 400, 'BAD_TENSOR'],
      [`/v2/models/${NAME}/infer`, { inputs: [tensor(Array.from({ length: 17 }, () => one))] }, 400, 'BATCH_TOO_LARGE'],
      [`/v2/models/${NAME}/infer`, { inputs: [tensor([one])], outputs: [{ name: 'logits' }] }, 400, 'BAD_TENSOR'],
    ];
    for (const [path, body, status, code] of cases) {
      const res = await json(await post(tfjs.base, path, body));
      expect(res.status, JSON.stringify(body).slice(0, 120)).toBe(status);
      expect(res.body.code).toBe(code);
      expect(typeof res.body.error).toBe('string');
    }
    const broken = await fetch(`${tfjs.base}/v2/models/${NAME}/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"inputs": [',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { error: string }).error).toBeTruthy();
    expect((await json(await fetch(`${tfjs.base}/v2/models/${NAME}/explain`))).status).toBe(404);
  });

  it('the ONNX export served through onnxruntime gives the same probabilities as TF.js', async () => {
    const images = Array.from({ length: 8 }, (_, i) => sampleImage(i).pixels);
    const a = (await json(await post(tfjs.base, `/v2/models/${NAME}/infer`, { inputs: [tensor(images)] }))).body as {
      outputs: Array<{ data: number[] }>;
    };
    const b = (await json(await post(onnx.base, `/v2/models/${NAME}/infer`, { inputs: [tensor(images)] }))).body as {
      outputs: Array<{ data: number[] }>;
      model_name: string;
    };
    expect((await json(await fetch(`${onnx.base}/v2/models/${NAME}`))).body.platform).toBe('onnxruntime_onnx');
    a.outputs[0]!.data.forEach((p, i) => expect(b.outputs[0]!.data[i]).toBeCloseTo(p, 4));
  });
});

describe('POST /v1/analyse (image files)', () => {
  const analyse = (base: string, body: Uint8Array, type: string) =>
    fetch(`${base}/v1/analyse`, { method: 'POST', headers: { 'content-type': type }, body });

  it('takes a DICOM radiograph, a PNG and a JPEG of the same image and scores them alike', async () => {
    const { pixels } = sampleImage(3);
    const big = upscale(pixels, 8); // 224 × 224
    // 12-bit DICOM, MONOCHROME1, with a modality rescale and a window that maps it back to the 8-bit grey levels.
    const stored = Array.from(big, (g) => (255 - g) * 16);
    const dicom = makeDicom({
      rows: 224,
      cols: 224,
      values: stored,
      bitsStored: 12,
      photometric: 'MONOCHROME1',
      slope: 0.0625,
      intercept: 0,
      window: { center: 127.5, width: 256, fn: 'LINEAR_EXACT' },
    });
    const fromDicom = (await json(await analyse(tfjs.base, dicom, 'application/dicom'))).body as {
      score: number;
      interpretation: string;
      image: { format: string; steps: string[] };
    };
    expect(fromDicom.image.format).toBe('dicom');
    expect(fromDicom.image.steps).toEqual(expect.arrayContaining(['MONOCHROME1 inverted', 'resized to 28×28']));
    const fromPng = (await json(await analyse(tfjs.base, makePng(224, 224, big), 'image/png'))).body as {
      score: number;
      threshold: number;
      indeterminate_band: [number, number];
      interpretation: string;
    };
    const fromJpeg = (await json(await analyse(tfjs.base, makeJpeg(224, 224, big), 'image/jpeg'))).body as {
      score: number;
    };
    const direct = (await json(await post(tfjs.base, `/v2/models/${NAME}/infer`, { inputs: [tensor([pixels])] })))
      .body as { outputs: Array<{ data: number[] }> };
    expect(fromPng.score).toBeCloseTo(direct.outputs[0]!.data[0]!, 3);
    expect(fromDicom.score).toBeCloseTo(direct.outputs[0]!.data[0]!, 2);
    expect(Math.abs(fromJpeg.score - fromPng.score)).toBeLessThan(0.05);
    const expected =
      fromPng.score >= fromPng.indeterminate_band[0] && fromPng.score <= fromPng.indeterminate_band[1]
        ? 'indeterminate'
        : fromPng.score >= fromPng.threshold
          ? 'positive'
          : 'negative';
    expect(fromPng.interpretation).toBe(expected);
  });

  it('refuses malformed, mislabelled, unsupported and oversized images with clear errors', async () => {
    const png = makePng(28, 28, sampleImage(0).pixels);
    const cases: Array<[Uint8Array, string, number, string]> = [
      [new TextEncoder().encode('not an image at all'), 'image/png', 400, 'IMAGE_MALFORMED'],
      [png, 'image/jpeg', 400, 'IMAGE_MALFORMED'],
      [png.slice(0, 60), 'image/png', 400, 'IMAGE_MALFORMED'],
      [
        makeDicom({ rows: 2, cols: 2, values: [1, 2, 3, 4], transferSyntax: '1.2.840.10008.1.2.4.50' }),
        'application/dicom',
        415,
        'IMAGE_UNSUPPORTED',
      ],
      [new Uint8Array(0), 'image/png', 400, 'IMAGE_EMPTY'],
    ];
    for (const [body, type, status, code] of cases) {
      const res = await json(await analyse(tfjs.base, body, type));
      expect([res.status, res.body.code]).toEqual([status, code]);
      expect(String(res.body.error).length).toBeGreaterThan(10);
    }
    const tooBig = await json(await analyse(tfjs.base, new Uint8Array(3 * 1024 * 1024), 'image/png'));
    expect([tooBig.status, tooBig.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const gif = await json(await analyse(tfjs.base, png, 'image/gif'));
    expect(gif.status).toBe(415);
  });
});

describe('the service entry point', () => {
  it('runs as its own process, serves the model, and exits 0 on SIGTERM', async () => {
    const proc = spawnTs('services/imaging/main.ts', {
      HTTP_HOST: '127.0.0.1',
      IMAGING_PORT: '0',
      LOG_LEVEL: 'info',
      IMAGING_MODEL_DIR: MODEL_DIR,
    });
    try {
      await waitForLine(proc, /imaging service ready/, 30_000);
      const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)\/v2\/models/.exec(proc.output())![1]!;
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
      proc.child.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });

  it('exits 2 with a clear message when the model directory is wrong', async () => {
    const proc = spawnTs('services/imaging/main.ts', { IMAGING_PORT: '0', IMAGING_MODEL_DIR: '/nonexistent/model' });
    expect((await proc.exited).code).toBe(2);
    expect(proc.output()).toMatch(/cannot read model metadata .*meta\.json/);
  });
});
