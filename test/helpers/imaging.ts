/**
 * Imaging test helpers: DICOM files written with dcmjs's own writer, PNG and JPEG files written
 * with pngjs and jpeg-js, images from the real PneumoniaMNIST data when SHARED_DATA_DIR has it,
 * the imaging service on a real socket, and a small DICOMweb (WADO-RS) server.
 *
 * Every DICOM file made here is synthetic: its patient name is SYNTHETIC^TEST and its UIDs are
 * 2.25 UUID-derived test values.
 */
import type { TlsMaterial } from '../../src/infra/tls.js';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import dcmjs from 'dcmjs';
import Fastify, { type FastifyInstance } from 'fastify';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { buildImagingService } from '../../services/imaging/app.js';
import { loadModelRuntime, type ModelRuntime } from '../../services/imaging/runtime.js';
import { loadSplit, type ImageSplit } from '../../src/imaging/npy.js';
import { ROOT } from './processes.js';

export const MODEL_DIR = path.join(ROOT, 'models/pneumonia-cnn/tfjs');
export const ONNX_MODEL_DIR = path.join(ROOT, 'models/pneumonia-cnn/onnx');
export const NPZ = path.resolve(
  ROOT,
  process.env.SHARED_DATA_DIR ?? '../shared/data',
  'pneumoniamnist/pneumoniamnist-trainval.npz',
);

export interface DicomSpec {
  rows: number;
  cols: number;
  /** Stored values, row-major (samples interleaved for RGB). */
  values: ArrayLike<number>;
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  photometric?: 'MONOCHROME1' | 'MONOCHROME2' | 'RGB';
  slope?: number;
  intercept?: number;
  window?: { center: number; width: number; fn?: 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID' };
  transferSyntax?: string;
  frames?: number;
  uids?: { study: string; series: string; instance: string };
}

export const TEST_UIDS = {
  study: '2.25.111111111111111111111111111111111',
  series: '2.25.222222222222222222222222222222222',
  instance: '2.25.333333333333333333333333333333333',
};

/** A DICOM Part 10 file written by dcmjs. */
export function makeDicom(spec: DicomSpec): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const bits = spec.bitsAllocated ?? 16;
  const samples = spec.photometric === 'RGB' ? 3 : 1;
  const frames = spec.frames ?? 1;
  const count = spec.rows * spec.cols * samples;
  const Typed = bits === 8 ? (spec.signed ? Int8Array : Uint8Array) : spec.signed ? Int16Array : Uint16Array;
  const pixels = new Typed(count * frames);
  for (let f = 0; f < frames; f++) for (let i = 0; i < count; i++) pixels[f * count + i] = spec.values[i]!;
  const uids = spec.uids ?? TEST_UIDS;
  const sopClass = '1.2.840.10008.5.1.4.1.1.1';
  const meta = DicomMetaDictionary.denaturalizeDataset({
    MediaStorageSOPClassUID: sopClass,
    MediaStorageSOPInstanceUID: uids.instance,
    TransferSyntaxUID: spec.transferSyntax ?? '1.2.840.10008.1.2.1',
    ImplementationClassUID: '2.25.444444444444444444444444444444444',
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset({
    SOPClassUID: sopClass,
    SOPInstanceUID: uids.instance,
    StudyInstanceUID: uids.study,
    SeriesInstanceUID: uids.series,
    PatientName: 'SYNTHETIC^TEST',
    PatientID: 'SYNTHETIC-0001',
    Modality: 'CR',
    Rows: spec.rows,
    Columns: spec.cols,
    BitsAllocated: bits,
    BitsStored: spec.bitsStored ?? bits,
    HighBit: (spec.bitsStored ?? bits) - 1,
    PixelRepresentation: spec.signed ? 1 : 0,
    SamplesPerPixel: samples,
    PhotometricInterpretation: spec.photometric ?? 'MONOCHROME2',
    ...(samples === 3 ? { PlanarConfiguration: 0 } : {}),
    ...(frames > 1 ? { NumberOfFrames: String(frames) } : {}),
    ...(spec.slope !== undefined
      ? { RescaleSlope: String(spec.slope), RescaleIntercept: String(spec.intercept ?? 0) }
      : {}),
    ...(spec.window
      ? {
          WindowCenter: String(spec.window.center),
          WindowWidth: String(spec.window.width),
          ...(spec.window.fn ? { VOILUTFunction: spec.window.fn } : {}),
        }
      : {}),
    PixelData: [pixels.buffer],
    _vrMap: { PixelData: bits === 8 ? 'OB' : 'OW' },
  });
  return new Uint8Array(dict.write());
}

/** Grey levels 0..255 (row-major) as an 8-bit RGBA PNG. */
export function makePng(width: number, height: number, grey: ArrayLike<number>): Uint8Array {
  const png = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) png.data.set([grey[i]!, grey[i]!, grey[i]!, 255], i * 4);
  return new Uint8Array(PNG.sync.write(png));
}

export function makeJpeg(width: number, height: number, grey: ArrayLike<number>, quality = 95): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([grey[i]!, grey[i]!, grey[i]!, 255], i * 4);
  return new Uint8Array(jpeg.encode({ width, height, data }, quality).data);
}

/** The real validation images, or null when the data set is not on this machine. */
export function validationImages(): ImageSplit | null {
  return existsSync(NPZ) ? loadSplit(NPZ, ['val']) : null;
}

/** A 28×28 grey image: a real validation image when available, else a synthetic chest-like pattern. */
export function sampleImage(index = 0): { pixels: Uint8Array; label: number | null } {
  const val = validationImages();
  if (val) return { pixels: val.images.slice(index * 784, (index + 1) * 784), label: val.labels[index]! };
  const pixels = new Uint8Array(784);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++)
      pixels[y * 28 + x] = Math.round(120 + 80 * Math.sin((x + index) / 4) * Math.cos(y / 5));
  return { pixels, label: null };
}

/** Nearest-neighbour upscale of a 28×28 image by `k` (so a DICOM looks like a larger radiograph). */
export function upscale(pixels: Uint8Array, k: number): Uint8Array {
  const out = new Uint8Array(784 * k * k);
  for (let y = 0; y < 28 * k; y++)
    for (let x = 0; x < 28 * k; x++) out[y * 28 * k + x] = pixels[Math.floor(y / k) * 28 + Math.floor(x / k)]!;
  return out;
}

export interface RunningService {
  app: FastifyInstance;
  runtime: ModelRuntime;
  base: string;
  port: number;
}

/** The imaging service on 127.0.0.1; `port` reuses a port (to restart a stopped service at the same address). */
export async function startImagingService(
  dir = MODEL_DIR,
  port = 0,
  limits: { maxImageBytes?: number; maxBatch?: number; tls?: TlsMaterial } = {},
): Promise<RunningService> {
  const runtime = await loadModelRuntime(dir);
  const app = await buildImagingService({
    runtime,
    tls: limits.tls ?? null,
    maxImageBytes: limits.maxImageBytes ?? 8 * 1024 * 1024,
    maxBatch: limits.maxBatch ?? 16,
  });
  await app.listen({ host: '127.0.0.1', port });
  const actual = (app.server.address() as AddressInfo).port;
  return { app, runtime, port: actual, base: `${limits.tls ? 'https' : 'http'}://127.0.0.1:${actual}` };
}

export async function stopImagingService(s: RunningService | undefined): Promise<void> {
  if (!s) return;
  await s.app.close();
  await s.runtime.close();
}

export interface DicomwebServer {
  app: FastifyInstance;
  base: string;
  /** Every request's path and Accept header, to assert what the tool asked for. */
  requests: Array<{ url: string; accept: string | undefined; authorization: string | undefined }>;
}

/**
 * A minimal WADO-RS server: `GET /dicomweb/studies/{s}/series/{se}/instances/{i}` answers the
 * stored instance as multipart/related. `refuseExplicit` answers 406 to the explicit-little-endian
 * request (as a server that cannot transcode), `bare` answers application/dicom without multipart.
 */
export async function startDicomweb(
  instances: Map<string, Uint8Array>,
  options: { refuseExplicit?: boolean; bare?: boolean; token?: string } = {},
): Promise<DicomwebServer> {
  const requests: DicomwebServer['requests'] = [];
  const app = Fastify();
  app.get<{ Params: { s: string; se: string; i: string } }>(
    '/dicomweb/studies/:s/series/:se/instances/:i',
    (request, reply) => {
      requests.push({ url: request.url, accept: request.headers.accept, authorization: request.headers.authorization });
      if (options.token && request.headers.authorization !== `Bearer ${options.token}`) return reply.status(401).send();
      if (
        options.refuseExplicit &&
        /transfer-syntax=1\.2\.840\.10008\.1\.2\.1(?!\d)/.test(request.headers.accept ?? '')
      )
        return reply.status(406).send();
      const file = instances.get(`${request.params.s}/${request.params.se}/${request.params.i}`);
      if (!file) return reply.status(404).send();
      if (options.bare) return reply.type('application/dicom').send(Buffer.from(file));
      const boundary = 'test-boundary-7d3f';
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`),
        Buffer.from(file),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return reply.type(`multipart/related; type="application/dicom"; boundary=${boundary}`).send(body);
    },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, requests, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/dicomweb` };
}
