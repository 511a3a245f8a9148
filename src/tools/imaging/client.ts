/**
 * The imaging tool's client. For one study it:
 *
 * 1. gets the pixels: an inline attachment, or the instance from the configured DICOMweb
 *    server (WADO-RS); a study with neither is refused (INVALID_INPUT), never guessed;
 * 2. decodes them in this process (DICOM rescale, window and photometric interpretation; PNG;
 *    JPEG) and resizes them to the model's input, so only a grey-level tensor leaves the
 *    process: no DICOM header, no identifiers;
 * 3. calls the Open Inference Protocol server: model metadata (input name and shape), the
 *    model's published threshold and indeterminate band (Triton's config extension, or the
 *    IMAGING_* overrides), then `infer`;
 * 4. returns the finding: label, score, threshold, band, interpretation, model name and version.
 *
 * Calls to the server go through retries with exponential backoff and a circuit breaker
 * (cockatiel): after `breaker.failures` consecutive failures the breaker opens and calls fail
 * at once with CIRCUIT_OPEN until one trial call after `halfOpenAfterMs` succeeds. Input
 * errors (4xx, bad images) neither count against the breaker nor retry.
 */
import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  wrap,
  type CircuitState,
} from 'cockatiel';
import type { z } from 'zod';
import { ImageError } from '../../imaging/image.js';
import { interpretation } from '../../domain/imaging.js';
import {
  InferenceResponse,
  ModelConfigResponse,
  ModelMetadataResponse,
  type InferenceRequest,
} from '../../imaging/oip.js';
import { decodeImage, resizeGrey } from '../../imaging/pixels.js';
import { ToolError } from '../common.js';
import type { DicomwebClient } from './dicomweb.js';
import { readBounded } from './dicomweb.js';
import { ImagingInput, type ImagingClient, type ImagingFinding, type ImagingResult } from './schema.js';

export interface ImagingClientOptions {
  /** Base URL of the Open Inference Protocol server, e.g. http://127.0.0.1:8791 (no /v2). */
  baseUrl: string;
  model: string;
  version?: string | undefined;
  /** Overrides for servers that publish no threshold or band. */
  threshold?: number | undefined;
  indeterminateBand?: readonly [number, number] | undefined;
  timeoutMs: number;
  retries: number;
  backoffMs?: number;
  breaker: { failures: number; halfOpenAfterMs: number };
  maxImageBytes: number;
  maxPixels?: number;
  dicomweb?: DicomwebClient | null;
  /** How long model metadata and configuration are cached. */
  metadataTtlMs?: number;
  fetch?: typeof fetch;
}

interface ModelInfo {
  inputName: string;
  layout: 'NHWC' | 'NCHW';
  height: number;
  width: number;
  outputName: string;
  version: string;
  label: string;
  threshold: number;
  band: readonly [number, number];
  fetchedAt: number;
}

const retryable = (err: unknown) => err instanceof ToolError && err.retryable;

export class KServeImagingClient implements ImagingClient {
  private readonly base: string;
  private readonly path: string;
  private info: ModelInfo | null = null;
  readonly breaker;
  private readonly policy;
  readonly stats = { requests: 0, failures: 0, breakerOpened: 0 };

  constructor(private readonly o: ImagingClientOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
    this.path = `/v2/models/${encodeURIComponent(o.model)}${o.version ? `/versions/${encodeURIComponent(o.version)}` : ''}`;
    this.breaker = circuitBreaker(handleWhen(retryable), {
      halfOpenAfter: o.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(o.breaker.failures),
    });
    this.breaker.onBreak(() => this.stats.breakerOpened++);
    const retries = retry(handleWhen(retryable), {
      maxAttempts: o.retries,
      backoff: new ExponentialBackoff({ initialDelay: o.backoffMs ?? 200, maxDelay: 5000 }),
    });
    this.policy = wrap(retries, this.breaker);
  }

  get breakerState(): CircuitState {
    return this.breaker.state;
  }

  /** One HTTP exchange with the inference server, through retries and the breaker. */
  private async call<T extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: T,
    body: unknown,
    signal: AbortSignal,
  ): Promise<z.infer<T>> {
    try {
      return await this.policy.execute(async () => {
        this.stats.requests++;
        const timeout = AbortSignal.timeout(this.o.timeoutMs);
        let res: Response;
        try {
          res = await (this.o.fetch ?? fetch)(`${this.base}${path}`, {
            method,
            signal: AbortSignal.any([signal, timeout]),
            headers:
              body === undefined
                ? { accept: 'application/json' }
                : { accept: 'application/json', 'content-type': 'application/json' },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            redirect: 'error',
          });
        } catch (err) {
          this.stats.failures++;
          if (signal.aborted) throw new ToolError('TIMEOUT', 'cancelled', false);
          if (timeout.aborted)
            throw new ToolError('TIMEOUT', `imaging service: no answer within ${this.o.timeoutMs} ms`, true);
          throw new ToolError(
            'UNREACHABLE',
            `imaging service: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`,
            true,
            { cause: err },
          );
        }
        const text = new TextDecoder().decode(await readBounded(res, 64 * 1024 * 1024, 'the inference answer'));
        if (res.status >= 500 || res.status === 429) {
          this.stats.failures++;
          throw new ToolError('UNREACHABLE', `imaging service: HTTP ${res.status}${errorText(text)}`, true);
        }
        if (res.status === 404)
          throw new ToolError(
            'NOT_CONFIGURED',
            `imaging service: model ${this.o.model}${this.o.version ? ` version ${this.o.version}` : ''} not found${errorText(text)}`,
            false,
          );
        if (!res.ok)
          throw new ToolError('INVALID_INPUT', `imaging service: HTTP ${res.status}${errorText(text)}`, false);
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          this.stats.failures++;
          throw new ToolError('BAD_RESPONSE', 'imaging service: the answer is not JSON', true);
        }
        const parsed = schema.safeParse(json);
        if (!parsed.success) {
          this.stats.failures++;
          throw new ToolError(
            'BAD_RESPONSE',
            `imaging service: unexpected answer (${parsed.error.issues
              .map((i) => `${i.path.join('.')}: ${i.message}`)
              .join('; ')
              .slice(0, 300)})`,
            true,
          );
        }
        return parsed.data;
      });
    } catch (err) {
      if (err instanceof BrokenCircuitError)
        throw new ToolError(
          'CIRCUIT_OPEN',
          `imaging service: circuit open after ${this.o.breaker.failures} consecutive failures; next trial in ≤ ${this.o.breaker.halfOpenAfterMs} ms`,
          false,
        );
      // Retries are spent here; the caller's own retry policy should not multiply them.
      if (err instanceof ToolError && err.retryable)
        throw new ToolError(err.code, `${err.message} (after ${this.o.retries + 1} attempts)`, false, { cause: err });
      throw err;
    }
  }

  /** Input layout and size, threshold and band; cached for `metadataTtlMs`. */
  async modelInfo(signal: AbortSignal): Promise<ModelInfo> {
    if (this.info && Date.now() - this.info.fetchedAt < (this.o.metadataTtlMs ?? 60_000)) return this.info;
    const meta = await this.call('GET', this.path, ModelMetadataResponse, undefined, signal);
    const input = meta.inputs[0];
    if (!input || meta.inputs.length !== 1)
      throw new ToolError(
        'BAD_RESPONSE',
        `imaging model ${meta.name}: expected one input, found ${meta.inputs.length}`,
        false,
      );
    if (input.datatype !== 'FP32')
      throw new ToolError(
        'BAD_RESPONSE',
        `imaging model ${meta.name}: input ${input.name} is ${input.datatype}; only FP32 grey-level inputs are supported`,
        false,
      );
    const s = input.shape;
    const nhwc = s.length === 4 && s[3] === 1;
    const nchw = s.length === 4 && s[1] === 1 && !nhwc;
    if (!nhwc && !nchw)
      throw new ToolError(
        'BAD_RESPONSE',
        `imaging model ${meta.name}: input shape [${s.join(', ')}] is not one grey-level image ([n, h, w, 1] or [n, 1, h, w])`,
        false,
      );
    const height = nhwc ? s[1]! : s[2]!;
    const width = nhwc ? s[2]! : s[3]!;
    if (height < 1 || width < 1)
      throw new ToolError(
        'BAD_RESPONSE',
        `imaging model ${meta.name}: variable image size [${s.join(', ')}] is not supported`,
        false,
      );
    const output = meta.outputs.find((o) => o.name === 'probability') ?? meta.outputs[0];
    if (!output) throw new ToolError('BAD_RESPONSE', `imaging model ${meta.name}: no outputs`, false);
    const config = await this.call('GET', `${this.path}/config`, ModelConfigResponse, undefined, signal).catch(
      (err: unknown) => {
        // Servers without the configuration extension: the overrides must supply the calibration.
        if (err instanceof ToolError && (err.code === 'NOT_CONFIGURED' || err.code === 'INVALID_INPUT')) return null;
        throw err;
      },
    );
    const param = (key: string) => {
      const v = config?.parameters?.[key]?.string_value;
      const n = v === undefined ? NaN : Number(v);
      return Number.isFinite(n) && n >= 0 && n <= 1 ? n : undefined;
    };
    const threshold = this.o.threshold ?? param('threshold');
    const low = this.o.indeterminateBand?.[0] ?? param('indeterminate_low');
    const high = this.o.indeterminateBand?.[1] ?? param('indeterminate_high');
    if (threshold === undefined || low === undefined || high === undefined) {
      throw new ToolError(
        'NOT_CONFIGURED',
        `imaging model ${meta.name} publishes no calibrated threshold and indeterminate band; set IMAGING_THRESHOLD, IMAGING_INDETERMINATE_LOW and IMAGING_INDETERMINATE_HIGH from its validation`,
        false,
      );
    }
    this.info = {
      inputName: input.name,
      layout: nhwc ? 'NHWC' : 'NCHW',
      height,
      width,
      outputName: output.name,
      version: this.o.version ?? meta.versions?.[0] ?? 'unversioned',
      label: config?.parameters?.label?.string_value ?? 'pneumonia',
      threshold,
      band: [Math.min(low, high), Math.max(low, high)],
      fetchedAt: Date.now(),
    };
    return this.info;
  }

  private async pixels(
    input: ImagingInput,
    signal: AbortSignal,
  ): Promise<{ bytes: Uint8Array; contentType: string | null }> {
    const image = input.image;
    switch (image.kind) {
      case 'inline': {
        if ((image.base64.length * 3) / 4 > this.o.maxImageBytes + 4)
          throw new ToolError('INVALID_INPUT', `the inline image exceeds ${this.o.maxImageBytes} bytes`, false);
        return { bytes: new Uint8Array(Buffer.from(image.base64, 'base64')), contentType: image.contentType };
      }
      case 'dicomweb':
        if (!this.o.dicomweb)
          throw new ToolError(
            'NOT_CONFIGURED',
            'the study is on a DICOMweb server, but DICOMWEB_BASE_URL is not configured',
            false,
          );
        return { bytes: await this.o.dicomweb.retrieveInstance(image, signal), contentType: 'application/dicom' };
      case 'none':
        throw new ToolError('INVALID_INPUT', `no pixel data for this study: ${image.reason}`, false);
    }
  }

  async analyse(raw: ImagingInput, signal: AbortSignal): Promise<{ data: ImagingResult; version: string | null }> {
    const parsed = ImagingInput.safeParse(raw);
    if (!parsed.success)
      throw new ToolError(
        'INVALID_INPUT',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        false,
      );
    const input = parsed.data;
    // The model first: a down service fails fast without fetching or decoding anything.
    const info = await this.modelInfo(signal);
    const { bytes, contentType } = await this.pixels(input, signal);
    let decoded;
    try {
      decoded = decodeImage(bytes, contentType, {
        maxBytes: this.o.maxImageBytes,
        maxPixels: this.o.maxPixels ?? 8192 * 8192,
      });
    } catch (err) {
      if (err instanceof ImageError) throw new ToolError('INVALID_INPUT', `${err.code}: ${err.message}`, false);
      throw err;
    }
    const resized = resizeGrey(decoded.image, info.width, info.height);
    const request: InferenceRequest = {
      id: `${input.studyRef}`,
      inputs: [
        {
          name: info.inputName,
          shape: info.layout === 'NHWC' ? [1, info.height, info.width, 1] : [1, 1, info.height, info.width],
          datatype: 'FP32',
          data: Array.from(resized.data),
        },
      ],
    };
    const response = await this.call('POST', `${this.path}/infer`, InferenceResponse, request, signal);
    const output = response.outputs.find((o) => o.name === info.outputName) ?? response.outputs[0]!;
    const score = Array.isArray(output.data) ? output.data.flat(8)[0] : undefined;
    if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
      throw new ToolError(
        'BAD_RESPONSE',
        `imaging service: output ${output.name} is not a probability in [0, 1]`,
        false,
      );
    }
    const version = response.model_version ?? info.version;
    const finding: ImagingFinding = {
      id: info.label.replace(/[^a-z0-9]+/gi, '-').toLowerCase(),
      label: info.label,
      score,
      threshold: info.threshold,
      indeterminateBand: [info.band[0], info.band[1]],
      interpretation: interpretation(score, info.threshold, info.band),
      model: { name: response.model_name, version },
    };
    return {
      data: {
        studyRef: input.studyRef,
        findings: [finding],
        preprocessing: [
          ...decoded.steps,
          `resized ${decoded.image.width}×${decoded.image.height} → ${info.width}×${info.height}`,
        ],
      },
      version: `${response.model_name}@${version}`,
    };
  }
}

function errorText(body: string): string {
  try {
    const e = (JSON.parse(body) as { error?: unknown }).error;
    return typeof e === 'string' ? `: ${e.slice(0, 300)}` : '';
  } catch {
    return '';
  }
}
