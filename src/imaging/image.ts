/** Shared image types, limits and the coded error every decoder throws. */
import { AppError, type ErrorCodeOf } from '../errors.js';

export type ImageErrorCode = ErrorCodeOf<'image'>;

export class ImageError extends AppError {
  declare readonly code: ImageErrorCode;
  constructor(code: ImageErrorCode, message: string) {
    super(code, message, false);
  }
}

export interface GreyImage {
  width: number;
  height: number;
  /** Row-major grey levels in [0, 1], 0 = black. */
  data: Float32Array;
}

export interface DecodedImage {
  image: GreyImage;
  format: 'dicom' | 'png' | 'jpeg';
  /** What was done to get grey levels: rescale, window, inversion, colour to luminance. */
  steps: string[];
}

export interface ImageLimits {
  maxBytes: number;
  /** Largest width × height accepted. */
  maxPixels: number;
}

export const DEFAULT_IMAGE_LIMITS: ImageLimits = { maxBytes: 32 * 1024 * 1024, maxPixels: 8192 * 8192 };

export function checkPixels(width: number, height: number, limits: ImageLimits): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new ImageError('IMAGE_MALFORMED', `invalid image size ${width}×${height}`);
  if (width * height > limits.maxPixels)
    throw new ImageError(
      'IMAGE_TOO_LARGE',
      `the image is ${width}×${height} pixels; the limit is ${limits.maxPixels} pixels`,
    );
}
