/**
 * Argument guards and dispatch-size helpers shared by the kernel wrappers. A wrong size is a bug in
 * the caller, so it fails while preparing (never inside a step) and says what was given, what was
 * expected and what to do.
 */
import type { KernelPreference } from '../gpu/context.js';
import type { BufferRef } from './op.js';

/**
 * What a dispatch's shape depends on besides its arguments: the device's per-dimension workgroup limit
 * and the kernel family it prefers. A GpuContext is one; the contract tests pass a plain object.
 */
export interface WorkgroupTarget {
  readonly device: { readonly limits: { readonly maxComputeWorkgroupsPerDimension: number } };
  readonly kernelPreference: KernelPreference;
}

/** Throws unless `value` is an integer ≥ `min` (1 by default: a dimension such as rows or cols). */
export function checkInt(label: string, name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${label}: ${name} = ${value}, expected an integer ≥ ${min}`);
  }
}

/** Bytes a binding of `ref` covers: the range's size, or the rest of the buffer after its offset. */
export function bindingBytes(ref: BufferRef): number {
  if ('buffer' in ref) return ref.size ?? ref.buffer.size - (ref.offset ?? 0);
  return ref.size;
}

/** Throws unless `ref` holds at least `bytes` bytes; `shape` names what it should hold, e.g. `'f32 [rows, cols]'`. */
export function checkBuffer(label: string, name: string, ref: BufferRef, bytes: number, shape: string): void {
  const have = bindingBytes(ref);
  if (have < bytes) {
    throw new Error(`${label}: ${name} binds ${have} bytes, expected at least ${bytes} for ${shape}`);
  }
}

/**
 * Splits `workgroups` over x and y so that neither exceeds `maxPerDimension`: (workgroups, 1) when it
 * fits, else (⌈workgroups / y⌉, y) with y = ⌈workgroups / maxPerDimension⌉. The shader numbers the
 * workgroups linearly, wid.x + wid.y·nwg.x, and skips the few past `workgroups`.
 */
export function grid2d(workgroups: number, maxPerDimension: number): [number, number] {
  if (workgroups <= maxPerDimension) return [workgroups, 1];
  const y = Math.ceil(workgroups / maxPerDimension);
  return [Math.ceil(workgroups / y), y];
}

/**
 * The per-dimension workgroup limit to split against: the device's, or a smaller one given by a test
 * to exercise the 2D path without a 16M-element buffer.
 */
export function workgroupLimit(target: WorkgroupTarget, label: string, override?: number): number {
  const max = target.device.limits.maxComputeWorkgroupsPerDimension;
  if (override === undefined) return max;
  if (!Number.isInteger(override) || override < 1 || override > max) {
    throw new Error(`${label}: maxWorkgroupsPerDimension = ${override}, expected an integer in 1..${max}`);
  }
  return override;
}

/**
 * How a row-wise kernel (softmax_xent, sigmoid_bce, softmax, argmax) maps rows to invocations:
 * - `'row'`: one invocation per row, serial over its columns; no workgroup memory, no barriers.
 * - `'workgroup'`: one workgroup per row, its invocations strided over the columns and tree-reduced.
 */
export type RowVariant = 'row' | 'workgroup';

/** Rows up to this many columns take the `'row'` variant on every adapter (C = 10 classes, say). */
export const ROW_VARIANT_MAX_COLS = 64;

/**
 * The variant asked for, else `'row'` for narrow rows (cols ≤ ROW_VARIANT_MAX_COLS) or when the context
 * prefers direct kernels (CPU implementations, where barriers are expensive), else `'workgroup'`.
 */
export function rowVariant(target: WorkgroupTarget, label: string, cols: number, requested?: RowVariant): RowVariant {
  if (requested === undefined) {
    return cols <= ROW_VARIANT_MAX_COLS || target.kernelPreference === 'direct' ? 'row' : 'workgroup';
  }
  if (requested !== 'row' && requested !== 'workgroup') {
    throw new Error(`${label}: variant = '${String(requested)}', expected 'row' or 'workgroup'`);
  }
  return requested;
}

/**
 * The workgroup grid of a row-wise kernel: one workgroup per row ('workgroup'), or one invocation per
 * row in workgroups of `wg` ('row'), split over 2D past the per-dimension limit (see grid2d).
 */
export function rowGrid(
  target: WorkgroupTarget,
  label: string,
  rows: number,
  variant: RowVariant,
  wg: number,
  maxWorkgroupsPerDimension?: number,
): [number, number] {
  const workgroups = variant === 'row' ? Math.ceil(rows / wg) : rows;
  return grid2d(workgroups, workgroupLimit(target, label, maxWorkgroupsPerDimension));
}

/** What the loss heads (softmax_xent, sigmoid_bce, regression) share: logits in, dZ and per-row statistics out. */
export interface LossHeadArgs {
  logits: BufferRef;
  rows: number;
  cols: number;
  batchSize: number;
  gradLogits: BufferRef;
  lossRows: BufferRef;
  correctRows: BufferRef;
  /**
   * w: f32 [rows], each row's loss weight (finite, ≥ 0; shaders/loss_weights.wgsl): the row's loss and
   * dZ are multiplied by it, its correct count is not. Absent: unweighted (the WEIGHTED flag off).
   */
  weights?: BufferRef;
}

/**
 * What every loss head's shader names alike: the bindings of logits, dZ, the per-row loss and correct
 * counts and the weights (shaders/loss_weights.wgsl), and the WEIGHTED flag that the weights select.
 */
export function lossHeadResources(args: LossHeadArgs): {
  flags: { WEIGHTED: boolean };
  bindings: Record<'Z' | 'dZ' | 'loss' | 'correct' | 'weights', BufferRef | undefined>;
} {
  return {
    flags: { WEIGHTED: args.weights !== undefined },
    bindings: {
      Z: args.logits,
      dZ: args.gradLogits,
      loss: args.lossRows,
      correct: args.correctRows,
      weights: args.weights,
    },
  };
}

/** Checks a loss head's shared arguments and returns its dims uniform's fields (rows, cols, batch_size). */
export function lossHeadDims(label: string, args: LossHeadArgs): { rows: number; cols: number; batch_size: number } {
  const { rows, cols, batchSize } = args;
  if (args.weights) checkBuffer(label, 'weights', args.weights, rows * 4, `f32 [${rows}]`);
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  if (!(batchSize > 0) || !Number.isFinite(batchSize)) {
    throw new Error(`${label}: batchSize = ${batchSize}, expected a positive number (the batch-mean divisor)`);
  }
  const matrix = `f32 [${rows}, ${cols}]`;
  checkBuffer(label, 'logits', args.logits, rows * cols * 4, matrix);
  checkBuffer(label, 'gradLogits', args.gradLogits, rows * cols * 4, matrix);
  checkBuffer(label, 'lossRows', args.lossRows, rows * 4, `f32 [${rows}]`);
  checkBuffer(label, 'correctRows', args.correctRows, rows * 4, `u32 [${rows}]`);
  return { rows, cols, batch_size: batchSize };
}
