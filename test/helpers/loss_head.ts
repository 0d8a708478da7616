/**
 * The two loss heads (softmax_xent, sigmoid_bce) write the same outputs: dZ [rows, cols], the loss
 * of each row and the count of correct outputs per row. One way to run them and read those back.
 */
import type { GpuContext } from '../../src/gpu/context.js';
import type { RowVariant } from '../../src/kernels/check.js';
import { type GpuOp, OpScope, submitOps } from '../../src/kernels/op.js';
import { emptyF32, withValidation } from './gpu.js';

/** The batch-mean divisor (default rows), which kernel runs, and a forced per-dimension workgroup limit. */
export interface LossHeadOptions {
  batchSize?: number;
  variant?: RowVariant;
  maxWorkgroupsPerDimension?: number;
}

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
