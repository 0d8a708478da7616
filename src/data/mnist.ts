/**
 * MNIST from its IDX files, platform-neutral (the bytes may come from fetch or from node:fs).
 */

import { parseIdx } from './idx.js';

/** Image height and width in pixels. */
export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
/** Pixels per image, D = 784. */
export const MNIST_PIXELS = MNIST_ROWS * MNIST_COLS;
/** Number of classes, C = 10 (digits 0..9). */
export const MNIST_CLASSES = 10;

/** One split (train or test) of MNIST. */
export interface MnistSplit {
  /** [count, 784] raw pixels 0..255, row-major, one image per row (0 is background). */
  images: Uint8Array;
  /** [count] digit labels 0..9. */
  labels: Uint8Array;
  count: number;
  rows: 28;
  cols: 28;
}

/**
 * Build a split from the bytes of its two IDX files.
 * `images` is a view of `imagesBytes` and `labels` a view of `labelsBytes` (no copy).
 * @param splitName how errors name the split ('train', 'test')
 * @throws Error when a file is not valid IDX, has the wrong type or shape, or a label is outside 0..9
 */
export function mnistFromIdx(imagesBytes: Uint8Array, labelsBytes: Uint8Array, splitName: string): MnistSplit {
  const imagesName = `MNIST ${splitName} images`;
  const labelsName = `MNIST ${splitName} labels`;
  const images = parseIdx(imagesBytes, imagesName);
  const labels = parseIdx(labelsBytes, labelsName);

  if (images.dtype !== 'u8' || !(images.data instanceof Uint8Array)) {
    throw new Error(`${imagesName}: element type is ${images.dtype}, expected u8`);
  }
  if (images.dims.length !== 3 || images.dims[1] !== MNIST_ROWS || images.dims[2] !== MNIST_COLS) {
    throw new Error(`${imagesName}: dims are [${images.dims.join(', ')}], expected [n, ${MNIST_ROWS}, ${MNIST_COLS}]`);
  }
  if (labels.dtype !== 'u8' || !(labels.data instanceof Uint8Array)) {
    throw new Error(`${labelsName}: element type is ${labels.dtype}, expected u8`);
  }
  if (labels.dims.length !== 1) {
    throw new Error(`${labelsName}: dims are [${labels.dims.join(', ')}], expected [n]`);
  }
  const count = images.dims[0];
  if (labels.dims[0] !== count) {
    throw new Error(
      `MNIST ${splitName}: ${count} images but ${labels.dims[0]} labels; the two files must hold the same count ` +
        '(are they from the same split?)',
    );
  }
  const labelData = labels.data;
  for (let i = 0; i < count; i++) {
    if (labelData[i] >= MNIST_CLASSES) {
      throw new Error(`${labelsName}: labels[${i}] = ${labelData[i]} is outside 0..${MNIST_CLASSES - 1}`);
    }
  }
  return { images: images.data, labels: labelData, count, rows: MNIST_ROWS, cols: MNIST_COLS };
}

/**
 * Images `start .. start+count−1` of a [n, 784] pixel array as floats in [0, 1] (pixel / 255).
 * @param images [n, 784] raw pixels, as in `MnistSplit.images`
 * @param start  first image (not pixel) index
 * @param count  number of images
 * @param out    optional [count, 784] destination; a new array when omitted
 * @returns [count, 784] row-major
 */
export function pixelsToFloat(images: Uint8Array, start: number, count: number, out?: Float32Array): Float32Array {
  if (images.length % MNIST_PIXELS !== 0) {
    throw new Error(`pixelsToFloat: images has ${images.length} bytes, not a multiple of ${MNIST_PIXELS}`);
  }
  const n = images.length / MNIST_PIXELS;
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > n) {
    throw new Error(
      `pixelsToFloat: start = ${start}, count = ${count}; expected integers with start ≥ 0, count ≥ 0 ` +
        `and start + count ≤ ${n} (the number of images)`,
    );
  }
  const dst = out ?? new Float32Array(count * MNIST_PIXELS);
  if (dst.length !== count * MNIST_PIXELS) {
    throw new Error(`pixelsToFloat: out has ${dst.length} elements, expected ${count} × ${MNIST_PIXELS}`);
  }
  const base = start * MNIST_PIXELS;
  for (let i = 0; i < dst.length; i++) dst[i] = images[base + i] / 255;
  return dst;
}

/**
 * The first `count` images of a split (all by default) as a data set for the trainers: pixels as
 * bytes, scaled by 1/255 when read (a GpuDataset source, or the CPU trainer's HostDataset).
 */
export function mnistDataset(
  split: MnistSplit,
  count = split.count,
): { images: Uint8Array; labels: Uint8Array; count: number; cols: number; classes: number; scale: number } {
  const n = Math.min(count, split.count);
  return {
    images: split.images.subarray(0, n * MNIST_PIXELS),
    labels: split.labels.subarray(0, n),
    count: n,
    cols: MNIST_PIXELS,
    classes: MNIST_CLASSES,
    scale: 1 / 255,
  };
}
