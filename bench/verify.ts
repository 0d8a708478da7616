/**
 * Checking a figure's output against the Float64 reference once, before it is timed, so that a
 * fast wrong kernel cannot score. Small outputs are compared in full; large ones at sampled
 * elements, each recomputed by the reference function on a slice (a 1×1 matmul is a Float64 dot product).
 */
import { mulberry32 } from '../src/model/random.js';
import type { Check } from './types.js';

/** Element rule |gpu − ref| ≤ atol + rtol·|ref|. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/**
 * Relative rule of whole tensors (as in `checkStep`): |gpu − ref| / max(|ref|, 1e-3·max|ref|) ≤ rel.
 * Tensors of one training step differ in scale by orders of magnitude (logits ~1, dZ ~1/B), which
 * one absolute tolerance cannot serve.
 */
export const REL_FLOOR = 1e-3;

/** Accumulates element comparisons over one or more tensors into a {@link Check}. */
export class CheckBuilder {
  private elements = 0;
  private maxError = 0;
  private worst = '';
  /** Error over allowance of the worst element; > 1 fails. */
  private worstRatio = -1;
  private failure: string | undefined;

  /** `relFloor`: the floor of |ref| in {@link rel}, as a fraction of the tensor's max |ref|. */
  constructor(
    readonly method: Check['method'],
    readonly measure: Check['measure'],
    readonly tolerance: string,
    readonly relFloor = REL_FLOOR,
  ) {}

  /** Compares `gpu[i]` to `ref[i]` for every i (or the given indices) under an absolute + relative rule. */
  abs(
    tensor: string,
    gpu: ArrayLike<number>,
    ref: ArrayLike<number>,
    tol: Tolerance,
    indices?: ArrayLike<number>,
  ): this {
    if (!this.sameLength(tensor, gpu, ref, indices)) return this;
    const n = indices ? indices.length : ref.length;
    for (let k = 0; k < n; k++) {
      const i = indices ? indices[k] : k;
      const d = Math.abs(gpu[i] - ref[i]);
      const allowed = tol.atol + tol.rtol * Math.abs(ref[i]);
      const error = Number.isNaN(d) ? Infinity : d;
      this.record(tensor, i, gpu[i], ref[i], error, error === 0 ? 0 : allowed > 0 ? error / allowed : Infinity);
    }
    this.elements += n;
    return this;
  }

  /** Compares under the tensor-relative rule with bound `rel`: |gpu − ref| ≤ rel·max(|ref|, relFloor·max|ref|). */
  rel(tensor: string, gpu: ArrayLike<number>, ref: ArrayLike<number>, rel: number, indices?: ArrayLike<number>): this {
    if (!this.sameLength(tensor, gpu, ref, indices)) return this;
    const n = indices ? indices.length : ref.length;
    let scale = 0;
    for (let k = 0; k < n; k++) scale = Math.max(scale, Math.abs(ref[indices ? indices[k] : k]));
    const floor = Math.max(scale * this.relFloor, Number.MIN_VALUE);
    for (let k = 0; k < n; k++) {
      const i = indices ? indices[k] : k;
      const d = Math.abs(gpu[i] - ref[i]);
      const error = Number.isNaN(d) ? Infinity : d / Math.max(Math.abs(ref[i]), floor);
      this.record(tensor, i, gpu[i], ref[i], error, error / rel);
    }
    this.elements += n;
    return this;
  }

  /** Marks the check failed for a reason other than a value (a wrong length, a missing output). */
  fail(tensor: string, reason: string): this {
    this.failure ??= `${tensor}: ${reason}`;
    return this;
  }

  private sameLength(
    tensor: string,
    gpu: ArrayLike<number>,
    ref: ArrayLike<number>,
    indices: ArrayLike<number> | undefined,
  ): boolean {
    if (indices === undefined && gpu.length !== ref.length) {
      this.fail(tensor, `GPU gave ${gpu.length} values, the reference ${ref.length}`);
      return false;
    }
    return true;
  }

  private record(tensor: string, i: number, g: number, r: number, error: number, ratio: number): void {
    this.maxError = Math.max(this.maxError, error);
    if (ratio > this.worstRatio) {
      this.worstRatio = ratio;
      this.worst = `${tensor}[${i}]: gpu ${g}, ref ${r}`;
    }
  }

  result(): Check {
    const verified = this.failure === undefined && this.elements > 0 && this.worstRatio <= 1;
    return {
      verified,
      method: this.method,
      elements: this.elements,
      measure: this.measure,
      maxError: this.maxError,
      tolerance: this.tolerance,
      worst: this.failure ?? (this.elements === 0 ? 'nothing was compared' : this.worst),
    };
  }
}

/**
 * `count` distinct indices in 0..n−1, sorted: the first, the last and seeded random others.
 * All of 0..n−1 when count ≥ n.
 */
export function sampleIndices(n: number, count: number, seed: number): Uint32Array {
  if (count >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  const picked = new Set<number>([0, n - 1]);
  while (picked.size < count) picked.add(Math.floor(rand() * n));
  return Uint32Array.from([...picked].sort((a, b) => a - b));
}

/** A seed derived from a figure's name, so that every figure has its own inputs, the same on every run. */
export function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** n floats uniform in [lo, hi), seeded. */
export function randomF32(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** n integers uniform in 0..max−1, seeded. */
export function randomU32(n: number, seed: number, max: number): Uint32Array {
  const rand = mulberry32(seed);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rand() * max);
  return out;
}
