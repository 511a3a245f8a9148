/**
 * DICOMweb WADO-RS retrieval of one instance (PS3.18 10.4): GET
 * `{base}/studies/{study}/series/{series}/instances/{instance}` with
 * `Accept: multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.1`,
 * so the server sends it uncompressed; a server that cannot transcode (406) is asked again for
 * any transfer syntax. The answer is a multipart/related body whose first part is the DICOM file
 * (a bare application/dicom body is accepted too).
 *
 * The URL is built from the configured base and validated UIDs only: a case can name which
 * instance, never where it is fetched from.
 */
import { ToolError } from '../common.js';
import { DicomUid } from '../../domain/imaging.js';

export interface DicomwebOptions {
  baseUrl: string;
  token?: string | undefined;
  timeoutMs: number;
  maxBytes: number;
  fetch?: typeof fetch;
}

export interface InstanceRef {
  studyUid: string;
  seriesUid: string;
  instanceUid: string;
}

const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** Read a response body, refusing more than `maxBytes` without buffering the rest. */
export async function readBounded(res: Response, maxBytes: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new ToolError('INVALID_INPUT', `${what} is ${declared} bytes; the limit is ${maxBytes}`, false);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (!reader) return new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ToolError('INVALID_INPUT', `${what} exceeds the limit of ${maxBytes} bytes`, false);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** The first part of a multipart/related body. */
export function firstMultipartPart(
  body: Uint8Array,
  contentType: string,
): { contentType: string | null; bytes: Uint8Array } {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new ToolError('BAD_RESPONSE', 'DICOMweb: multipart answer without a boundary', false);
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const delimiter = Buffer.from(`--${boundary}`);
  const start = buf.indexOf(delimiter);
  if (start < 0) throw new ToolError('BAD_RESPONSE', 'DICOMweb: multipart boundary not found in the body', false);
  const headersStart = buf.indexOf('\r\n', start) + 2;
  const headersEnd = buf.indexOf('\r\n\r\n', headersStart);
  if (headersStart < 2 || headersEnd < 0)
    throw new ToolError('BAD_RESPONSE', 'DICOMweb: malformed multipart part', false);
  const headers = buf.subarray(headersStart, headersEnd).toString('latin1');
  const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
  if (next < 0) throw new ToolError('BAD_RESPONSE', 'DICOMweb: multipart part is not terminated', false);
  const partType = /^content-type:\s*([^\r\n]+)/im.exec(headers)?.[1]?.trim() ?? null;
  return { contentType: partType, bytes: new Uint8Array(buf.subarray(headersEnd + 4, next)) };
}

export class DicomwebClient {
  private readonly base: string;

  constructor(private readonly o: DicomwebOptions) {
    this.base = o.baseUrl.replace(/\/+$/, '');
  }

  /** The instance as DICOM Part 10 bytes. */
  async retrieveInstance(ref: InstanceRef, signal: AbortSignal): Promise<Uint8Array> {
    for (const key of ['studyUid', 'seriesUid', 'instanceUid'] as const) {
      if (!DicomUid.safeParse(ref[key]).success)
        throw new ToolError('INVALID_INPUT', `DICOMweb: ${key} is not a DICOM UID`, false);
    }
    const url = `${this.base}/studies/${ref.studyUid}/series/${ref.seriesUid}/instances/${ref.instanceUid}`;
    for (const syntax of [EXPLICIT_LE, '*']) {
      const timeout = AbortSignal.timeout(this.o.timeoutMs);
      let res: Response;
      try {
        res = await (this.o.fetch ?? fetch)(url, {
          signal: AbortSignal.any([signal, timeout]),
          headers: {
            accept: `multipart/related; type="application/dicom"; transfer-syntax=${syntax}`,
            ...(this.o.token ? { authorization: `Bearer ${this.o.token}` } : {}),
          },
          redirect: 'error',
        });
      } catch (err) {
        if (timeout.aborted) throw new ToolError('TIMEOUT', `DICOMweb: no answer within ${this.o.timeoutMs} ms`, true);
        throw new ToolError('UNREACHABLE', `DICOMweb: ${err instanceof Error ? err.message : String(err)}`, true, {
          cause: err,
        });
      }
      if (res.status === 406 && syntax !== '*') {
        await res.body?.cancel().catch(() => undefined);
        continue;
      }
      if (res.status === 404)
        throw new ToolError('INVALID_INPUT', 'DICOMweb: the referenced instance was not found', false);
      if (res.status === 401 || res.status === 403)
        throw new ToolError(
          'NOT_CONFIGURED',
          `DICOMweb: access refused (HTTP ${res.status}); check DICOMWEB_TOKEN`,
          false,
        );
      if (res.status >= 500 || res.status === 429)
        throw new ToolError('UNREACHABLE', `DICOMweb: HTTP ${res.status}`, true);
      if (!res.ok) throw new ToolError('BAD_RESPONSE', `DICOMweb: HTTP ${res.status}`, false);
      const type = res.headers.get('content-type') ?? '';
      const body = await readBounded(res, this.o.maxBytes, 'the DICOM instance');
      if (/^multipart\/related/i.test(type)) return firstMultipartPart(body, type).bytes;
      if (/^application\/dicom/i.test(type)) return body;
      throw new ToolError('BAD_RESPONSE', `DICOMweb: unexpected content type ${type || '(none)'}`, false);
    }
    throw new ToolError('BAD_RESPONSE', 'DICOMweb: the server refused every transfer syntax', false);
  }
}
