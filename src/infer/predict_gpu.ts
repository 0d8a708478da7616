/**
 * Prediction on an application's GPU inputs: a chunk of its own (Predictor.predictOnGpu loads it), so
 * that an application predicting from host memory loads neither this nor the checks of its buffers
 * (src/gpu/app_buffer.ts).
 */
import { checkAppBuffer } from '../gpu/app_buffer.js';
import { checkBufferSize, formatBytes } from '../gpu/context.js';
import type { PlanCache } from '../gpu/plan_cache.js';
import type { ForwardPlan, PlanModel } from './plan.js';

/** What an application's input buffer holds: f32 [count, D], row-major. */
export interface GpuRows {
  buffer: GPUBuffer;
  count: number;
}

/** What this needs of the Predictor (./predictor.ts, which loads this). */
export interface GpuPredictor {
  readonly model: PlanModel;
  readonly chunkRows: number;
  readonly plans: PlanCache<[number], ForwardPlan>;
  submit(plan: ForwardPlan, copies?: (encoder: GPUCommandEncoder) => () => void): Promise<GPUError | null>;
  check(refused: Promise<GPUError | null>[], buffers: [string, GPUBuffer][]): Promise<void>;
}

/**
 * The head's outputs [count, C] for an application's GPU inputs, written to `output` (or to a new
 * buffer, STORAGE | COPY_SRC | COPY_DST, which the caller owns and destroys). Nothing is read back:
 * rows are copied into each chunk's input buffer and the outputs out of it on the GPU, so the result
 * is bit for bit what `predict` returns for the same values. The application's buffers are checked
 * first (checkAppBuffer), and a validation error of the work rejects the call, naming the buffer.
 */
export async function predictOnGpu(predictor: GpuPredictor, inputs: GpuRows, output?: GPUBuffer): Promise<GPUBuffer> {
  const { ctx, spec, label } = predictor.model;
  const D = spec.layers[0];
  const C = spec.layers[spec.layers.length - 1];
  const { buffer, count } = inputs;
  const outBytes = count * C * 4;
  checkAppBuffer(ctx, 'inputs', buffer, { usage: ['COPY_SRC'], bytes: count * D * 4, shape: `f32 [${count}, ${D}]` });
  if (output) {
    checkAppBuffer(
      ctx,
      'options.output',
      output,
      { usage: ['COPY_DST'], bytes: outBytes, shape: `f32 [${count}, ${C}]` },
      buffer,
    );
  }
  if (!output) checkBufferSize(ctx.device.limits, `predictions f32 [${count}, ${C}]`, outBytes, true);
  const target =
    output ??
    (await ctx.allocating(
      `predictions f32 [${count}, ${C}] (${formatBytes(outBytes)})`,
      () =>
        ctx.device.createBuffer({
          label: `${label}.predictions`,
          size: Math.max(4, outBytes),
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        }),
      (made) => made.destroy(),
      'predict fewer rows at a time, or pass your own output buffer',
    ));
  const chunk = predictor.chunkRows;
  const refused: Promise<GPUError | null>[] = [];
  try {
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      await predictor.plans.with([n], async (plan) => {
        refused.push(
          predictor.submit(plan, (encoder) => {
            encoder.copyBufferToBuffer(buffer, start * D * 4, plan.x, 0, n * D * 4);
            return () => encoder.copyBufferToBuffer(plan.probs, 0, target, start * C * 4, n * C * 4);
          }),
        );
      });
    }
    await predictor.check(refused, [
      ['inputs', buffer],
      ...(output ? [['options.output', output] as [string, GPUBuffer]] : []),
    ]);
  } catch (error) {
    if (!output) target.destroy(); // ours until returned
    throw error;
  }
  return target;
}
