/**
 * `npm run bench:imaging`: imaging-model latency and throughput on CPU. JSON on stdout,
 * progress on stderr.
 *
 * In the same run:
 *   - baseline: the model called in-process (TF.js on WASM, and the ONNX export on
 *     onnxruntime-node), one image per call and batches of 64;
 *   - the service over HTTP on 127.0.0.1: one image per `infer` request (sequential, and 8
 *     concurrent clients), a batch of 64 per request, and `/v1/analyse` with a 512×512 12-bit
 *     DICOM radiograph (decode, window, resize, infer);
 *   - the imaging tool's client end to end (inline PNG → decode → resize → infer → finding).
 *
 * Images: PneumoniaMNIST validation images when SHARED_DATA_DIR has them, else generated ones.
 * Environment: BENCH_IMAGING_N (requests per measurement, default 400).
 */
import os from 'node:os';
import { buildImagingService } from '../services/imaging/app.js';
import { loadModelRuntime, type ModelRuntime } from '../services/imaging/runtime.js';
import { loadConfig } from '../src/config.js';
import { KServeImagingClient } from '../src/tools/imaging/client.js';
import { makeDicom, makePng, ONNX_MODEL_DIR, MODEL_DIR, sampleImage } from '../test/helpers/imaging.js';

const N = Number(process.env.BENCH_IMAGING_N ?? 400);
const progress = (m: string) => process.stderr.write(`[bench:imaging] ${m}\n`);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 1000) / 1000;
};

async function measure(
  label: string,
  count: number,
  imagesPerCall: number,
  fn: (i: number) => Promise<unknown>,
  concurrency = 1,
) {
  for (let i = 0; i < Math.min(20, count); i++) await fn(i); // warm-up
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await fn(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const result = {
    calls: count,
    imagesPerCall,
    concurrency,
    p50ms: pct(latencies, 50),
    p99ms: pct(latencies, 99),
    imagesPerSecond: Math.round((count * imagesPerCall) / seconds),
  };
  progress(`${label}: p50 ${result.p50ms} ms, p99 ${result.p99ms} ms, ${result.imagesPerSecond} images/s`);
  return result;
}

const images = Array.from({ length: 64 }, (_, i) => Float32Array.from(sampleImage(i).pixels, (v) => v / 255));
const batch = new Float32Array(64 * 784);
images.forEach((img, i) => batch.set(img, i * 784));

async function inProcess(runtime: ModelRuntime) {
  return {
    single: await measure(`${runtime.engine} in-process, 1 image`, N, 1, (i) => runtime.predict(images[i % 64]!, 1)),
    batch64: await measure(`${runtime.engine} in-process, batch 64`, Math.max(20, N / 8), 64, () =>
      runtime.predict(batch, 64),
    ),
  };
}

const config = loadConfig(process.env);
const tfjs = await loadModelRuntime(MODEL_DIR);
const onnx = await loadModelRuntime(ONNX_MODEL_DIR);
const baseline = { tfjs: await inProcess(tfjs), onnx: await inProcess(onnx) };

const app = await buildImagingService({ runtime: tfjs, maxImageBytes: 32 * 1024 * 1024, maxBatch: 64 });
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
const infer = (data: Float32Array, n: number) =>
  fetch(`${base}/v2/models/pneumonia-cnn/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'image', shape: [n, 28, 28, 1], datatype: 'FP32', data: Array.from(data) }],
    }),
  }).then((r) => r.json());
const big = new Uint8Array(512 * 512);
const src = sampleImage(0).pixels;
for (let y = 0; y < 512; y++)
  for (let x = 0; x < 512; x++) big[y * 512 + x] = src[Math.floor((y * 28) / 512) * 28 + Math.floor((x * 28) / 512)]!;
const dicom = makeDicom({
  rows: 512,
  cols: 512,
  values: Array.from(big, (g) => g * 16),
  bitsStored: 12,
  window: { center: 2048, width: 4096 },
});

const http = {
  inferSingle: await measure('service infer, 1 image', N, 1, (i) => infer(images[i % 64]!, 1)),
  inferSingleConcurrent8: await measure('service infer, 1 image, 8 clients', N, 1, (i) => infer(images[i % 64]!, 1), 8),
  inferBatch64: await measure('service infer, batch 64', Math.max(20, N / 8), 64, () => infer(batch, 64)),
  analyseDicom512: await measure('service /v1/analyse, 512×512 12-bit DICOM', Math.max(50, N / 4), 1, () =>
    fetch(`${base}/v1/analyse`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: dicom }).then(
      (r) => r.json(),
    ),
  ),
};
const client = new KServeImagingClient({
  baseUrl: base,
  model: 'pneumonia-cnn',
  timeoutMs: 5000,
  retries: 0,
  breaker: { failures: 100, halfOpenAfterMs: 1000 },
  maxImageBytes: 1e7,
});
const pngs = Array.from({ length: 16 }, (_, i) =>
  Buffer.from(makePng(28, 28, sampleImage(i).pixels)).toString('base64'),
);
const tool = await measure('imaging tool client (PNG → finding)', N, 1, (i) =>
  client.analyse(
    {
      studyRef: 'img-1',
      modality: 'CR',
      bodySite: null,
      description: null,
      image: { kind: 'inline', contentType: 'image/png', base64: pngs[i % 16]! },
    },
    new AbortController().signal,
  ),
);
await app.close();
await tfjs.close();
await onnx.close();

const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'imaging',
      date: new Date().toISOString(),
      node: process.version,
      cpus: os.cpus().length,
      model: {
        dir: 'models/pneumonia-cnn',
        input: '28×28×1',
        served: 'tfjs-wasm',
        configuredModel: config.imaging.modelName,
      },
      images: sampleImage(0).label === null ? 'generated' : 'PneumoniaMNIST validation',
      baseline,
      http,
      tool,
      ratios: {
        httpSingleP50OverInProcess: ratio(http.inferSingle.p50ms, baseline.tfjs.single.p50ms),
        batch64ThroughputOverSingle: ratio(http.inferBatch64.imagesPerSecond, http.inferSingle.imagesPerSecond),
        onnxOverTfjsSingleP50: ratio(baseline.onnx.single.p50ms, baseline.tfjs.single.p50ms),
        toolP50OverHttpInfer: ratio(tool.p50ms, http.inferSingle.p50ms),
      },
    },
    null,
    2,
  )}\n`,
);
