// `npm run train:imaging`: trains the pneumonia CNN on the train split of PneumoniaMNIST,
// chooses the epoch on the validation split, calibrates on it, and writes the model directory:
//   models/pneumonia-cnn/tfjs/   model.json, weights.bin, meta.json   (served by default)
//   models/pneumonia-cnn/onnx/   model.onnx, meta.json                 (same network, ONNX)
//   models/pneumonia-cnn/        training-config.json, metrics.json, MODEL_CARD.md
// Options: --data PATH.npz (default SHARED_DATA_DIR/pneumoniamnist/pneumoniamnist-trainval.npz),
//          --out DIR, --config FILE (default DIR/training-config.json), --epochs N (override),
//          --card-only (rewrite MODEL_CARD.md from the directory's meta.json, metrics.json and config).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { modelCard } from '../src/imaging/model-card.js';
import { readModelMeta, saveLayersModel, type ModelMeta } from '../src/imaging/model.js';
import { loadSplit } from '../src/imaging/npy.js';
import { exportOnnx } from '../src/imaging/onnx-export.js';
import { initTf } from '../src/imaging/tf.js';
import { TrainingConfig, trainCnn } from '../src/imaging/train.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string', default: 'models/pneumonia-cnn' },
    config: { type: 'string' },
    epochs: { type: 'string' },
    version: { type: 'string' },
    'card-only': { type: 'boolean' },
  },
});
if (args['card-only']) {
  const dir = path.resolve(args.out);
  const read = (f: string) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as unknown;
  await writeFile(
    path.join(dir, 'MODEL_CARD.md'),
    modelCard({
      meta: await readModelMeta(path.join(dir, 'tfjs')),
      config: TrainingConfig.parse(read('training-config.json')),
      metrics: read('metrics.json') as Parameters<typeof modelCard>[0]['metrics'],
    }),
  );
  process.stderr.write(`[train:imaging] rewrote ${path.join(dir, 'MODEL_CARD.md')}\n`);
  process.exit(0);
}
const env = loadConfig(process.env);
const data = path.resolve(args.data ?? path.join(env.sharedDataDir, 'pneumoniamnist', 'pneumoniamnist-trainval.npz'));
const out = path.resolve(args.out);
const configFile = path.resolve(args.config ?? path.join(out, 'training-config.json'));
if (!existsSync(data)) {
  process.stderr.write(`train:imaging: no data at ${data} (set SHARED_DATA_DIR or pass --data PATH.npz)\n`);
  process.exit(2);
}
if (!existsSync(configFile)) {
  process.stderr.write(`train:imaging: no training config at ${configFile} (pass --config FILE)\n`);
  process.exit(2);
}
const config = TrainingConfig.parse({
  ...(JSON.parse(readFileSync(configFile, 'utf8')) as object),
  ...(args.epochs ? { epochs: Number(args.epochs) } : {}),
});

const backend = await initTf('wasm');
const train = loadSplit(data, ['train']);
const val = loadSplit(data, ['val']);
const dataSha256 = createHash('sha256').update(readFileSync(data)).digest('hex');
const positives = (labels: Uint8Array) => labels.reduce((a, b) => a + b, 0);
process.stderr.write(
  `[train:imaging] backend ${backend}; train ${train.count} (${positives(train.labels)} pneumonia), val ${val.count} (${positives(val.labels)} pneumonia), ${train.height}×${train.width}; ${config.epochs} epochs\n`,
);

const started = performance.now();
const result = await trainCnn(train, val, config, (r) => {
  process.stderr.write(
    `[train:imaging] epoch ${String(r.epoch).padStart(3)}/${config.epochs}  lr ${r.learningRate.toExponential(2)}  train loss ${r.trainLoss.toFixed(4)}  val loss ${r.valLoss.toFixed(4)}  val AUC ${r.valAuc.toFixed(4)}  ${r.seconds.toFixed(1)} s\n`,
  );
});
const trainingSeconds = (performance.now() - started) / 1000;

const version = args.version ?? `1.0.0+${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`;
const common = {
  name: 'pneumonia-cnn',
  version,
  label: 'pneumonia',
  description:
    'Pneumonia vs normal on a paediatric chest X-ray (PneumoniaMNIST, 28×28 grey levels). Research model; decision support under human review; not for diagnosis.',
  input: { name: 'image', layout: 'NHWC', height: train.height, width: train.width, channels: 1, range: '0-1' },
  threshold: config.threshold,
  indeterminateBand: config.indeterminateBand,
  intendedUse: 'Decision support under human review; not for diagnosis.',
} as const;
const tfjsMeta: ModelMeta = {
  ...common,
  format: 'tfjs-layers',
  file: 'model.json',
  output: { name: 'logit', kind: 'logit' },
  calibration: result.calibration,
};
const onnxMeta: ModelMeta = {
  ...common,
  format: 'onnx',
  file: 'model.onnx',
  output: { name: 'probability', kind: 'probability' },
  calibration: null,
};

await saveLayersModel(result.model, path.join(out, 'tfjs'));
await writeFile(path.join(out, 'tfjs', 'meta.json'), `${JSON.stringify(tfjsMeta, null, 2)}\n`);
await mkdir(path.join(out, 'onnx'), { recursive: true });
await writeFile(
  path.join(out, 'onnx', 'model.onnx'),
  exportOnnx(result.model, { calibration: result.calibration, inputName: 'image', outputName: 'probability', version }),
);
await writeFile(path.join(out, 'onnx', 'meta.json'), `${JSON.stringify(onnxMeta, null, 2)}\n`);

const metrics = {
  model: 'pneumonia-cnn',
  version,
  date: new Date().toISOString(),
  data: {
    file: path.basename(data),
    sha256: dataSha256,
    train: { n: train.count, pneumonia: positives(train.labels) },
    val: { n: val.count, pneumonia: positives(val.labels) },
  },
  backend,
  trainingSeconds: Math.round(trainingSeconds),
  bestEpoch: result.bestEpoch,
  parameters: result.model.countParams(),
  calibration: result.calibration,
  validation: result.validation,
  history: result.history.map((h) => ({
    ...h,
    learningRate: Number(h.learningRate.toExponential(3)),
    trainLoss: Number(h.trainLoss.toFixed(4)),
    valLoss: Number(h.valLoss.toFixed(4)),
    valAuc: Number(h.valAuc.toFixed(4)),
    seconds: Number(h.seconds.toFixed(1)),
  })),
};
await writeFile(path.join(out, 'metrics.json'), `${JSON.stringify(metrics, null, 2)}\n`);
await writeFile(path.join(out, 'training-config.json'), `${JSON.stringify(config, null, 2)}\n`);
await writeFile(path.join(out, 'MODEL_CARD.md'), modelCard({ meta: tfjsMeta, metrics, config }));
const v = result.validation;
process.stderr.write(
  `[train:imaging] best epoch ${result.bestEpoch}; validation AUC ${v.auc.toFixed(4)}, accuracy ${v.atThreshold.accuracy.toFixed(4)}, sensitivity ${v.atThreshold.sensitivity.toFixed(4)}, specificity ${v.atThreshold.specificity.toFixed(4)}; wrote ${out}\n`,
);
process.stdout.write(
  `${JSON.stringify({ version, bestEpoch: result.bestEpoch, validation: { auc: v.auc, accuracy: v.atThreshold.accuracy, sensitivity: v.atThreshold.sensitivity, specificity: v.atThreshold.specificity } }, null, 2)}\n`,
);
