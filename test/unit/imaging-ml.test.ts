/**
 * The model-building pieces: metrics (AUC with ties, confusion, Youden, Platt scaling, ECE), the
 * WASM Conv2DBackpropFilter kernel against the CPU backend's own kernel, training on a small
 * separable data set, and the ONNX export against TF.js through onnxruntime.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { prng } from '../../src/imaging/augment.js';
import {
  binaryMetrics,
  expectedCalibrationError,
  plattScaling,
  rocAuc,
  sigmoid,
  youdenThreshold,
} from '../../src/imaging/metrics.js';
import { buildCnn, predictLogits } from '../../src/imaging/model.js';
import type { ImageSplit } from '../../src/imaging/npy.js';
import { exportOnnx } from '../../src/imaging/onnx-export.js';
import { initTf, tf } from '../../src/imaging/tf.js';
import { trainCnn, type TrainingConfig } from '../../src/imaging/train.js';

describe('metrics', () => {
  it('AUC counts tied scores as half, and is undefined with one class', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(rocAuc([0.5, 0.5, 0.5, 0.9], [0, 1, 0, 1])).toBe(0.75);
    expect(rocAuc([0.9, 0.8, 0.1], [0, 0, 1])).toBe(0);
    expect(() => rocAuc([0.1, 0.2], [1, 1])).toThrow(/both classes/);
  });

  it('counts the confusion matrix at a threshold, and Youden picks the best cut', () => {
    const m = binaryMetrics([0.2, 0.6, 0.4, 0.9, 0.7], [0, 0, 1, 1, 1], 0.5);
    expect(m.confusion).toEqual({ tp: 2, fp: 1, tn: 1, fn: 1 });
    expect(m.accuracy).toBeCloseTo(0.6);
    expect(m.sensitivity).toBeCloseTo(2 / 3);
    expect(m.specificity).toBeCloseTo(0.5);
    expect(youdenThreshold([0.1, 0.2, 0.3, 0.7, 0.8], [0, 0, 0, 1, 1])).toBe(0.7);
  });

  it('Platt scaling recovers the generating calibration and lowers the calibration error', () => {
    const random = prng(7);
    const logits: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const z = (random() - 0.5) * 12;
      logits.push(z);
      labels.push(random() < sigmoid(0.5 * z - 0.8) ? 1 : 0);
    }
    const { a, b } = plattScaling(logits, labels);
    expect(a).toBeCloseTo(0.5, 1);
    expect(b).toBeCloseTo(-0.8, 1);
    const before = expectedCalibrationError(logits.map(sigmoid), labels);
    const after = expectedCalibrationError(
      logits.map((z) => sigmoid(a * z + b)),
      labels,
    );
    expect(after).toBeLessThan(0.02);
    expect(before).toBeGreaterThan(0.1);
  });

  it('Platt scaling stays finite on perfectly separated, extreme logits', () => {
    const { a, b } = plattScaling([-40, -30, -20, 20, 30, 40], [0, 0, 0, 1, 1, 1]);
    expect(Number.isFinite(a) && Number.isFinite(b)).toBe(true);
    expect(sigmoid(a * 20 + b)).toBeGreaterThan(0.7);
    expect(sigmoid(a * -20 + b)).toBeLessThan(0.3);
  });
});

const values = (n: number, seed: number) => {
  const random = prng(seed);
  return Float32Array.from({ length: n }, () => random() * 2 - 1);
};

describe('TensorFlow.js on WASM', () => {
  it('the WASM Conv2DBackpropFilter kernel matches the CPU backend for same and valid padding', async () => {
    const xs = values(3 * 9 * 7 * 4, 1);
    const ws = values(3 * 3 * 4 * 5, 2);
    const grads = async (backend: 'cpu' | 'wasm', pad: 'same' | 'valid') => {
      await initTf(backend);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
        tf.sum(tf.square(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad))),
      )([tf.tensor4d(xs, [3, 9, 7, 4]), tf.tensor4d(ws, [3, 3, 4, 5])]);
      return [dx!.dataSync().slice(), dw!.dataSync().slice()];
    };
    try {
      for (const pad of ['same', 'valid'] as const) {
        const cpu = await grads('cpu', pad);
        const wasm = await grads('wasm', pad);
        for (let k = 0; k < 2; k++) {
          const scale = Math.max(...cpu[k]!.map(Math.abs));
          const diff = Math.max(...cpu[k]!.map((v, i) => Math.abs(v - wasm[k]![i]!)));
          expect(diff / scale, `${pad} ${k === 0 ? 'dx' : 'dW'}`).toBeLessThan(1e-5);
        }
      }
    } finally {
      await initTf('wasm');
    }
  });

  it('trains the CNN on a small separable set and selects, calibrates and reports on validation', async () => {
    await initTf('wasm');
    const random = prng(3);
    const make = (n: number, name: string): ImageSplit => {
      const images = new Uint8Array(n * 16 * 16);
      const labels = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        labels[i] = i % 2;
        // Positives have a bright blob in the middle; negatives are noise.
        for (let y = 0; y < 16; y++)
          for (let x = 0; x < 16; x++)
            images[i * 256 + y * 16 + x] = Math.min(
              255,
              random() * 80 + (labels[i] && Math.hypot(x - 8, y - 8) < 4 ? 150 : 0),
            );
      }
      return { split: name, count: n, height: 16, width: 16, images, labels };
    };
    const config: TrainingConfig = {
      model: { filters: [4, 4, 8], dropout: 0, l2: 0, seed: 1 },
      augment: { rotateDegrees: 5, scale: 0.05, shiftPixels: 1, flip: true, brightness: 0.02, contrast: 0.05 },
      epochs: 4,
      batchSize: 16,
      learningRate: 0.01,
      minLearningRateFactor: 0.1,
      threshold: 0.5,
      indeterminateBand: [0.25, 0.75],
    };
    const epochs: number[] = [];
    const result = await trainCnn(make(96, 'train'), make(48, 'val'), config, (r) => epochs.push(r.valAuc));
    expect(epochs).toHaveLength(4);
    expect(result.history[0]!.learningRate).toBeCloseTo(0.01);
    expect(result.history[3]!.learningRate).toBeCloseTo(0.001);
    expect(result.validation.auc).toBeGreaterThan(0.95);
    expect(result.validation.auc).toBeCloseTo(Math.max(...epochs), 6);
    expect(result.validation.atThreshold.n).toBe(48);
    result.model.dispose();
  });
});

describe('ONNX export', () => {
  it('gives the same calibrated probabilities through onnxruntime as TF.js, with batch norm folded', async () => {
    await initTf('wasm');
    const model = buildCnn({ filters: [3, 4, 5], dropout: 0.5, l2: 0, seed: 11 }, 12, 10);
    // Non-trivial batch-norm statistics, so folding is really exercised.
    const names = model.weights.map((v) => v.name);
    expect(names.filter((n) => n.includes('moving_variance'))).toHaveLength(5);
    model.setWeights(
      model
        .getWeights()
        .map((w, i) =>
          names[i]!.includes('moving_variance')
            ? tf.add(tf.abs(tf.tensor(values(w.size, i), w.shape)), 0.5)
            : tf.tensor(values(w.size, i + 100), w.shape),
        ),
    );
    const calibration = { a: 1.7, b: -0.3 };
    const onnx = exportOnnx(model, { calibration, inputName: 'image', outputName: 'probability', version: 'test' });
    const session = await ort.InferenceSession.create(onnx);
    expect(session.inputNames).toEqual(['image']);
    expect(session.outputNames).toEqual(['probability']);
    const n = 6;
    const x = Float32Array.from(values(n * 12 * 10, 5), (v) => (v + 1) / 2);
    const logits = predictLogits(model, x, n, 12, 10);
    const out = await session.run({ image: new ort.Tensor('float32', x, [n, 12, 10, 1]) });
    const p = out.probability!.data as Float32Array;
    expect(out.probability!.dims).toEqual([n, 1]);
    for (let i = 0; i < n; i++) expect(p[i]).toBeCloseTo(sigmoid(calibration.a * logits[i]! + calibration.b), 5);
    await session.release();
    model.dispose();
  });
});
