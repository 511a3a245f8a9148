/**
 * The Open Inference Protocol (KServe v2) REST subset this project speaks, as zod schemas: the
 * imaging service validates requests with them and the imaging tool validates answers with
 * them (from this service, Triton, KServe or MLServer).
 *
 *   GET  /v2                                      server metadata
 *   GET  /v2/health/live, /v2/health/ready        health
 *   GET  /v2/models/{m}[/versions/{v}]            model metadata
 *   GET  /v2/models/{m}[/versions/{v}]/ready      model readiness
 *   GET  /v2/models/{m}[/versions/{v}]/config     model configuration (Triton's extension)
 *   POST /v2/models/{m}[/versions/{v}]/infer      inference
 *
 * Errors are `{"error": "<message>"}` with a 4xx/5xx status.
 */
import { z } from 'zod';

export const OIP_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;

export const MetadataTensor = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) });
export type MetadataTensor = z.infer<typeof MetadataTensor>;

export const ModelMetadataResponse = z.object({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(MetadataTensor),
  outputs: z.array(MetadataTensor),
});
export type ModelMetadataResponse = z.infer<typeof ModelMetadataResponse>;

/** Parameters: string, number or boolean values. */
export const Parameters = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** Tensor data: row-major, flat or nested arrays. */
const TensorData = z.array(z.unknown());

export const RequestInput = z.object({
  name: z.string().min(1).max(256),
  shape: z.array(z.number().int().min(0)).min(1).max(8),
  datatype: z.enum(OIP_DATATYPES),
  parameters: Parameters.optional(),
  data: TensorData,
});

export const InferenceRequest = z.object({
  id: z.string().max(256).optional(),
  parameters: Parameters.optional(),
  inputs: z.array(RequestInput).min(1).max(16),
  outputs: z
    .array(z.object({ name: z.string().min(1).max(256), parameters: Parameters.optional() }))
    .max(16)
    .optional(),
});
export type InferenceRequest = z.infer<typeof InferenceRequest>;

export const ResponseOutput = z.object({
  name: z.string(),
  shape: z.array(z.number().int().min(0)),
  datatype: z.string(),
  parameters: Parameters.optional(),
  data: TensorData,
});

export const InferenceResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: Parameters.optional(),
  outputs: z.array(ResponseOutput).min(1),
});
export type InferenceResponse = z.infer<typeof InferenceResponse>;

export const ErrorResponse = z.object({ error: z.string() });

/**
 * Triton's model-configuration extension. Only `parameters` matters here: a model publishes its
 * label, decision threshold and indeterminate band as `{ "key": { "string_value": "…" } }`.
 */
export const ModelConfigResponse = z.object({
  name: z.string().optional(),
  parameters: z.record(z.string(), z.object({ string_value: z.string() })).optional(),
});
export type ModelConfigResponse = z.infer<typeof ModelConfigResponse>;

/** Row-major flattening of nested tensor data; null when an element is not a finite number. */
export function flattenNumbers(data: readonly unknown[], expected: number): Float32Array | null {
  const out = new Float32Array(expected);
  let n = 0;
  const stack: unknown[][] = [data as unknown[]];
  const index: number[] = [0];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const i = index[index.length - 1]!;
    if (i >= top.length) {
      stack.pop();
      index.pop();
      continue;
    }
    index[index.length - 1] = i + 1;
    const v = top[i];
    if (Array.isArray(v)) {
      if (stack.length > 8) return null;
      stack.push(v as unknown[]);
      index.push(0);
    } else {
      if (typeof v !== 'number' || !Number.isFinite(v) || n >= expected) return null;
      out[n++] = v;
    }
  }
  return n === expected ? out : null;
}
