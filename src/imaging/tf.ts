/**
 * TensorFlow.js set-up for training and serving on CPU without native binaries: the WASM
 * backend (XNNPACK, SIMD), which ships inside its npm package.
 *
 * The WASM backend has no `Conv2DBackpropFilter` kernel, so training a convolution fails there.
 * `registerConv2DBackpropFilter` adds one, composed of the backend's own kernels (im2col): pad
 * the input, lay the kh·kw shifted views side by side ([b·ho·wo, kh·kw·ci]), and multiply by the
 * output gradient ([b·ho·wo, co]) transposed: dW = patchesᵀ · dy, reshaped to [kh, kw, ci, co].
 * Stride 1 and dilation 1, NHWC, same or valid padding: all this project's models use.
 * `test/unit/imaging-tf.test.ts` checks it against the CPU backend's kernel.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

export type TfBackend = 'wasm' | 'cpu';

interface Info {
  dataId: object;
  shape: number[];
  dtype: string;
}

interface Conv2DBackpropFilterAttrs {
  strides: number | [number, number];
  pad: 'same' | 'valid' | number;
  dataFormat: string;
  dilations?: number | [number, number];
  filterShape: [number, number, number, number];
}

let registered = false;

export function registerConv2DBackpropFilter(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: Info; dy: Info };
      const { strides, pad, dataFormat, dilations, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
      const one = (v: number | [number, number] | undefined) =>
        v === undefined || (Array.isArray(v) ? v.every((n) => n === 1) : v === 1);
      if (!one(strides) || !one(dilations) || dataFormat !== 'NHWC' || (pad !== 'same' && pad !== 'valid')) {
        throw new Error(
          'Conv2DBackpropFilter (wasm): only stride 1, dilation 1, NHWC and same/valid padding are supported',
        );
      }
      const run = (
        name: string,
        kernelInputs: Record<string, unknown>,
        kernelAttrs: Record<string, unknown> = {},
      ): Info => {
        const kernel = tf.getKernel(name, 'wasm');
        if (!kernel) throw new Error(`wasm kernel ${name} missing`);
        return kernel.kernelFunc({ inputs: kernelInputs as never, backend, attrs: kernelAttrs as never }) as Info;
      };
      const temporaries: Info[] = [];
      const keep = (info: Info) => (temporaries.push(info), info);
      try {
        const [kh, kw, ci, co] = filterShape;
        const [b, ho, wo] = dy.shape as [number, number, number, number];
        const top = pad === 'same' ? Math.floor((kh - 1) / 2) : 0;
        const left = pad === 'same' ? Math.floor((kw - 1) / 2) : 0;
        const padded =
          pad === 'same'
            ? keep(
                run(
                  'PadV2',
                  { x },
                  {
                    paddings: [
                      [0, 0],
                      [top, kh - 1 - top],
                      [left, kw - 1 - left],
                      [0, 0],
                    ],
                    constantValue: 0,
                  },
                ),
              )
            : x;
        const views: Info[] = [];
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++)
            views.push(keep(run('Slice', { x: padded }, { begin: [0, i, j, 0], size: [b, ho, wo, ci] })));
        const patches = keep(run('Concat', views as never, { axis: 3 }));
        const rows = b * ho * wo;
        const a = keep(run('Reshape', { x: patches }, { shape: [1, rows, kh * kw * ci] }));
        const g = keep(run('Reshape', { x: dy }, { shape: [1, rows, co] }));
        const product = keep(run('BatchMatMul', { a, b: g }, { transposeA: true, transposeB: false }));
        return run('Reshape', { x: product }, { shape: [kh, kw, ci, co] }) as never;
      } finally {
        for (const t of temporaries) (backend as { disposeData(dataId: object): void }).disposeData(t.dataId);
      }
    },
  });
}

/** Select the backend (WASM by default) and wait until it is ready. Returns the backend in use. */
export async function initTf(backend: TfBackend = 'wasm'): Promise<TfBackend> {
  registerConv2DBackpropFilter();
  if (tf.getBackend() !== backend) {
    const ok = await tf.setBackend(backend);
    if (!ok) throw new Error(`TensorFlow.js backend ${backend} could not be initialised`);
  }
  await tf.ready();
  return tf.getBackend() as TfBackend;
}
