/**
 * Export of this project's TF.js CNN to ONNX (opset 13), so the same network can be served by
 * onnxruntime, Triton or KServe. Batch normalisation is folded into the preceding convolution,
 * dropout is dropped (inference), and the Platt calibration and sigmoid are appended, so the
 * ONNX model outputs the calibrated probability. Input stays NHWC [N, H, W, 1] like the TF.js
 * model; a Transpose feeds ONNX's NCHW convolutions.
 *
 * Supported layers: InputLayer, Conv2D (stride 1, same/valid padding, linear activation),
 * BatchNormalization, ReLU, MaxPooling2D, GlobalAveragePooling2D, Dropout, Dense (linear).
 */
import onnxProto from 'onnx-proto';
import type { tf } from './tf.js';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INTS = onnx.AttributeProto.AttributeType.INTS;

export interface OnnxExportOptions {
  calibration: { a: number; b: number } | null;
  inputName: string;
  outputName: string;
  version: string;
}

const tensor = (name: string, dims: number[], values: Float32Array) =>
  onnx.TensorProto.create({
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  });

const ints = (name: string, values: number[]) => onnx.AttributeProto.create({ name, type: INTS, ints: values });

/** [kh, kw, ci, co] (TF) → [co, ci, kh, kw] (ONNX). */
function toOihw(kernel: Float32Array, [kh, kw, ci, co]: number[]): Float32Array {
  const out = new Float32Array(kernel.length);
  for (let y = 0; y < kh!; y++)
    for (let x = 0; x < kw!; x++)
      for (let i = 0; i < ci!; i++)
        for (let o = 0; o < co!; o++)
          out[((o * ci! + i) * kh! + y) * kw! + x] = kernel[((y * kw! + x) * ci! + i) * co! + o]!;
  return out;
}

interface LayerConfig {
  padding?: string;
  strides?: number[];
  poolSize?: number[];
  activation?: string;
  epsilon?: number;
  dilationRate?: number | number[];
}

export function exportOnnx(model: tf.LayersModel, options: OnnxExportOptions): Uint8Array {
  const nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  const initializers: InstanceType<typeof onnx.TensorProto>[] = [];
  const inputShape = model.inputs[0]!.shape;
  const [h, w, c] = [inputShape[1]!, inputShape[2]!, inputShape[3]!];
  let current = 'nchw';
  nodes.push(
    onnx.NodeProto.create({
      opType: 'Transpose',
      input: [options.inputName],
      output: [current],
      name: 'to_nchw',
      attribute: [ints('perm', [0, 3, 1, 2])],
    }),
  );
  let n = 0;
  const next = (what: string) => `${what}_${++n}`;
  const layers = model.layers;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as LayerConfig;
    const weights = layer.getWeights().map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
    switch (cls) {
      case 'InputLayer':
      case 'Dropout':
        break;
      case 'Conv2D': {
        if ((cfg.strides ?? [1, 1]).some((s) => s !== 1)) throw new Error(`${layer.name}: only stride 1 is exported`);
        if (cfg.activation && cfg.activation !== 'linear')
          throw new Error(`${layer.name}: fused activations are not exported`);
        const kernel = weights[0]!;
        const [kh, kw, , co] = kernel.shape as [number, number, number, number];
        let w4 = toOihw(kernel.values, kernel.shape);
        let bias = weights[1] ? Float32Array.from(weights[1].values) : new Float32Array(co);
        // Fold a following batch normalisation: w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β.
        const bn = layers[i + 1];
        if (bn?.getClassName() === 'BatchNormalization') {
          const eps = (bn.getConfig() as LayerConfig).epsilon ?? 1e-3;
          const [gamma, beta, mean, variance] = bn.getWeights().map((t) => t.dataSync() as Float32Array);
          const per = w4.length / co;
          w4 = Float32Array.from(w4);
          bias = Float32Array.from(bias);
          for (let o = 0; o < co; o++) {
            const s = gamma![o]! / Math.sqrt(variance![o]! + eps);
            for (let k = 0; k < per; k++) w4[o * per + k]! *= s;
            bias[o] = (bias[o]! - mean![o]!) * s + beta![o]!;
          }
          i++;
        }
        const wName = `${layer.name}_w`;
        const bName = `${layer.name}_b`;
        initializers.push(tensor(wName, [co, w4.length / (co * kh * kw), kh, kw], w4), tensor(bName, [co], bias));
        const pads =
          cfg.padding === 'same'
            ? [
                Math.floor((kh - 1) / 2),
                Math.floor((kw - 1) / 2),
                kh - 1 - Math.floor((kh - 1) / 2),
                kw - 1 - Math.floor((kw - 1) / 2),
              ]
            : [0, 0, 0, 0];
        const output = next('conv');
        nodes.push(
          onnx.NodeProto.create({
            opType: 'Conv',
            name: layer.name,
            input: [current, wName, bName],
            output: [output],
            attribute: [ints('kernel_shape', [kh, kw]), ints('pads', pads), ints('strides', [1, 1])],
          }),
        );
        current = output;
        break;
      }
      case 'ReLU': {
        const output = next('relu');
        nodes.push(onnx.NodeProto.create({ opType: 'Relu', name: layer.name, input: [current], output: [output] }));
        current = output;
        break;
      }
      case 'MaxPooling2D': {
        if (cfg.padding && cfg.padding !== 'valid') throw new Error(`${layer.name}: only valid pooling is exported`);
        const pool = cfg.poolSize ?? [2, 2];
        const output = next('pool');
        nodes.push(
          onnx.NodeProto.create({
            opType: 'MaxPool',
            name: layer.name,
            input: [current],
            output: [output],
            attribute: [ints('kernel_shape', pool), ints('strides', cfg.strides ?? pool)],
          }),
        );
        current = output;
        break;
      }
      case 'GlobalAveragePooling2D': {
        const pooled = next('gap');
        const flat = next('flat');
        nodes.push(
          onnx.NodeProto.create({ opType: 'GlobalAveragePool', name: layer.name, input: [current], output: [pooled] }),
        );
        nodes.push(
          onnx.NodeProto.create({ opType: 'Flatten', name: `${layer.name}_flatten`, input: [pooled], output: [flat] }),
        );
        current = flat;
        break;
      }
      case 'Dense': {
        if (cfg.activation && cfg.activation !== 'linear')
          throw new Error(`${layer.name}: only linear dense layers are exported`);
        const [kernel, bias] = weights;
        initializers.push(
          tensor(`${layer.name}_w`, kernel!.shape, Float32Array.from(kernel!.values)),
          tensor(`${layer.name}_b`, bias!.shape, Float32Array.from(bias!.values)),
        );
        const output = next('dense');
        nodes.push(
          onnx.NodeProto.create({
            opType: 'Gemm',
            name: layer.name,
            input: [current, `${layer.name}_w`, `${layer.name}_b`],
            output: [output],
          }),
        );
        current = output;
        break;
      }
      default:
        throw new Error(`ONNX export: layer ${layer.name} (${cls}) is not supported`);
    }
  }
  const cal = options.calibration ?? { a: 1, b: 0 };
  initializers.push(tensor('platt_a', [], Float32Array.of(cal.a)), tensor('platt_b', [], Float32Array.of(cal.b)));
  nodes.push(
    onnx.NodeProto.create({ opType: 'Mul', name: 'platt_scale', input: [current, 'platt_a'], output: ['scaled'] }),
  );
  nodes.push(
    onnx.NodeProto.create({
      opType: 'Add',
      name: 'platt_shift',
      input: ['scaled', 'platt_b'],
      output: ['calibrated_logit'],
    }),
  );
  nodes.push(
    onnx.NodeProto.create({
      opType: 'Sigmoid',
      name: 'probability',
      input: ['calibrated_logit'],
      output: [options.outputName],
    }),
  );

  const valueInfo = (name: string, dims: (number | string)[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: {
        tensorType: {
          elemType: FLOAT,
          shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
  const graph = onnx.GraphProto.create({
    name: model.name,
    node: nodes,
    initializer: initializers,
    input: [valueInfo(options.inputName, ['N', h, w, c])],
    output: [valueInfo(options.outputName, ['N', 1])],
  });
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'clinical-orchestrator',
    producerVersion: options.version,
    docString:
      'Pneumonia vs normal (PneumoniaMNIST). Output: calibrated probability of pneumonia. Decision support under human review; not for diagnosis.',
    graph,
  });
  return onnx.ModelProto.encode(proto).finish();
}
