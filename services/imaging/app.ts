/**
 * The imaging-model service: the Open Inference Protocol (KServe v2) REST API over one model,
 * plus `POST /v1/analyse`, a convenience endpoint that takes a DICOM file, PNG or JPEG as the
 * request body, prepares it the way the model was trained (see src/imaging/pixels.ts) and
 * answers the finding. Errors follow the protocol: `{"error": "…"}` (plus a stable `code`).
 */
import { addHsts, httpsOption, type TlsMaterial } from '../../src/infra/tls.js';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import pino from 'pino';
import type { Logger } from '../../src/logger.js';
import {
  flattenNumbers,
  InferenceRequest,
  type InferenceResponse,
  type ModelMetadataResponse,
} from '../../src/imaging/oip.js';
import { ImageError } from '../../src/imaging/image.js';
import { decodeImage, resizeGrey } from '../../src/imaging/pixels.js';
import { interpretation } from '../../src/domain/imaging.js';
import { httpStatus } from '../../src/server/problem.js';
import type { ModelRuntime } from './runtime.js';

export interface ImagingServiceOptions {
  runtime: ModelRuntime;
  /** Serve HTTPS with this certificate and key, with HSTS (`loadTls(config)`); absent: plain HTTP. */
  tls?: TlsMaterial | null;
  logger?: Logger;
  maxImageBytes: number;
  maxPixels?: number;
  maxBatch: number;
  /** Reported by GET /v2. */
  serverVersion?: string;
}

const IMAGE_TYPES = ['application/dicom', 'image/png', 'image/jpeg', 'application/octet-stream'];

type ErrorCode =
  | 'MODEL_NOT_FOUND'
  | 'BAD_REQUEST'
  | 'BAD_TENSOR'
  | 'BATCH_TOO_LARGE'
  | ImageError['code']
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INTERNAL'
  | 'NOT_FOUND';

const fail = (reply: FastifyReply, status: number, code: ErrorCode, error: string) =>
  reply.status(status).send({ error, code });

export async function buildImagingService(options: ImagingServiceOptions): Promise<FastifyInstance> {
  const { runtime } = options;
  const meta = runtime.meta;
  const { height: h, width: w } = meta.input;
  const app = Fastify({
    ...httpsOption(options.tls),
    // The cast keeps FastifyInstance's default logger type (as in src/server/app.ts).
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: (options.logger ?? pino({ level: 'silent' })) as FastifyBaseLogger,
    // JSON tensors of a full batch, or one image file.
    bodyLimit: Math.max(options.maxImageBytes, options.maxBatch * h * w * 24 + 65_536),
    return503OnClosing: true,
  });
  addHsts(app, options.tls);
  for (const type of IMAGE_TYPES)
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: options.maxImageBytes }, (_req, body, done) =>
      done(null, body),
    );

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (err.statusCode === 413)
      return fail(
        reply,
        413,
        'PAYLOAD_TOO_LARGE',
        `the request body exceeds the limit (${options.maxImageBytes} bytes for images)`,
      );
    if (err.statusCode === 415)
      return fail(
        reply,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `send application/json (infer) or one of ${IMAGE_TYPES.join(', ')} (analyse)`,
      );
    if (err.statusCode && err.statusCode < 500) return fail(reply, err.statusCode, 'BAD_REQUEST', err.message);
    request.log.error({ err: { message: err.message, stack: err.stack } }, 'imaging service error');
    return fail(reply, 500, 'INTERNAL', 'internal error');
  });
  app.setNotFoundHandler((request, reply) =>
    fail(reply, 404, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`),
  );

  const platform = runtime.engine === 'onnxruntime' ? 'onnxruntime_onnx' : 'tensorflowjs_layers';
  const inputShape = meta.input.layout === 'NHWC' ? [-1, h, w, 1] : [-1, 1, h, w];
  const metadata: ModelMetadataResponse = {
    name: meta.name,
    versions: [meta.version],
    platform,
    inputs: [{ name: meta.input.name, datatype: 'FP32', shape: inputShape }],
    outputs: [{ name: 'probability', datatype: 'FP32', shape: [-1, 1] }],
  };
  const config = {
    name: meta.name,
    platform,
    max_batch_size: options.maxBatch,
    input: [{ name: meta.input.name, data_type: 'TYPE_FP32', dims: inputShape.slice(1) }],
    output: [{ name: 'probability', data_type: 'TYPE_FP32', dims: [1] }],
    parameters: {
      label: { string_value: meta.label },
      threshold: { string_value: String(meta.threshold) },
      indeterminate_low: { string_value: String(meta.indeterminateBand[0]) },
      indeterminate_high: { string_value: String(meta.indeterminateBand[1]) },
      calibration: {
        string_value: meta.calibration
          ? meta.calibration.method
          : meta.output.kind === 'probability'
            ? 'in-model'
            : 'none',
      },
      intended_use: { string_value: meta.intendedUse },
    },
  };

  /** The model a route names, or a 404 (the protocol's error object). */
  const resolve = (params: { name: string; version?: string }, reply: FastifyReply): boolean => {
    if (params.name !== meta.name || (params.version !== undefined && params.version !== meta.version)) {
      void fail(
        reply,
        404,
        'MODEL_NOT_FOUND',
        `no model ${params.name}${params.version ? ` version ${params.version}` : ''} (this server has ${meta.name} ${meta.version})`,
      );
      return false;
    }
    return true;
  };

  app.get('/v2', () => ({
    name: 'clinical-orchestrator-imaging',
    version: options.serverVersion ?? '1',
    extensions: ['model_configuration', 'image_analyse'],
  }));
  app.get('/v2/health/live', () => ({ live: true }));
  app.get('/v2/health/ready', () => ({ ready: true }));

  type P = { Params: { name: string; version?: string } };
  for (const base of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get<P>(base, (request, reply) => (resolve(request.params, reply) ? reply.send(metadata) : reply));
    app.get<P>(`${base}/ready`, (request, reply) =>
      resolve(request.params, reply) ? reply.send({ name: meta.name, ready: true }) : reply,
    );
    app.get<P>(`${base}/config`, (request, reply) => (resolve(request.params, reply) ? reply.send(config) : reply));
    app.post<P>(`${base}/infer`, async (request, reply) => {
      if (!resolve(request.params, reply)) return reply;
      const parsed = InferenceRequest.safeParse(request.body);
      if (!parsed.success)
        return fail(
          reply,
          400,
          'BAD_REQUEST',
          `not an inference request: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`,
        );
      const body = parsed.data;
      const input = body.inputs.find((i) => i.name === meta.input.name);
      if (!input || body.inputs.length !== 1)
        return fail(reply, 400, 'BAD_TENSOR', `expected exactly one input named ${meta.input.name}`);
      if (input.datatype !== 'FP32')
        return fail(reply, 400, 'BAD_TENSOR', `input ${input.name} must be FP32, got ${input.datatype}`);
      const [n, ...rest] = input.shape;
      if (input.shape.length !== 4 || rest.join(',') !== inputShape.slice(1).join(',')) {
        return fail(
          reply,
          400,
          'BAD_TENSOR',
          `input ${input.name} must have shape [n, ${inputShape.slice(1).join(', ')}], got [${input.shape.join(', ')}]`,
        );
      }
      if (!n || n < 1) return fail(reply, 400, 'BAD_TENSOR', 'the batch must hold at least one image');
      if (n > options.maxBatch)
        return fail(reply, 400, 'BATCH_TOO_LARGE', `at most ${options.maxBatch} images per request, got ${n}`);
      const values = flattenNumbers(input.data, n * h * w);
      if (!values)
        return fail(
          reply,
          400,
          'BAD_TENSOR',
          `input ${input.name} must hold ${n * h * w} finite numbers (row-major, flat or nested)`,
        );
      for (const v of values)
        if (v < 0 || v > 1)
          return fail(reply, 400, 'BAD_TENSOR', 'pixel values must lie in [0, 1] (grey levels scaled, 0 = black)');
      for (const o of body.outputs ?? [])
        if (o.name !== 'probability')
          return fail(reply, 400, 'BAD_TENSOR', `unknown output ${o.name} (this model has: probability)`);
      const probabilities = await runtime.predict(values, n);
      const response: InferenceResponse = {
        model_name: meta.name,
        model_version: meta.version,
        ...(body.id !== undefined ? { id: body.id } : {}),
        outputs: [{ name: 'probability', shape: [n, 1], datatype: 'FP32', data: Array.from(probabilities) }],
      };
      return reply.send(response);
    });
  }

  app.post('/v1/analyse', async (request, reply) => {
    const body = request.body;
    if (!Buffer.isBuffer(body))
      return fail(
        reply,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `send the image as the request body with Content-Type ${IMAGE_TYPES.join(', ')}`,
      );
    let decoded;
    try {
      decoded = decodeImage(
        new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
        request.headers['content-type'] ?? null,
        {
          maxBytes: options.maxImageBytes,
          maxPixels: options.maxPixels ?? 8192 * 8192,
        },
      );
    } catch (err) {
      if (err instanceof ImageError) return fail(reply, httpStatus(err.code), err.code, err.message);
      throw err;
    }
    const input = resizeGrey(decoded.image, w, h);
    const [score] = await runtime.predict(input.data, 1);
    return reply.send({
      model_name: meta.name,
      model_version: meta.version,
      label: meta.label,
      score: score!,
      threshold: meta.threshold,
      indeterminate_band: meta.indeterminateBand,
      interpretation: interpretation(score!, meta.threshold, meta.indeterminateBand),
      image: {
        format: decoded.format,
        width: decoded.image.width,
        height: decoded.image.height,
        steps: [...decoded.steps, `resized to ${w}×${h}`],
      },
      intended_use: meta.intendedUse,
    });
  });
  return app;
}
