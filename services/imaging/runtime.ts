/**
 * Model runtimes behind the imaging service: a TF.js layers model on the WASM backend (this
 * project's own model), or any ONNX model through onnxruntime-node (a site's own validated
 * model). Both take images NHWC [n, h, w, 1] with values in [0, 1] and return the calibrated
 * probability of the positive label, as the model directory's meta.json describes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { sigmoid } from '../../src/imaging/metrics.js';
import { loadLayersModel, ModelLoadError, readModelMeta, type ModelMeta } from '../../src/imaging/model.js';
import { initTf, tf } from '../../src/imaging/tf.js';

export interface ModelRuntime {
  readonly meta: ModelMeta;
  /** e.g. "tfjs-wasm" or "onnxruntime". */
  readonly engine: string;
  /** Calibrated probabilities for `n` images laid out NHWC [n, h, w, 1], values in [0, 1]. */
  predict(images: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

function calibrate(meta: ModelMeta, values: ArrayLike<number>): Float32Array {
  const out = new Float32Array(values.length);
  const cal = meta.calibration ?? { a: 1, b: 0 };
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (meta.output.kind === 'logit') out[i] = sigmoid(cal.a * v + cal.b);
    else if (!meta.calibration) out[i] = v;
    else {
      const p = Math.min(1 - 1e-7, Math.max(1e-7, v));
      out[i] = sigmoid(cal.a * Math.log(p / (1 - p)) + cal.b);
    }
  }
  return out;
}

class TfjsRuntime implements ModelRuntime {
  readonly engine = 'tfjs-wasm';
  constructor(
    readonly meta: ModelMeta,
    private readonly model: tf.LayersModel,
  ) {}

  predict(images: Float32Array, n: number): Promise<Float32Array> {
    const { height: h, width: w } = this.meta.input;
    const values = tf.tidy(() => (this.model.predict(tf.tensor4d(images, [n, h, w, 1])) as tf.Tensor).dataSync());
    return Promise.resolve(calibrate(this.meta, values));
  }

  close(): Promise<void> {
    this.model.dispose();
    return Promise.resolve();
  }
}

class OnnxRuntime implements ModelRuntime {
  readonly engine = 'onnxruntime';
  constructor(
    readonly meta: ModelMeta,
    private readonly session: ort.InferenceSession,
  ) {}

  async predict(images: Float32Array, n: number): Promise<Float32Array> {
    const { height: h, width: w, layout, name } = this.meta.input;
    // One channel: NHWC and NCHW hold the same values in the same order; only the shape differs.
    const dims = layout === 'NHWC' ? [n, h, w, 1] : [n, 1, h, w];
    const result = await this.session.run({ [name]: new ort.Tensor('float32', images, dims) });
    const output = result[this.meta.output.name];
    if (!output) throw new Error(`the ONNX model returned no output named ${this.meta.output.name}`);
    const data = output.data as Float32Array;
    if (data.length !== n) throw new Error(`the ONNX model returned ${data.length} values for ${n} images`);
    return calibrate(this.meta, data);
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

/** Load the model a directory's meta.json describes. Throws ModelLoadError with the reason. */
export async function loadModelRuntime(dir: string): Promise<ModelRuntime> {
  const meta = await readModelMeta(dir);
  const file = path.join(dir, meta.file);
  if (!existsSync(file)) throw new ModelLoadError(`${file}: the model file named in meta.json does not exist`);
  if (meta.format === 'tfjs-layers') {
    await initTf('wasm');
    const model = await loadLayersModel(dir, meta.file);
    const shape = model.inputs[0]?.shape ?? [];
    if (shape[1] !== meta.input.height || shape[2] !== meta.input.width || shape[3] !== 1) {
      throw new ModelLoadError(
        `${file}: model input is [${shape.join(', ')}] but meta.json says [n, ${meta.input.height}, ${meta.input.width}, 1]`,
      );
    }
    return new TfjsRuntime(meta, model);
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(file);
  } catch (err) {
    throw new ModelLoadError(
      `${file}: onnxruntime could not load the model (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (!session.inputNames.includes(meta.input.name) || !session.outputNames.includes(meta.output.name)) {
    await session.release();
    throw new ModelLoadError(
      `${file}: the model has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; meta.json names input ${meta.input.name} and output ${meta.output.name}`,
    );
  }
  return new OnnxRuntime(meta, session);
}
