/**
 * Imaging tool contract: one study in, model findings out, each with model name and version,
 * score, calibrated threshold and an explicit indeterminate band. The graph depends only on
 * this contract; the client (client.ts) speaks the Open Inference Protocol to the imaging
 * service, Triton, KServe or MLServer.
 */
import { z } from 'zod';
import { ImageSource } from '../../domain/imaging.js';

export const ImagingInput = z.object({
  /** Pseudonymised study reference (never a DICOM UID or accession number). */
  studyRef: z.string(),
  modality: z.string().nullable(),
  bodySite: z.string().nullable(),
  description: z.string().nullable(),
  image: ImageSource,
});
export type ImagingInput = z.infer<typeof ImagingInput>;

export const ImagingFinding = z.object({
  /** Cited as `img:<studyRef>:<id>`. */
  id: z.string(),
  label: z.string(),
  score: z.number().min(0).max(1),
  threshold: z.number().min(0).max(1),
  indeterminateBand: z.tuple([z.number(), z.number()]),
  interpretation: z.enum(['positive', 'negative', 'indeterminate']),
  model: z.object({ name: z.string(), version: z.string() }),
});
export type ImagingFinding = z.infer<typeof ImagingFinding>;

export const ImagingResult = z.object({
  studyRef: z.string(),
  findings: z.array(ImagingFinding),
  /** How the pixels were prepared (format, windowing, inversion, resize), for the reviewer. */
  preprocessing: z.array(z.string()).default([]),
});
export type ImagingResult = z.infer<typeof ImagingResult>;

export interface ImagingClient {
  analyse(input: ImagingInput, signal: AbortSignal): Promise<{ data: ImagingResult; version: string | null }>;
}
