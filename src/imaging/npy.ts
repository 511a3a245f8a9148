/**
 * NumPy `.npy` / `.npz` reading (the PneumoniaMNIST data format). `.npy`: the magic
 * "\x93NUMPY", a version, a little-endian header length (uint16 for v1, uint32 for v2/v3), an
 * ASCII Python-dict header ({'descr': '<f4', 'fortran_order': False, 'shape': (n, 28, 28)}),
 * then the raw array in C order. `.npz` is a zip of `.npy` files (unzipped with fflate).
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { AppError } from '../errors.js';

export class NpyError extends AppError {
  declare readonly code: 'NPY_FORMAT';
  constructor(message: string) {
    super('NPY_FORMAT', message, false);
  }
}

export interface NpyArray {
  dtype: 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'bool';
  shape: number[];
  /** Values in C order (int64 arrays are converted to numbers). */
  data: Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const DTYPES: Record<string, { dtype: NpyArray['dtype']; bytes: number }> = {
  '|u1': { dtype: 'uint8', bytes: 1 },
  '<u1': { dtype: 'uint8', bytes: 1 },
  '|b1': { dtype: 'bool', bytes: 1 },
  '|i1': { dtype: 'int8', bytes: 1 },
  '<u2': { dtype: 'uint16', bytes: 2 },
  '<i2': { dtype: 'int16', bytes: 2 },
  '<i4': { dtype: 'int32', bytes: 4 },
  '<i8': { dtype: 'int64', bytes: 8 },
  '<f4': { dtype: 'float32', bytes: 4 },
  '<f8': { dtype: 'float64', bytes: 8 },
};

export function parseNpy(buf: Uint8Array, name = 'array'): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (buf.length < 10 || magic.some((b, i) => buf[i] !== b))
    throw new NpyError(`${name}: not a .npy array (bad magic)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const major = buf[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder('latin1').decode(buf.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined)
    throw new NpyError(`${name}: unreadable header ${JSON.stringify(header.slice(0, 120))}`);
  if (fortran === 'True') throw new NpyError(`${name}: Fortran-order arrays are not supported`);
  const type = DTYPES[descr];
  if (!type) throw new NpyError(`${name}: unsupported dtype ${descr}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new NpyError(`${name}: bad shape (${shapeText})`);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLength;
  if (buf.length - offset < count * type.bytes)
    throw new NpyError(`${name}: truncated (${buf.length - offset} bytes for ${count} × ${type.bytes})`);
  // Copy into an aligned buffer: the payload offset inside a zip entry need not be aligned.
  const raw = buf.slice(offset, offset + count * type.bytes).buffer;
  const data = (() => {
    switch (type.dtype) {
      case 'uint8':
      case 'bool':
        return new Uint8Array(raw);
      case 'int8':
        return new Int8Array(raw);
      case 'uint16':
        return new Uint16Array(raw);
      case 'int16':
        return new Int16Array(raw);
      case 'int32':
        return new Int32Array(raw);
      case 'int64':
        return Float64Array.from(new BigInt64Array(raw), (v) => Number(v));
      case 'float32':
        return new Float32Array(raw);
      case 'float64':
        return new Float64Array(raw);
    }
  })();
  return { dtype: type.dtype, shape, data };
}

/** Every array of an `.npz` file, by name without `.npy`. */
export function readNpz(file: string): Record<string, NpyArray> {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(readFileSync(file));
  } catch (err) {
    throw new NpyError(`${file}: not a readable .npz (zip) file: ${err instanceof Error ? err.message : String(err)}`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, bytes] of Object.entries(entries))
    if (name.endsWith('.npy')) out[name.slice(0, -4)] = parseNpy(bytes, name);
  return out;
}

/** Images and binary labels of one split: `<split>_images` (n, h, w) uint8 and `<split>_labels` (n, 1). */
export interface ImageSplit {
  split: string;
  count: number;
  height: number;
  width: number;
  images: Uint8Array;
  labels: Uint8Array;
}

export function loadSplit(file: string, preferred: readonly string[] = ['test', 'val', 'train']): ImageSplit {
  const arrays = readNpz(file);
  const split = preferred.find((s) => arrays[`${s}_images`] && arrays[`${s}_labels`]);
  if (!split)
    throw new NpyError(
      `${file}: no <split>_images/<split>_labels pair for ${preferred.join(', ')} (found ${Object.keys(arrays).join(', ') || 'nothing'})`,
    );
  const images = arrays[`${split}_images`]!;
  const labels = arrays[`${split}_labels`]!;
  if (images.shape.length !== 3 || images.dtype !== 'uint8')
    throw new NpyError(
      `${file}: ${split}_images must be uint8 (n, h, w), got ${images.dtype} (${images.shape.join(', ')})`,
    );
  if (labels.data.length !== images.shape[0])
    throw new NpyError(`${file}: ${labels.data.length} labels for ${images.shape[0]} images`);
  const bin = Uint8Array.from(labels.data as ArrayLike<number>, (v) => {
    if (v !== 0 && v !== 1) throw new NpyError(`${file}: labels must be 0 or 1, got ${v}`);
    return v;
  });
  return {
    split,
    count: images.shape[0],
    height: images.shape[1]!,
    width: images.shape[2]!,
    images: images.data as Uint8Array,
    labels: bin,
  };
}
