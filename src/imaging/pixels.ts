/**
 * Images into model input: decode DICOM, PNG or JPEG into one grey-level plane with values in
 * [0, 1] (0 = black), then resize it to the model's input size by area averaging.
 *
 * Limits are checked before any pixel is decoded (bytes, width × height from the header), so
 * an oversized or malicious image is refused without allocating its pixels. Every refusal is an
 * ImageError with a stable code.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeDicom } from './dicom.js';
import {
  checkPixels,
  ImageError,
  DEFAULT_IMAGE_LIMITS,
  type DecodedImage,
  type ImageLimits,
  type GreyImage,
} from './image.js';

export type ImageFormat = DecodedImage['format'];

/** The format from the bytes themselves (DICOM preamble + "DICM", PNG or JPEG signature). */
export function sniffFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d)
    return 'dicom';
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b))
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

const FORMAT_OF_TYPE: Record<string, ImageFormat> = {
  'application/dicom': 'dicom',
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
};

/** Decode an image; `contentType`, when given, must agree with the bytes. */
export function decodeImage(
  bytes: Uint8Array,
  contentType: string | null = null,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
): DecodedImage {
  if (bytes.length === 0) throw new ImageError('IMAGE_EMPTY', 'the image is empty');
  if (bytes.length > limits.maxBytes)
    throw new ImageError('IMAGE_TOO_LARGE', `the image is ${bytes.length} bytes; the limit is ${limits.maxBytes}`);
  const sniffed = sniffFormat(bytes);
  const declaredType = contentType?.split(';')[0]?.trim().toLowerCase() ?? null;
  const declared = declaredType && declaredType !== 'application/octet-stream' ? FORMAT_OF_TYPE[declaredType] : null;
  if (declared === undefined)
    throw new ImageError(
      'IMAGE_UNSUPPORTED',
      `content type ${declaredType} is not supported (use application/dicom, image/png or image/jpeg)`,
    );
  if (!sniffed)
    throw new ImageError(
      'IMAGE_MALFORMED',
      `the bytes are not a DICOM Part 10 file, PNG or JPEG${declared ? ` (declared ${declaredType})` : ''}`,
    );
  if (declared && declared !== sniffed)
    throw new ImageError('IMAGE_MALFORMED', `declared ${declaredType} but the bytes are ${sniffed}`);
  switch (sniffed) {
    case 'dicom':
      return { format: 'dicom', ...decodeDicom(bytes, limits) };
    case 'png':
      return { format: 'png', ...decodePng(bytes, limits) };
    case 'jpeg':
      return { format: 'jpeg', ...decodeJpeg(bytes, limits) };
  }
}

/** Luminance (Rec. 601) of interleaved 8-bit samples, `channels` per pixel, scaled to [0, 1]. */
function greyFromInterleaved(data: Uint8Array, width: number, height: number, channels: number): Float32Array {
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    const o = i * channels;
    out[i] = channels >= 3 ? (0.299 * data[o]! + 0.587 * data[o + 1]! + 0.114 * data[o + 2]!) / 255 : data[o]! / 255;
  }
  return out;
}

function decodePng(bytes: Uint8Array, limits: ImageLimits): { image: GreyImage; steps: string[] } {
  if (bytes.length < 24) throw new ImageError('IMAGE_MALFORMED', 'PNG: truncated header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  checkPixels(view.getUint32(16), view.getUint32(20), limits);
  let png: PNG;
  try {
    // pngjs expands palettes and low bit depths and scales 16-bit samples to 8 bits (RGBA).
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new ImageError('IMAGE_MALFORMED', `PNG: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    image: { width: png.width, height: png.height, data: greyFromInterleaved(png.data, png.width, png.height, 4) },
    steps: ['png', 'luminance'],
  };
}

function decodeJpeg(bytes: Uint8Array, limits: ImageLimits): { image: GreyImage; steps: string[] } {
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: limits.maxPixels / 1e6,
      maxMemoryUsageInMB: Math.ceil((limits.maxPixels * 8) / 1e6),
    });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/maxResolutionInMP|maxMemoryUsageInMB/.test(message))
      throw new ImageError('IMAGE_TOO_LARGE', `JPEG: ${message}`);
    throw new ImageError('IMAGE_MALFORMED', `JPEG: ${message}`);
  }
  checkPixels(raw.width, raw.height, limits);
  return {
    image: { width: raw.width, height: raw.height, data: greyFromInterleaved(raw.data, raw.width, raw.height, 4) },
    steps: ['jpeg', 'luminance'],
  };
}

/**
 * Resize by area averaging (each output pixel is the mean of the input area it covers, with
 * fractional edges weighted), which is what downsampling to 28×28 needs; bilinear when
 * upsampling.
 */
export function resizeGrey(src: GreyImage, width: number, height: number): GreyImage {
  if (src.width === width && src.height === height) return src;
  const out = new Float32Array(width * height);
  if (width > src.width || height > src.height) {
    for (let y = 0; y < height; y++) {
      const sy = Math.min(src.height - 1, Math.max(0, ((y + 0.5) * src.height) / height - 0.5));
      const y0 = Math.floor(sy);
      const y1 = Math.min(src.height - 1, y0 + 1);
      for (let x = 0; x < width; x++) {
        const sx = Math.min(src.width - 1, Math.max(0, ((x + 0.5) * src.width) / width - 0.5));
        const x0 = Math.floor(sx);
        const x1 = Math.min(src.width - 1, x0 + 1);
        const fx = sx - x0;
        const fy = sy - y0;
        const d = src.data;
        out[y * width + x] =
          d[y0 * src.width + x0]! * (1 - fx) * (1 - fy) +
          d[y0 * src.width + x1]! * fx * (1 - fy) +
          d[y1 * src.width + x0]! * (1 - fx) * fy +
          d[y1 * src.width + x1]! * fx * fy;
      }
    }
    return { width, height, data: out };
  }
  const sx = src.width / width;
  const sy = src.height / height;
  for (let y = 0; y < height; y++) {
    const top = y * sy;
    const bottom = top + sy;
    for (let x = 0; x < width; x++) {
      const left = x * sx;
      const right = left + sx;
      let sum = 0;
      for (let yy = Math.floor(top); yy < Math.ceil(bottom); yy++) {
        const wy = Math.min(bottom, yy + 1) - Math.max(top, yy);
        const row = yy * src.width;
        for (let xx = Math.floor(left); xx < Math.ceil(right); xx++) {
          const wx = Math.min(right, xx + 1) - Math.max(left, xx);
          sum += src.data[row + xx]! * wx * wy;
        }
      }
      out[y * width + x] = sum / (sx * sy);
    }
  }
  return { width, height, data: out };
}
