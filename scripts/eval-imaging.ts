// `npm run eval:imaging -- --data PATH.npz [--model DIR] [--split test|val|train]`: scores the
// imaging model on a split of any PneumoniaMNIST-format .npz (<split>_images (n, 28, 28) uint8,
// <split>_labels (n, 1) with 1 = pneumonia) and prints JSON: ROC AUC, accuracy, sensitivity and
// specificity at the model's threshold, the share of images in the indeterminate band and the
// accuracy outside it. Without --split it takes test, else val, else train.
// The model directory defaults to IMAGING_MODEL_DIR (models/pneumonia-cnn/tfjs); pass
// models/pneumonia-cnn/onnx to score the ONNX export through onnxruntime instead.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelRuntime } from '../services/imaging/runtime.js';
import { loadConfig } from '../src/config.js';
import { binaryMetrics } from '../src/imaging/metrics.js';
import { loadSplit } from '../src/imaging/npy.js';
import { resizeGrey } from '../src/imaging/pixels.js';
import { bandReport, toUnitFloats } from '../src/imaging/train.js';

const { values: args } = parseArgs({
  options: { data: { type: 'string' }, model: { type: 'string' }, split: { type: 'string' } },
});
if (!args.data) {
  process.stderr.write('usage: npm run eval:imaging -- --data PATH.npz [--model DIR] [--split test|val|train]\n');
  process.exit(2);
}
const data = path.resolve(args.data);
if (!existsSync(data)) {
  process.stderr.write(`eval:imaging: no file at ${data}\n`);
  process.exit(2);
}
const config = loadConfig(process.env);
const modelDir = path.resolve(args.model ?? config.imaging.service.modelDir);
const runtime = await loadModelRuntime(modelDir);
const meta = runtime.meta;
const split = loadSplit(data, args.split ? [args.split] : ['test', 'val', 'train']);
if (split.split === 'train')
  process.stderr.write('eval:imaging: WARNING: scoring the train split, which the model was fitted on\n');

// Images of another size are resized the way the service resizes them.
const { height: h, width: w } = meta.input;
const pixels = toUnitFloats(split.images);
const images = new Float32Array(split.count * h * w);
for (let i = 0; i < split.count; i++) {
  const one = pixels.subarray(i * split.height * split.width, (i + 1) * split.height * split.width);
  images.set(resizeGrey({ width: split.width, height: split.height, data: one }, w, h).data, i * h * w);
}
const started = performance.now();
const scores = new Float32Array(split.count);
const batch = 128;
for (let start = 0; start < split.count; start += batch) {
  const n = Math.min(batch, split.count - start);
  scores.set(await runtime.predict(images.subarray(start * h * w, (start + n) * h * w), n), start);
}
const seconds = (performance.now() - started) / 1000;
await runtime.close();

const m = binaryMetrics(scores, split.labels, meta.threshold);
const band = bandReport(scores, split.labels, meta.threshold, meta.indeterminateBand);
const round = (x: number) => Number(x.toFixed(4));
process.stdout.write(
  `${JSON.stringify(
    {
      evaluation: 'imaging',
      model: {
        name: meta.name,
        version: meta.version,
        engine: runtime.engine,
        dir: path.relative(process.cwd(), modelDir) || '.',
      },
      data: {
        file: path.basename(data),
        sha256: createHash('sha256').update(readFileSync(data)).digest('hex').slice(0, 16),
        split: split.split,
        n: m.n,
        positives: m.positives,
        negatives: m.negatives,
      },
      auc: round(m.auc),
      accuracy: round(m.accuracy),
      sensitivity: round(m.sensitivity),
      specificity: round(m.specificity),
      threshold: meta.threshold,
      confusion: m.confusion,
      indeterminate: {
        band: meta.indeterminateBand,
        fraction: round(band.fraction),
        accuracyOutsideBand: round(band.accuracyOutsideBand),
      },
      secondsToScore: Number(seconds.toFixed(2)),
      anchor: {
        note: 'MedMNIST v2 ResNet-18 (28) on the official PneumoniaMNIST test split; splits differ, indicative only',
        auc: 0.944,
        accuracy: 0.854,
      },
    },
    null,
    2,
  )}\n`,
);
