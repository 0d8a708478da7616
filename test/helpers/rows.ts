/**
 * For the tests of the row kernels (softmax, argmax, softmax_xent, sigmoid_bce, regression): their
 * options, the awkward shapes they all run, and one way to run a loss head (softmax_xent, sigmoid_bce,
 * regression: each writes dZ [rows, cols], each row's loss and each row's count of correct outputs,
 * optionally weighted) and read it back and compare it with its Float64 twin.
 */
import { expect } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import type { LossHeadArgs, RowVariant } from '../../src/kernels/check.js';
import { type GpuOp, OpScope, submitOps } from '../../src/kernels/op.js';
import { expectClose, type Tolerance } from './close.js';
import { emptyF32, upload, withValidation } from './gpu.js';
import { mulberry32 } from './random.js';

/** Which kernel runs (a workgroup or an invocation per row), and a forced per-dimension workgroup limit. */
export interface RowKernelOptions {
  variant?: RowVariant;
  maxWorkgroupsPerDimension?: number;
}

/** …and for a loss head, the batch-mean divisor (default rows) and the rows' loss weights (default none). */
export interface LossHeadOptions extends RowKernelOptions {
  batchSize?: number;
  weights?: Float32Array;
}

/** Loss weights for `rows` rows: in [0, 3), every fifth exactly 0 (a row with no influence). */
export function lossWeights(rows: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: rows }, (_, r) => (r % 5 === 2 ? 0 : 3 * next()));
}

/** [rows, cols]: single rows and columns, primes around the workgroup sizes, MNIST's 784, wide rows. */
export const ROW_SHAPES: readonly (readonly [number, number])[] = [
  [1, 1],
  [7, 13],
  [13, 1],
  [127, 10],
  [1000, 10],
  [257, 7],
  [13, 784],
  [7, 1000],
];

export interface LossHeadResult {
  grad: Float32Array;
  loss: Float32Array;
  correct: Uint32Array;
}

/** What a head's kernel is prepared with: the shared loss-head arguments, buffers made and uploaded. */
type PreparedArgs = LossHeadArgs & RowKernelOptions;

/**
 * Uploads the logits (and the weights, when given), makes fresh output buffers, prepares the head with
 * them inside a validation scope (`prepare` adds the head's own arguments: its targets), runs it once
 * and reads the outputs back.
 */
export async function runLossHead(
  ctx: GpuContext,
  z: Float32Array,
  rows: number,
  cols: number,
  { batchSize = rows, weights, ...kernel }: LossHeadOptions,
  prepare: (scope: OpScope, args: PreparedArgs) => Promise<GpuOp>,
): Promise<LossHeadResult> {
  const scope = new OpScope(ctx);
  const args: PreparedArgs = {
    logits: upload(ctx, 'test.Z', z),
    rows,
    cols,
    batchSize,
    gradLogits: emptyF32(ctx, 'test.dZ', rows * cols),
    lossRows: emptyF32(ctx, 'test.loss', rows),
    correctRows: emptyF32(ctx, 'test.correct', rows),
    weights: weights && upload(ctx, 'test.weights', weights),
    ...kernel,
  };
  try {
    return await withValidation(ctx, async () => {
      submitOps(ctx, [await prepare(scope, args)]);
      return {
        grad: await ctx.readF32(args.gradLogits as GPUBuffer, 0, rows * cols),
        loss: await ctx.readF32(args.lossRows as GPUBuffer, 0, rows),
        correct: new Uint32Array(await ctx.read(args.correctRows as GPUBuffer, 0, rows * 4)),
      };
    });
  } finally {
    scope.destroy();
  }
}

/**
 * A head's dZ and loss against its Float64 twin's. Weighted, each is one more f32 product, rounded
 * once: the same relative bounds, the absolute ones scaled by the largest weight.
 */
export function expectLossHead(
  got: LossHeadResult,
  ref: { grad: Float64Array; loss: Float64Array },
  tol: { grad: Tolerance; loss: Tolerance },
  weights: Float32Array | undefined,
  what: string,
): void {
  const scale = weights ? Math.max(1, ...weights) : 1;
  expectClose(got.grad, ref.grad, { ...tol.grad, atol: tol.grad.atol * scale }, `${what} dZ`);
  expectClose(got.loss, ref.loss, { ...tol.loss, atol: tol.loss.atol * scale }, `${what} loss`);
}

/** The rows `lossWeights` gives weight 0 (every fifth from row 2) have loss 0 and dZ 0 exactly (±0). */
export function expectZeroWeightRows(got: LossHeadResult, rows: number, cols: number): void {
  for (let r = 2; r < rows; r += 5) {
    expect(Math.abs(got.loss[r]), `loss[${r}] of weight 0`).toBe(0);
    expect(
      got.grad.subarray(r * cols, (r + 1) * cols).every((v) => v === 0),
      `dZ[${r}, :] of weight 0`,
    ).toBe(true);
  }
}

/** Two runs of a head with the same results, bit for bit (e.g. weights all 1 and no weights). */
export function expectSameResults(a: LossHeadResult, b: LossHeadResult, what: string): void {
  expect(Array.from(a.grad), `${what} dZ`).toEqual(Array.from(b.grad));
  expect(Array.from(a.loss), `${what} loss`).toEqual(Array.from(b.loss));
  expect(Array.from(a.correct), `${what} correct`).toEqual(Array.from(b.correct));
}
