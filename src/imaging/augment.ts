/**
 * Training-time augmentation for small grey-level images, in plain typed arrays: a random
 * affine transform (rotation, scale, shift) sampled bilinearly with edge replication, an
 * optional horizontal flip, and brightness/contrast jitter. Deterministic for a given PRNG.
 */
import { z } from 'zod';

export const AugmentConfig = z.object({
  rotateDegrees: z.number().min(0).max(45),
  scale: z.number().min(0).max(0.5),
  shiftPixels: z.number().min(0).max(8),
  flip: z.boolean(),
  brightness: z.number().min(0).max(0.5),
  contrast: z.number().min(0).max(0.5),
});
export type AugmentConfig = z.infer<typeof AugmentConfig>;

/** mulberry32: a small, fast, seedable PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle of 0..n-1. */
export function shuffled(n: number, random: () => number): Uint32Array {
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

const uniform = (random: () => number, half: number) => (random() * 2 - 1) * half;

/** Augment one image (h × w, values in [0, 1]) into `out`. */
export function augmentImage(
  src: Float32Array,
  out: Float32Array,
  h: number,
  w: number,
  config: AugmentConfig,
  random: () => number,
): void {
  const angle = (uniform(random, config.rotateDegrees) * Math.PI) / 180;
  const scale = 1 + uniform(random, config.scale);
  const dx = uniform(random, config.shiftPixels);
  const dy = uniform(random, config.shiftPixels);
  const flip = config.flip && random() < 0.5;
  const contrast = 1 + uniform(random, config.contrast);
  const brightness = uniform(random, config.brightness);
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse map: output pixel → source coordinates.
      const ox = (flip ? w - 1 - x : x) - cx - dx;
      const oy = y - cy - dy;
      const sx = Math.min(w - 1, Math.max(0, cos * ox + sin * oy + cx));
      const sy = Math.min(h - 1, Math.max(0, -sin * ox + cos * oy + cy));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const v =
        src[y0 * w + x0]! * (1 - fx) * (1 - fy) +
        src[y0 * w + x1]! * fx * (1 - fy) +
        src[y1 * w + x0]! * (1 - fx) * fy +
        src[y1 * w + x1]! * fx * fy;
      out[y * w + x] = Math.min(1, Math.max(0, (v - 0.5) * contrast + 0.5 + brightness));
    }
  }
}
