/**
 * The imaging model: its metadata (what a served model is, how its input is prepared, how its
 * output is calibrated and read), the small chest X-ray CNN this project trains, and reading
 * and writing TF.js layers models as files without the native tfjs-node package.
 *
 * A model directory holds `meta.json` (ModelMeta) and the file it names: `model.json` +
 * `weights.bin` (TF.js layers) or `model.onnx`.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { tf } from './tf.js';
import { AppError } from '../errors.js';

export const ModelMeta = z.object({
  /** The name served at /v2/models/{name}. */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ., _ or -'),
  version: z.string().min(1).max(64),
  /** What a positive output means, e.g. "pneumonia". */
  label: z.string().min(1).max(100),
  description: z.string().max(2000).default(''),
  format: z.enum(['tfjs-layers', 'onnx']),
  /** The model file, relative to the directory of meta.json. */
  file: z.string().min(1),
  input: z.object({
    name: z.string().min(1),
    layout: z.enum(['NHWC', 'NCHW']),
    height: z.number().int().min(1).max(4096),
    width: z.number().int().min(1).max(4096),
    channels: z.literal(1),
    /** Pixel values the model expects: grey levels scaled to [0, 1] (0 = black). */
    range: z.literal('0-1'),
  }),
  output: z.object({
    name: z.string().min(1),
    /** `logit`: the service applies the calibration and a sigmoid; `probability`: served as is. */
    kind: z.enum(['logit', 'probability']),
  }),
  /** Platt scaling fitted on the validation split: p = σ(a·logit + b). Null: the output is used as is. */
  calibration: z.object({ method: z.literal('platt'), a: z.number(), b: z.number() }).nullable(),
  /** Decision threshold on the (calibrated) probability. */
  threshold: z.number().min(0).max(1),
  /** Probabilities inside [low, high] are reported as indeterminate. */
  indeterminateBand: z
    .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
    .refine(([lo, hi]) => lo <= hi, 'low must not exceed high'),
  intendedUse: z.string().default('Decision support under human review; not for diagnosis.'),
});
export type ModelMeta = z.infer<typeof ModelMeta>;

export class ModelLoadError extends AppError {
  declare readonly code: 'MODEL_LOAD_FAILED';
  constructor(message: string) {
    super('MODEL_LOAD_FAILED', message, false);
  }
}

/** Read and validate `meta.json` of a model directory. */
export async function readModelMeta(dir: string): Promise<ModelMeta> {
  const file = path.join(dir, 'meta.json');
  let raw: string;
  try {
    raw = await readFile(file, 'utf8');
  } catch (err) {
    throw new ModelLoadError(
      `${file}: cannot read model metadata (${err instanceof Error ? err.message : String(err)}); a model directory needs meta.json beside the model file`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ModelLoadError(`${file}: not valid JSON`);
  }
  const parsed = ModelMeta.safeParse(json);
  if (!parsed.success)
    throw new ModelLoadError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  if (path.isAbsolute(parsed.data.file) || parsed.data.file.split(/[\\/]/).includes('..'))
    throw new ModelLoadError(`${file}: "file" must be a name inside the model directory`);
  return parsed.data;
}

// ---------------------------------------------------------------------------------------------
// The architecture.

export const CnnConfig = z.object({
  /** Filters of the three convolution blocks. */
  filters: z.tuple([z.number().int().min(1), z.number().int().min(1), z.number().int().min(1)]),
  dropout: z.number().min(0).max(0.9),
  /** L2 weight decay on convolution and dense kernels. */
  l2: z.number().min(0),
  seed: z.number().int(),
});
export type CnnConfig = z.infer<typeof CnnConfig>;

/**
 * Three blocks of 3×3 convolutions with batch normalisation and ReLU (two convolutions in the
 * first two blocks, each followed by 2×2 max pooling), global average pooling, dropout and one
 * logit. Input NHWC [n, 28, 28, 1] in [0, 1].
 */
export function buildCnn(config: CnnConfig, height = 28, width = 28): tf.LayersModel {
  const [f1, f2, f3] = config.filters;
  let seed = config.seed;
  const init = () => tf.initializers.heNormal({ seed: seed++ });
  const reg = config.l2 > 0 ? tf.regularizers.l2({ l2: config.l2 }) : undefined;
  const conv = (filters: number, name: string) =>
    tf.layers.conv2d({
      name,
      filters,
      kernelSize: 3,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(),
      kernelRegularizer: reg,
    });
  const input = tf.input({ shape: [height, width, 1], name: 'image' });
  let x = input;
  const block = (filters: number, convs: number, name: string, pool: boolean) => {
    for (let i = 1; i <= convs; i++) {
      x = conv(filters, `${name}_conv${i}`).apply(x) as tf.SymbolicTensor;
      x = tf.layers.batchNormalization({ name: `${name}_bn${i}` }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.reLU({ name: `${name}_relu${i}` }).apply(x) as tf.SymbolicTensor;
    }
    if (pool) x = tf.layers.maxPooling2d({ name: `${name}_pool`, poolSize: 2 }).apply(x) as tf.SymbolicTensor;
  };
  block(f1, 2, 'block1', true);
  block(f2, 2, 'block2', true);
  block(f3, 1, 'block3', false);
  x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dropout({ name: 'dropout', rate: config.dropout, seed: seed++ }).apply(x) as tf.SymbolicTensor;
  const logit = tf.layers
    .dense({
      name: 'logit',
      units: 1,
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
      kernelRegularizer: reg,
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logit, name: 'pneumonia_cnn' });
}

// ---------------------------------------------------------------------------------------------
// TF.js layers models as files (model.json + weights.bin), without tfjs-node.

const concatBuffers = (data: ArrayBuffer | ArrayBuffer[]): ArrayBuffer => tf.io.CompositeArrayBuffer.join(data);

export async function saveLayersModel(model: tf.LayersModel, dir: string, modelFile = 'model.json'): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      if (!artifacts.weightData || !artifacts.weightSpecs) throw new Error('model has no weights to save');
      const weights = concatBuffers(artifacts.weightData);
      const manifest = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFile(path.join(dir, modelFile), `${JSON.stringify(manifest)}\n`);
      await writeFile(path.join(dir, 'weights.bin'), new Uint8Array(weights));
      return {
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength },
      };
    }),
  );
}

const LayersManifest = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z
    .array(
      z.object({
        paths: z.array(z.string()),
        weights: z.array(z.object({ name: z.string(), shape: z.array(z.number()), dtype: z.string() }).passthrough()),
      }),
    )
    .min(1),
});

export async function loadLayersModel(dir: string, modelFile = 'model.json'): Promise<tf.LayersModel> {
  const file = path.join(dir, modelFile);
  let manifest: z.infer<typeof LayersManifest>;
  try {
    manifest = LayersManifest.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    throw new ModelLoadError(`${file}: not a TF.js layers model (${err instanceof Error ? err.message : String(err)})`);
  }
  const specs = manifest.weightsManifest.flatMap((g) => g.weights);
  const buffers: ArrayBuffer[] = [];
  for (const group of manifest.weightsManifest) {
    for (const p of group.paths) {
      if (path.isAbsolute(p) || p.split(/[\\/]/).includes('..'))
        throw new ModelLoadError(`${file}: weight path ${p} leaves the model directory`);
      const bytes = await readFile(path.join(dir, p)).catch((err: unknown) => {
        throw new ModelLoadError(
          `${file}: cannot read weights ${p} (${err instanceof Error ? err.message : String(err)})`,
        );
      });
      buffers.push(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    }
  }
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelTopology,
      weightSpecs: specs as tf.io.WeightsManifestEntry[],
      weightData: concatBuffers(buffers),
    }),
  );
}

/** Read a model's logits for a batch of images (NHWC, values in [0, 1]) in chunks. */
export function predictLogits(
  model: tf.LayersModel,
  images: Float32Array,
  count: number,
  height: number,
  width: number,
  batch = 256,
): Float32Array {
  const out = new Float32Array(count);
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const values = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * height * width, (start + n) * height * width), [
        n,
        height,
        width,
        1,
      ]);
      return (model.predict(x) as tf.Tensor).dataSync();
    });
    out.set(values, start);
  }
  return out;
}
