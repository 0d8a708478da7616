/**
 * For the tests of the row kernels (softmax, argmax, softmax_xent, sigmoid_bce): their options, the
 * awkward shapes they all run, and one way to run a loss head (softmax_xent, sigmoid_bce: both write
 * dZ [rows, cols], each row's loss and each row's count of correct outputs) and read it back.
 */
import type { GpuContext } from '../../src/gpu/context.js';
import type { RowVariant } from '../../src/kernels/check.js';
import { type GpuOp, OpScope, submitOps } from '../../src/kernels/op.js';
import { emptyF32, withValidation } from './gpu.js';

/** Which kernel runs (a workgroup or an invocation per row), and a forced per-dimension workgroup limit. */
export interface RowKernelOptions {
  variant?: RowVariant;
  maxWorkgroupsPerDimension?: number;
}

/** …and for a loss head, the batch-mean divisor (default rows). */
export interface LossHeadOptions extends RowKernelOptions {
  batchSize?: number;
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
}

/** Prepares the head with fresh output buffers (inside a validation scope), runs it once and reads the outputs. */
export async function runLossHead(
  ctx: GpuContext,
  rows: number,
  cols: number,
  prepare: (scope: OpScope, outputs: Outputs) => Promise<GpuOp>,
): Promise<LossHeadResult> {
  const scope = new OpScope(ctx);
  const outputs = {
    gradLogits: emptyF32(ctx, 'test.dZ', rows * cols),
    lossRows: emptyF32(ctx, 'test.loss', rows),
    correctRows: emptyF32(ctx, 'test.correct', rows),
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
