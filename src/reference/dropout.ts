// dropout: inverted dropout with a counter-based random mask                    (docs/maths.md §10)
//   keep[i] = (hash(i, step, seed, block) >> 8) ≥ t,   t = round(p·2²⁴)       P(keep) = 1 − t/2²⁴ ≈ 1 − p
//   forward   out[i] = keep[i] ? x[i]·s : 0,    s = 1/(1 − p)
//   backward  dx[i]  = keep[i] ? dout[i]·s : 0  (times act'(V) of the layer below, fused by the caller)
// hash is pcg4d (Jarzynski and Olano, "Hash Functions for GPU Rendering", JCGT 2020): a function of
// (element, step, seed, block) alone, with no state, in 32-bit integer arithmetic that WGSL's u32 and
// JavaScript's Math.imul compute alike, so shaders/dropout.wgsl draws exactly these masks.
// i = r·cols + c indexes the [B, cols] activation row-major; `step` counts the model's training steps.
import { checkLength } from './check.js';

/** pcg4d's first output for (x, y, z, w): a 32-bit hash, as shaders/dropout.wgsl `pcg4d(…).x`. */
export function pcg4d(x: number, y: number, z: number, w: number): number {
  x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  y = (Math.imul(y, 1664525) + 1013904223) >>> 0;
  z = (Math.imul(z, 1664525) + 1013904223) >>> 0;
  w = (Math.imul(w, 1664525) + 1013904223) >>> 0;
  x = (x + Math.imul(y, w)) >>> 0;
  y = (y + Math.imul(z, x)) >>> 0;
  z = (z + Math.imul(x, y)) >>> 0;
  w = (w + Math.imul(y, z)) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  y = (y ^ (y >>> 16)) >>> 0;
  z = (z ^ (z >>> 16)) >>> 0;
  w = (w ^ (w >>> 16)) >>> 0;
  return (x + Math.imul(y, w)) >>> 0;
}

/** The integer threshold of a drop probability: an element is kept when its hash's top 24 bits are ≥ it. */
export function dropoutThreshold(p: number): number {
  return Math.round(p * 2 ** 24);
}

/** Where a dropout mask comes from: the model's seed, the training step, and the block the layer is in. */
export interface DropoutStream {
  seed: number;
  step: number;
  block: number;
}

/** Whether element i is kept. */
export function dropoutKeeps(stream: DropoutStream, threshold: number, i: number): boolean {
  return pcg4d(i, stream.step, stream.seed, stream.block) >>> 8 >= threshold;
}

/** The mask of `count` elements: 1 kept, 0 dropped. */
export function dropoutMaskRef(stream: DropoutStream, p: number, count: number): Uint8Array {
  const t = dropoutThreshold(p);
  const mask = new Uint8Array(count);
  for (let i = 0; i < count; i++) mask[i] = dropoutKeeps(stream, t, i) ? 1 : 0;
  return mask;
}

/** out = x·keep/(1 − p). */
export function dropoutForwardRef(x: ArrayLike<number>, mask: Uint8Array, p: number, out: Float64Array): void {
  checkLength('mask', mask, x.length, 'x.length');
  checkLength('out', out, x.length, 'x.length');
  const s = 1 / (1 - p);
  for (let i = 0; i < x.length; i++) out[i] = mask[i] ? x[i] * s : 0;
}

/** dx = dout·keep/(1 − p) (the same scaling as the forward: the mask is a constant of the step). */
export function dropoutBackwardRef(dout: ArrayLike<number>, mask: Uint8Array, p: number, dx: Float64Array): void {
  dropoutForwardRef(dout, mask, p, dx);
}
