/**
 * Imaging contracts without dependencies: where a study's pixels are (the in-process reference
 * the normaliser derives from the bundle and the imaging tool consumes; it never reaches a
 * model, a log or the review queue), and how a calibrated score reads against its threshold and
 * indeterminate band (shared by the imaging service and the tool).
 */
import { z } from 'zod';

/** A DICOM UID: dot-separated digit groups, at most 64 characters (PS3.5 9.1). */
export const DicomUid = z
  .string()
  .max(64)
  .regex(/^(0|[1-9]\d*)(\.(0|[1-9]\d*))+$/, 'a DICOM UID (digits and dots)');

/** Never a free URL: DICOMweb references are UIDs resolved against the configured server. */
export const ImageSource = z.discriminatedUnion('kind', [
  /** Pixels carried in the case (a FHIR attachment): DICOM, PNG or JPEG, base64. */
  z.object({ kind: z.literal('inline'), contentType: z.string().max(100), base64: z.string() }),
  /** One instance on the configured DICOMweb (WADO-RS) server. */
  z.object({ kind: z.literal('dicomweb'), studyUid: DicomUid, seriesUid: DicomUid, instanceUid: DicomUid }),
  /** The case names a study but no pixels the tool can reach, and why. */
  z.object({ kind: z.literal('none'), reason: z.string() }),
]);
export type ImageSource = z.infer<typeof ImageSource>;

/** Attachment content types that are images for the imaging tool. */
export const IMAGE_CONTENT_TYPES = ['application/dicom', 'image/png', 'image/jpeg'] as const;

/** How a calibrated score reads: inside the band (inclusive) indeterminate, else against the threshold. */
export function interpretation(
  score: number,
  threshold: number,
  band: readonly [number, number],
): 'positive' | 'negative' | 'indeterminate' {
  if (score >= band[0] && score <= band[1]) return 'indeterminate';
  return score >= threshold ? 'positive' : 'negative';
}
