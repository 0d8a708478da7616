/**
 * Inference on the GPU: the head's outputs for inputs in host memory (read back) or in an
 * application's GPU buffer (written to a GPU buffer, nothing read back), in chunks whose buffers fit
 * the device. Forward plans are cached per row count within a byte budget (see PlanCache), so memory
 * stays bounded whatever sequence of row counts an application uses. The training Model predicts
 * through one, and the inference entry (src/infer.ts) is one over a loaded file's parameters.
 */
import { checkAppBuffer } from '../gpu/app_buffer.js';
import { checkBufferSize, formatBytes } from '../gpu/context.js';
import { PLAN_CACHE_BYTES, type PlanBudget, PlanCache } from '../gpu/plan_cache.js';
import { ForwardPlan, maxPlanRows, type PlanModel } from './plan.js';

/** What an application's input buffer holds: f32 [count, D], row-major. */
export interface GpuRows {
  buffer: GPUBuffer;
  count: number;
}

/** Rows per chunk of a prediction unless the device binds fewer. */
export const PREDICT_CHUNK_ROWS = 1024;

export class Predictor {
  /** The forward plans by row count. */
  readonly plans: PlanCache<[number], ForwardPlan>;

  constructor(
    private readonly model: PlanModel,
    /** The budget its plans share (a training network's, with its step plans), or bytes for its own. */
    budget: PlanBudget | number = PLAN_CACHE_BYTES,
  ) {
    this.plans = new PlanCache((rows: number) => ForwardPlan.create(model, rows), budget);
  }

  /** Rows per chunk on this device: at most PREDICT_CHUNK_ROWS, and what one binding holds. */
  get chunkRows(): number {
    return Math.max(1, Math.min(PREDICT_CHUNK_ROWS, maxPlanRows(this.model.spec, this.model.ctx.device.limits)));
  }

  /** The head's outputs [rows, C] for x: [rows, D] f32 in host memory (read back). */
  async predict(x: Float32Array, rows: number): Promise<Float32Array> {
    const { ctx, spec } = this.model;
    const D = spec.layers[0];
    const C = spec.layers[spec.layers.length - 1];
    const out = new Float32Array(rows * C);
    const chunk = this.chunkRows;
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      await this.plans.with([n], async (plan) => {
        const xs = x.subarray(start * D, (start + n) * D);
        ctx.device.queue.writeBuffer(plan.x, 0, xs.buffer as ArrayBuffer, xs.byteOffset, xs.byteLength);
        const refused = this.submit(plan);
        const values = ctx.readF32(plan.probs, 0, n * C);
        await this.check([refused], []);
        out.set(await values, start * C);
      });
    }
    return out;
  }

  /**
   * The head's outputs [count, C] for an application's GPU inputs, written to `output` (or to a new
   * buffer, STORAGE | COPY_SRC | COPY_DST, which the caller owns and destroys). Nothing is read back:
   * rows are copied into each chunk's input buffer and the outputs out of it on the GPU, so the result
   * is bit for bit what `predict` returns for the same values. The application's buffers are checked
   * first (checkAppBuffer), and a validation error of the work rejects the call, naming the buffer.
   */
  async predictOnGpu(inputs: GpuRows, output?: GPUBuffer): Promise<GPUBuffer> {
    const { ctx, spec, label } = this.model;
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
    const chunk = this.chunkRows;
    const refused: Promise<GPUError | null>[] = [];
    try {
      for (let start = 0; start < count; start += chunk) {
        const n = Math.min(chunk, count - start);
        await this.plans.with([n], async (plan) => {
          refused.push(
            this.submit(plan, (encoder) => {
              encoder.copyBufferToBuffer(buffer, start * D * 4, plan.x, 0, n * D * 4);
              return () => encoder.copyBufferToBuffer(plan.probs, 0, target, start * C * 4, n * C * 4);
            }),
          );
        });
      }
      await this.check(refused, [
        ['inputs', buffer],
        ...(output ? [['options.output', output] as [string, GPUBuffer]] : []),
      ]);
    } catch (error) {
      if (!output) target.destroy(); // ours until returned
      throw error;
    }
    return target;
  }

  /**
   * Encodes a chunk's forward pass and submits it inside a validation error scope (submitChecked);
   * `copies` encodes the copies before the pass and returns those after it.
   */
  private submit(plan: ForwardPlan, copies?: (encoder: GPUCommandEncoder) => () => void): Promise<GPUError | null> {
    const { ctx, label } = this.model;
    return ctx.submitChecked(() => {
      const encoder = ctx.device.createCommandEncoder({ label: `${label}.predict` });
      const after = copies?.(encoder);
      const pass = encoder.beginComputePass({ label: `${label}.predict` });
      plan.encode(pass);
      pass.end();
      after?.();
      ctx.device.queue.submit([encoder.finish()]);
    });
  }

  /** Throws when the device refused the work: naming the application's buffer that caused it. */
  private async check(refused: Promise<GPUError | null>[], buffers: [string, GPUBuffer][]): Promise<void> {
    const error = (await Promise.all(refused)).find((e) => e);
    if (!error) return;
    // Loaded only now: a prediction that works never downloads it.
    const { refusedWork } = await import('../gpu/refused.js');
    throw await refusedWork(this.model.ctx, 'predict', error, buffers);
  }

  destroy(): Promise<void> {
    return this.plans.destroy();
  }
}
