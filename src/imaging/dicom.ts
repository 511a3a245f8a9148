/**
 * DICOM Part 10 (parsed with dcmjs) into one grey-level plane in [0, 1], following DICOM PS3.3:
 *
 * 1. stored values: 8 or 16 bits allocated, unsigned or two's complement (Pixel Representation),
 *    masked to Bits Stored; the first frame of a multi-frame image;
 * 2. Modality LUT: value × Rescale Slope + Rescale Intercept;
 * 3. VOI LUT: the first Window Center / Width with VOI LUT Function LINEAR (C.11.2.1.2.1),
 *    LINEAR_EXACT or SIGMOID; without a window, unsigned 8-bit values are taken as grey levels
 *    (÷ 255, as the training images were), deeper data is stretched from its minimum to maximum;
 * 4. Photometric Interpretation: MONOCHROME1 is inverted (its minimum is white), MONOCHROME2 is
 *    kept, RGB and YBR_FULL become luminance.
 *
 * Only uncompressed transfer syntaxes are decoded (implicit and explicit VR little endian, and
 * deflated). Compressed pixel data is refused with a clear message: ask the DICOMweb server for
 * an uncompressed transfer syntax (the imaging tool does) or send PNG/JPEG.
 */
import dcmjs from 'dcmjs';
import { checkPixels, ImageError, type GreyImage, type ImageLimits } from './image.js';

const NATIVE_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2': 'implicit VR little endian',
  '1.2.840.10008.1.2.1': 'explicit VR little endian',
  '1.2.840.10008.1.2.1.99': 'deflated explicit VR little endian',
};

const first = (v: unknown): number | null => {
  const x = Array.isArray(v) ? (v as unknown[])[0] : v;
  const n = typeof x === 'string' ? Number(x) : x;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
};

const text = (v: unknown): string | null => {
  const x = Array.isArray(v) ? (v as unknown[])[0] : v;
  return typeof x === 'string' ? x.trim().toUpperCase() : null;
};

/**
 * dcmjs reads a truncated Pixel Data element as if it were whole (zero-filled), so check the
 * element's declared length against the bytes: find the last (7FE0,0010) tag and read its
 * length in explicit (OB/OW: 2 reserved bytes, 4-byte length) or implicit VR form.
 */
function pixelDataLengthProblem(bytes: Uint8Array): string | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = bytes.length - 8; at >= 132; at--) {
    if (bytes[at] !== 0xe0 || bytes[at + 1] !== 0x7f || bytes[at + 2] !== 0x10 || bytes[at + 3] !== 0x00) continue;
    const vr = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!);
    const explicit = vr === 'OB' || vr === 'OW';
    if (explicit && at + 12 > bytes.length) return 'Pixel Data header is truncated';
    const length = explicit ? view.getUint32(at + 8, true) : view.getUint32(at + 4, true);
    const start = at + (explicit ? 12 : 8);
    if (length === 0xffffffff) return null;
    return start + length > bytes.length
      ? `Pixel Data declares ${length} bytes but the file ends after ${bytes.length - start}`
      : null;
  }
  return 'no Pixel Data element';
}

export interface DicomPixels {
  image: GreyImage;
  steps: string[];
}

export function decodeDicom(bytes: Uint8Array, limits: ImageLimits): DicomPixels {
  let dict: InstanceType<typeof dcmjs.data.DicomDict>;
  try {
    dict = dcmjs.data.DicomMessage.readFile(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
  } catch (err) {
    throw new ImageError('IMAGE_MALFORMED', `DICOM: ${err instanceof Error ? err.message : String(err)}`);
  }
  const syntaxValue = dict.meta['00020010']?.Value?.[0];
  const syntax = typeof syntaxValue === 'string' ? syntaxValue.replace(/\0/g, '').trim() : '';
  if (!NATIVE_SYNTAXES[syntax]) {
    throw new ImageError(
      'IMAGE_UNSUPPORTED',
      `DICOM: transfer syntax ${syntax || '(none)'} is compressed or unsupported; send an uncompressed (explicit VR little endian) instance, or PNG/JPEG`,
    );
  }
  const lengthProblem = pixelDataLengthProblem(bytes);
  if (lengthProblem)
    throw new ImageError('IMAGE_MALFORMED', `DICOM: ${lengthProblem} (truncated or not an image instance)`);
  const ds = dcmjs.data.DicomMetaDictionary.naturalizeDataset(dict.dict);
  const rows = first(ds.Rows);
  const cols = first(ds.Columns);
  if (rows === null || cols === null)
    throw new ImageError('IMAGE_MALFORMED', 'DICOM: Rows and Columns are required (is this an image instance?)');
  checkPixels(cols, rows, limits);
  const bitsAllocated = first(ds.BitsAllocated) ?? 0;
  if (bitsAllocated !== 8 && bitsAllocated !== 16)
    throw new ImageError('IMAGE_UNSUPPORTED', `DICOM: Bits Allocated ${bitsAllocated} is not supported (8 or 16)`);
  const bitsStored = first(ds.BitsStored) ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated)
    throw new ImageError('IMAGE_MALFORMED', `DICOM: Bits Stored ${bitsStored} with Bits Allocated ${bitsAllocated}`);
  const signed = first(ds.PixelRepresentation) === 1;
  const samples = first(ds.SamplesPerPixel) ?? 1;
  const photometric = text(ds.PhotometricInterpretation) ?? 'MONOCHROME2';
  const supported = samples === 1 ? ['MONOCHROME1', 'MONOCHROME2'] : samples === 3 ? ['RGB', 'YBR_FULL'] : [];
  if (!supported.includes(photometric))
    throw new ImageError(
      'IMAGE_UNSUPPORTED',
      `DICOM: Photometric Interpretation ${photometric} with ${samples} samples per pixel is not supported`,
    );
  const planar = first(ds.PlanarConfiguration) === 1;

  const pixelData = ds.PixelData;
  const buffer = Array.isArray(pixelData) ? (pixelData[0] as unknown) : pixelData;
  if (!(buffer instanceof ArrayBuffer)) throw new ImageError('IMAGE_MALFORMED', 'DICOM: no Pixel Data');
  const pixels = rows * cols;
  const bytesPerSample = bitsAllocated / 8;
  const frameBytes = pixels * samples * bytesPerSample;
  if (buffer.byteLength < frameBytes)
    throw new ImageError(
      'IMAGE_MALFORMED',
      `DICOM: Pixel Data has ${buffer.byteLength} bytes; one ${cols}×${rows} frame needs ${frameBytes}`,
    );
  const frames = first(ds.NumberOfFrames) ?? 1;
  const steps: string[] = ['dicom', `${bitsStored}-bit ${signed ? 'signed' : 'unsigned'}`];
  if (frames > 1) steps.push(`first of ${frames} frames`);

  // 1. stored values of the first frame (little endian), masked to Bits Stored and sign-extended.
  const view = new DataView(buffer, 0, frameBytes);
  const mask = bitsStored >= 32 ? 0xffffffff : (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);
  const stored = (i: number) => {
    let v = (bytesPerSample === 1 ? view.getUint8(i) : view.getUint16(i * 2, true)) & mask;
    if (signed && v & signBit) v -= 1 << bitsStored;
    return v;
  };
  const raw = new Float64Array(pixels);
  if (samples === 1) {
    for (let i = 0; i < pixels; i++) raw[i] = stored(i);
  } else {
    // Colour: Y of YBR_FULL, or Rec. 601 luminance of RGB, in the stored range.
    for (let i = 0; i < pixels; i++) {
      const at = (c: number) => stored(planar ? c * pixels + i : i * 3 + c);
      raw[i] = photometric === 'YBR_FULL' ? at(0) : 0.299 * at(0) + 0.587 * at(1) + 0.114 * at(2);
    }
    steps.push(photometric === 'YBR_FULL' ? 'Y of YBR_FULL' : 'RGB luminance');
  }

  // 2. Modality LUT.
  const slope = first(ds.RescaleSlope) ?? 1;
  const intercept = first(ds.RescaleIntercept) ?? 0;
  if (slope !== 1 || intercept !== 0) {
    for (let i = 0; i < pixels; i++) raw[i] = raw[i]! * slope + intercept;
    steps.push(`rescale ×${slope} ${intercept >= 0 ? '+' : '−'}${Math.abs(intercept)}`);
  }

  // 3. VOI LUT.
  const out = new Float32Array(pixels);
  const center = first(ds.WindowCenter);
  const width = first(ds.WindowWidth);
  const fn = text(ds.VOILUTFunction) ?? 'LINEAR';
  if (center !== null && width !== null && width > 0 && !(fn === 'LINEAR' && width < 1)) {
    for (let i = 0; i < pixels; i++) out[i] = voi(raw[i]!, center, width, fn);
    steps.push(`window ${center}/${width} ${fn}`);
  } else if (bitsStored <= 8 && !signed && slope === 1 && intercept === 0) {
    // 8-bit data without a window is display-ready grey levels (as the training images were).
    const max = (1 << bitsStored) - 1;
    for (let i = 0; i < pixels; i++) out[i] = raw[i]! / max;
    steps.push(`${bitsStored}-bit grey levels (no window)`);
  } else {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < pixels; i++) {
      if (raw[i]! < min) min = raw[i]!;
      if (raw[i]! > max) max = raw[i]!;
    }
    const range = max - min || 1;
    for (let i = 0; i < pixels; i++) out[i] = (raw[i]! - min) / range;
    steps.push('full range (no window)');
  }

  // 4. MONOCHROME1: minimum is white.
  if (photometric === 'MONOCHROME1') {
    for (let i = 0; i < pixels; i++) out[i] = 1 - out[i]!;
    steps.push('MONOCHROME1 inverted');
  }
  return { image: { width: cols, height: rows, data: out }, steps };
}

/** VOI LUT functions of PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT) and C.11.2.1.3 (SIGMOID), output in [0, 1]. */
export function voi(x: number, c: number, w: number, fn: string): number {
  if (fn === 'SIGMOID') return 1 / (1 + Math.exp((-4 * (x - c)) / w));
  if (fn === 'LINEAR_EXACT') {
    if (x <= c - w / 2) return 0;
    if (x > c + w / 2) return 1;
    return (x - c) / w + 0.5;
  }
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 1;
  return (x - (c - 0.5)) / (w - 1) + 0.5;
}
