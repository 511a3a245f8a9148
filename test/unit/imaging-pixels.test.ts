/**
 * Image decoding into model input: DICOM files written with dcmjs's writer (rescale, window,
 * VOI LUT functions, MONOCHROME1, signed and 8-bit pixels, RGB, multi-frame), PNG and JPEG,
 * malformed and oversized inputs refused with stable codes before pixels are allocated, area
 * resizing, and the .npy/.npz reader.
 */
import { zipSync } from 'fflate';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { voi } from '../../src/imaging/dicom.js';
import { ImageError } from '../../src/imaging/image.js';
import { loadSplit, NpyError, parseNpy } from '../../src/imaging/npy.js';
import { decodeImage, resizeGrey, sniffFormat } from '../../src/imaging/pixels.js';
import { makeDicom, makeJpeg, makePng } from '../helpers/imaging.js';

const close = (a: ArrayLike<number>, b: number[], eps = 1e-3) => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < b.length; i++)
    expect(Math.abs(a[i]! - b[i]!), `value ${i}: ${a[i]} vs ${b[i]}`).toBeLessThan(eps);
};
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ImageError) return err.code;
    throw err;
  }
  return 'no error';
};

describe('DICOM decoding (files written by dcmjs)', () => {
  it('applies rescale slope/intercept, then the LINEAR window of PS3.3 C.11.2.1.2', () => {
    const values = [0, 100, 200, 300, 400, 500];
    const out = decodeImage(
      makeDicom({
        rows: 2,
        cols: 3,
        values,
        bitsStored: 12,
        slope: 2,
        intercept: -100,
        window: { center: 300, width: 401 },
      }),
    );
    expect(out.format).toBe('dicom');
    expect(out.steps).toEqual(['dicom', '12-bit unsigned', 'rescale ×2 −100', 'window 300/401 LINEAR']);
    // Modality values −100, 100, 300, 500, 700, 900 → window [100, 500].
    const expected = [-100, 100, 300, 500, 700, 900].map((x) => voi(x, 300, 401, 'LINEAR'));
    close(out.image.data, expected);
    expect(expected[0]).toBe(0);
    expect(expected[2]).toBeCloseTo(0.5, 2);
    expect(expected[4]).toBe(1);
  });

  it('uses the full range without a window, and inverts MONOCHROME1', () => {
    const values = [10, 20, 30, 40];
    close(decodeImage(makeDicom({ rows: 2, cols: 2, values })).image.data, [0, 1 / 3, 2 / 3, 1]);
    const mono1 = decodeImage(makeDicom({ rows: 2, cols: 2, values, photometric: 'MONOCHROME1' }));
    close(mono1.image.data, [1, 2 / 3, 1 / 3, 0]);
    expect(mono1.steps).toContain('MONOCHROME1 inverted');
  });

  it('reads signed 16-bit values (two’s complement, Bits Stored 12) and 8-bit images', () => {
    const signed = decodeImage(
      makeDicom({ rows: 1, cols: 4, values: [-2048, -1, 0, 2047], signed: true, bitsStored: 12 }),
    );
    close(signed.image.data, [0, 2047 / 4095, 2048 / 4095, 1]);
    // 8-bit without a window: grey levels as stored (no stretching of a narrow range).
    const eight = decodeImage(makeDicom({ rows: 1, cols: 3, values: [40, 128, 200], bitsAllocated: 8 }));
    close(eight.image.data, [40 / 255, 128 / 255, 200 / 255]);
    expect(eight.steps).toContain('8-bit grey levels (no window)');
  });

  it('supports LINEAR_EXACT and SIGMOID VOI functions', () => {
    const exact = decodeImage(
      makeDicom({ rows: 1, cols: 3, values: [0, 50, 100], window: { center: 50, width: 100, fn: 'LINEAR_EXACT' } }),
    );
    close(exact.image.data, [0, 0.5, 1]);
    const sigmoid = decodeImage(
      makeDicom({ rows: 1, cols: 3, values: [0, 50, 100], window: { center: 50, width: 100, fn: 'SIGMOID' } }),
    );
    close(sigmoid.image.data, [1 / (1 + Math.exp(2)), 0.5, 1 / (1 + Math.exp(-2))]);
  });

  it('turns RGB into luminance and reads the first frame of a multi-frame image', () => {
    const rgb = decodeImage(
      makeDicom({ rows: 1, cols: 2, values: [255, 0, 0, 0, 0, 255], bitsAllocated: 8, photometric: 'RGB' }),
    );
    expect(rgb.steps).toContain('RGB luminance');
    // Rec. 601 luminance of pure red and pure blue, as 8-bit grey levels.
    close(rgb.image.data, [0.299, 0.114]);
    const multi = decodeImage(makeDicom({ rows: 1, cols: 2, values: [0, 100], frames: 3 }));
    expect(multi.steps).toContain('first of 3 frames');
    close(multi.image.data, [0, 1]);
  });

  it('refuses compressed transfer syntaxes, missing pixel data and truncated files with clear codes', () => {
    const jpegLossless = makeDicom({
      rows: 2,
      cols: 2,
      values: [1, 2, 3, 4],
      transferSyntax: '1.2.840.10008.1.2.4.70',
    });
    expect(() => decodeImage(jpegLossless)).toThrow(
      /transfer syntax 1\.2\.840\.10008\.1\.2\.4\.70 is compressed or unsupported/,
    );
    expect(code(() => decodeImage(jpegLossless))).toBe('IMAGE_UNSUPPORTED');
    const file = makeDicom({ rows: 64, cols: 64, values: new Array(4096).fill(7) });
    expect(code(() => decodeImage(file.slice(0, file.length - 2000)))).toBe('IMAGE_MALFORMED');
    const notDicom = new Uint8Array(200);
    notDicom.set([0x44, 0x49, 0x43, 0x4d], 128); // "DICM" and nothing after it
    expect(code(() => decodeImage(notDicom))).toBe('IMAGE_MALFORMED');
  });

  it('refuses images over the pixel limit before decoding them', () => {
    const big = makeDicom({ rows: 100, cols: 100, values: new Array(10_000).fill(1) });
    expect(code(() => decodeImage(big, null, { maxBytes: 1e9, maxPixels: 5000 }))).toBe('IMAGE_TOO_LARGE');
    expect(code(() => decodeImage(big, null, { maxBytes: 1000, maxPixels: 1e9 }))).toBe('IMAGE_TOO_LARGE');
  });
});

describe('PNG and JPEG', () => {
  const grey = Array.from({ length: 16 }, (_, i) => i * 17);

  it('decodes PNG to grey levels in [0, 1]', () => {
    const out = decodeImage(makePng(4, 4, grey), 'image/png');
    expect(out.format).toBe('png');
    close(
      out.image.data,
      grey.map((g) => g / 255),
    );
  });

  it('decodes JPEG to grey levels within compression error', () => {
    const flat = new Array(64).fill(200);
    const out = decodeImage(makeJpeg(8, 8, flat), 'image/jpeg');
    expect(out.format).toBe('jpeg');
    close(
      out.image.data,
      flat.map((g) => g / 255),
      0.02,
    );
  });

  it('checks the declared type against the bytes, and refuses what is not an image', () => {
    const png = makePng(4, 4, grey);
    expect(sniffFormat(png)).toBe('png');
    expect(() => decodeImage(png, 'image/jpeg')).toThrow(/declared image\/jpeg but the bytes are png/);
    expect(code(() => decodeImage(png, 'image/gif'))).toBe('IMAGE_UNSUPPORTED');
    expect(code(() => decodeImage(new TextEncoder().encode('<html>not an image</html>')))).toBe('IMAGE_MALFORMED');
    expect(code(() => decodeImage(new Uint8Array(0)))).toBe('IMAGE_EMPTY');
    expect(code(() => decodeImage(png.slice(0, 40)))).toBe('IMAGE_MALFORMED');
  });

  it('reads width and height from the PNG header and refuses a decompression bomb unread', () => {
    // A valid PNG header claiming 100000 × 100000 pixels, with no image data.
    const header = makePng(1, 1, [0]).slice(0, 33);
    new DataView(header.buffer).setUint32(16, 100_000);
    new DataView(header.buffer).setUint32(20, 100_000);
    expect(code(() => decodeImage(header))).toBe('IMAGE_TOO_LARGE');
  });
});

describe('resizing', () => {
  it('averages areas when downsampling, including fractional edges', () => {
    const src = { width: 4, height: 4, data: Float32Array.from({ length: 16 }, (_, i) => i % 4) };
    close(resizeGrey(src, 2, 2).data, [0.5, 2.5, 0.5, 2.5]);
    // 3 → 2 columns: each output column covers 1.5 input columns.
    const row = { width: 3, height: 1, data: Float32Array.from([0, 3, 6]) };
    close(resizeGrey(row, 2, 1).data, [(0 + 0.5 * 3) / 1.5, (0.5 * 3 + 6) / 1.5]);
  });

  it('keeps a constant image constant at any size, and returns the same image when the size matches', () => {
    const flat = { width: 57, height: 43, data: new Float32Array(57 * 43).fill(0.3) };
    for (const v of resizeGrey(flat, 28, 28).data) expect(v).toBeCloseTo(0.3, 5);
    for (const v of resizeGrey({ width: 7, height: 7, data: new Float32Array(49).fill(0.6) }, 28, 28).data)
      expect(v).toBeCloseTo(0.6, 5);
    expect(resizeGrey(flat, 57, 43)).toBe(flat);
  });
});

describe('.npy and .npz', () => {
  const npy = (header: string, payload: Uint8Array, version = 1) => {
    const padded =
      header.padEnd(Math.ceil((header.length + (version === 1 ? 11 : 13)) / 64) * 64 - (version === 1 ? 11 : 13), ' ') +
      '\n';
    const head = new Uint8Array(version === 1 ? 10 : 12);
    head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
    const view = new DataView(head.buffer);
    if (version === 1) view.setUint16(8, padded.length, true);
    else view.setUint32(8, padded.length, true);
    const out = new Uint8Array(head.length + padded.length + payload.length);
    out.set(head);
    out.set(new TextEncoder().encode(padded), head.length);
    out.set(payload, head.length + padded.length);
    return out;
  };

  it('parses version 1 and 2 headers, uint8 and little-endian int64', () => {
    const a = parseNpy(
      npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 3), }", Uint8Array.from([1, 2, 3, 4, 5, 6])),
    );
    expect(a).toMatchObject({ dtype: 'uint8', shape: [2, 3] });
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const b = parseNpy(
      npy(
        "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
        new Uint8Array(BigInt64Array.from([7n, -1n]).buffer),
        2,
      ),
    );
    expect(Array.from(b.data)).toEqual([7, -1]);
  });

  it('refuses bad magic, Fortran order and truncated payloads', () => {
    expect(() => parseNpy(new Uint8Array(20))).toThrow(NpyError);
    expect(() =>
      parseNpy(npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2), }", new Uint8Array(4))),
    ).toThrow(/Fortran/);
    expect(() =>
      parseNpy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (9, 9), }", new Uint8Array(4))),
    ).toThrow(/truncated/);
  });

  it('loads a split from an .npz and validates images and labels', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'npz-'));
    try {
      const file = path.join(dir, 'x.npz');
      const images = npy(
        "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }",
        Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7]),
      );
      writeFileSync(
        file,
        zipSync({
          'test_images.npy': images,
          'test_labels.npy': npy(
            "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }",
            Uint8Array.from([0, 1]),
          ),
        }),
      );
      const split = loadSplit(file);
      expect(split).toMatchObject({ split: 'test', count: 2, height: 2, width: 2 });
      expect(Array.from(split.labels)).toEqual([0, 1]);
      writeFileSync(
        file,
        zipSync({
          'val_images.npy': images,
          'val_labels.npy': npy("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }", Uint8Array.from([0, 3])),
        }),
      );
      expect(() => loadSplit(file)).toThrow(/labels must be 0 or 1/);
      expect(() => loadSplit(file, ['test'])).toThrow(/no <split>_images/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
