/**
 * Training of the chest X-ray CNN: fit on the train split with augmentation, choose the epoch
 * with the best validation AUC, then calibrate on the validation split (Platt scaling) and
 * fix the threshold and indeterminate band. Nothing here looks at a test split.
 */
import { z } from 'zod';
import { AugmentConfig, augmentImage, prng, shuffled } from './augment.js';
import { binaryMetrics, expectedCalibrationError, plattScaling, rocAuc, sigmoid, youdenThreshold } from './metrics.js';
import { buildCnn, CnnConfig, predictLogits } from './model.js';
import type { ImageSplit } from './npy.js';
import { tf } from './tf.js';

export const TrainingConfig = z.object({
  model: CnnConfig,
  augment: AugmentConfig,
  epochs: z.number().int().min(1).max(500),
  batchSize: z.number().int().min(1).max(4096),
  learningRate: z.number().positive(),
  /** Cosine decay to learningRate × minLearningRateFactor over the epochs. */
  minLearningRateFactor: z.number().min(0).max(1),
  /** The decision threshold on the calibrated probability. */
  threshold: z.number().min(0).max(1),
  /** Calibrated probabilities in this band are reported as indeterminate. */
  indeterminateBand: z.tuple([z.number(), z.number()]),
});
export type TrainingConfig = z.infer<typeof TrainingConfig>;

export interface EpochReport {
  epoch: number;
  learningRate: number;
  trainLoss: number;
  valLoss: number;
  valAuc: number;
  seconds: number;
}

export interface TrainingResult {
  model: tf.LayersModel;
  bestEpoch: number;
  history: EpochReport[];
  calibration: { method: 'platt'; a: number; b: number };
  validation: {
    auc: number;
    atThreshold: ReturnType<typeof binaryMetrics>;
    youdenThreshold: number;
    calibrationError: { before: number; after: number };
    indeterminate: { fraction: number; accuracyOutsideBand: number };
  };
}

/** Images as floats in [0, 1]. */
export function toUnitFloats(images: Uint8Array): Float32Array {
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) out[i] = images[i]! / 255;
  return out;
}

const bce = (logits: Float32Array, labels: Uint8Array) => {
  let loss = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = logits[i]!;
    // log(1 + e^-|z|) + max(z, 0) − z·y, numerically stable.
    loss += Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0) - z * labels[i]!;
  }
  return loss / logits.length;
};

/** Evaluate calibrated probabilities for the threshold and band. */
export function bandReport(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  threshold: number,
  band: readonly [number, number],
) {
  let inBand = 0;
  let outside = 0;
  let correctOutside = 0;
  for (let i = 0; i < probabilities.length; i++) {
    const p = probabilities[i]!;
    if (p >= band[0] && p <= band[1]) inBand++;
    else {
      outside++;
      if ((p >= threshold ? 1 : 0) === labels[i]) correctOutside++;
    }
  }
  return { fraction: inBand / probabilities.length, accuracyOutsideBand: outside ? correctOutside / outside : 0 };
}

export async function trainCnn(
  train: ImageSplit,
  val: ImageSplit,
  config: TrainingConfig,
  onEpoch: (report: EpochReport) => void = () => undefined,
): Promise<TrainingResult> {
  const { height: h, width: w } = train;
  if (val.height !== h || val.width !== w)
    throw new Error(`train images are ${h}×${w} but validation images are ${val.height}×${val.width}`);
  const xTrain = toUnitFloats(train.images);
  const xVal = toUnitFloats(val.images);
  const random = prng(config.model.seed);
  const model = buildCnn(config.model, h, w);
  const optimizer = tf.train.adam(config.learningRate);
  model.compile({ optimizer, loss: tf.losses.sigmoidCrossEntropy });
  const setRate = (lr: number) => ((optimizer as unknown as { learningRate: number }).learningRate = lr);

  const pixels = h * w;
  const history: EpochReport[] = [];
  let best: { epoch: number; auc: number; loss: number; weights: tf.Tensor[] } | null = null;
  const batchX = new Float32Array(config.batchSize * pixels);
  const batchY = new Float32Array(config.batchSize);

  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    const started = performance.now();
    const progress = (epoch - 1) / Math.max(1, config.epochs - 1);
    const lr =
      config.learningRate *
      (config.minLearningRateFactor + (1 - config.minLearningRateFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
    setRate(lr);
    const order = shuffled(train.count, random);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start + config.batchSize <= train.count; start += config.batchSize) {
      for (let k = 0; k < config.batchSize; k++) {
        const i = order[start + k]!;
        augmentImage(
          xTrain.subarray(i * pixels, (i + 1) * pixels),
          batchX.subarray(k * pixels, (k + 1) * pixels),
          h,
          w,
          config.augment,
          random,
        );
        batchY[k] = train.labels[i]!;
      }
      const x = tf.tensor4d(batchX, [config.batchSize, h, w, 1]);
      const y = tf.tensor2d(batchY, [config.batchSize, 1]);
      const value = await model.trainOnBatch(x, y);
      tf.dispose([x, y]);
      lossSum += Array.isArray(value) ? value[0]! : value;
      batches++;
    }
    const valLogits = predictLogits(model, xVal, val.count, h, w);
    const report: EpochReport = {
      epoch,
      learningRate: lr,
      trainLoss: lossSum / Math.max(1, batches),
      valLoss: bce(valLogits, val.labels),
      valAuc: rocAuc(valLogits, val.labels),
      seconds: (performance.now() - started) / 1000,
    };
    history.push(report);
    onEpoch(report);
    if (
      !best ||
      report.valAuc > best.auc + 1e-9 ||
      (Math.abs(report.valAuc - best.auc) <= 1e-9 && report.valLoss < best.loss)
    ) {
      if (best) tf.dispose(best.weights);
      best = { epoch, auc: report.valAuc, loss: report.valLoss, weights: model.getWeights().map((t) => t.clone()) };
    }
  }
  model.setWeights(best!.weights);
  tf.dispose(best!.weights);

  const logits = predictLogits(model, xVal, val.count, h, w);
  const calibration = { method: 'platt' as const, ...plattScaling(logits, val.labels) };
  const probabilities = Float64Array.from(logits, (z) => sigmoid(calibration.a * z + calibration.b));
  const raw = Float64Array.from(logits, sigmoid);
  return {
    model,
    bestEpoch: best!.epoch,
    history,
    calibration,
    validation: {
      auc: rocAuc(probabilities, val.labels),
      atThreshold: binaryMetrics(probabilities, val.labels, config.threshold),
      youdenThreshold: youdenThreshold(probabilities, val.labels),
      calibrationError: {
        before: expectedCalibrationError(raw, val.labels),
        after: expectedCalibrationError(probabilities, val.labels),
      },
      indeterminate: bandReport(probabilities, val.labels, config.threshold, config.indeterminateBand),
    },
  };
}
