/**
 * For the tests of the row kernels (softmax, argmax, softmax_xent, sigmoid_bce): their options, the
 * awkward shapes they all run, and one way to run a loss head (softmax_xent, sigmoid_bce: both write
 * dZ [rows, cols], each row's loss and each row's count of correct outputs) and read it back.
 */
import type { GpuContext } from '../../src/gpu/context.js';
import type { RowVariant } from '../../src/kernels/check.js';
import { type GpuOp, OpScope, submitOps } from '../../src/kernels/op.js';
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

/** The largest weight, at least 1: what a loss head's absolute tolerances scale by. */
export function weightScale(weights: Float32Array | undefined): number {
  return weights ? Math.max(1, ...weights) : 1;
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

interface Outputs {
  gradLogits: GPUBuffer;
  lossRows: GPUBuffer;
  correctRows: GPUBuffer;
  /** The loss weights uploaded, when given. */
  weights?: GPUBuffer;
}

/**
 * Prepares the head with fresh output buffers (and `weights` uploaded, when given) inside a validation
 * scope, runs it once and reads the outputs.
 */
export async function runLossHead(
  ctx: GpuContext,
  rows: number,
  cols: number,
  prepare: (scope: OpScope, outputs: Outputs) => Promise<GpuOp>,
  weights?: Float32Array,
): Promise<LossHeadResult> {
  const scope = new OpScope(ctx);
  const outputs = {
    gradLogits: emptyF32(ctx, 'test.dZ', rows * cols),
    lossRows: emptyF32(ctx, 'test.loss', rows),
    correctRows: emptyF32(ctx, 'test.correct', rows),
    weights: weights && upload(ctx, 'test.weights', weights),
  };
  try {
    return await withValidation(ctx, async () => {
      submitOps(ctx, [await prepare(scope, outputs)]);
      return {
        grad: await ctx.readF32(outputs.gradLogits, 0, rows * cols),
        loss: await ctx.readF32(outputs.lossRows, 0, rows),
        correct: new Uint32Array(await ctx.read(outputs.correctRows, 0, rows * 4)),
      };
    });
  } finally {
    scope.destroy();
  }
}
