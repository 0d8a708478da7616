/**
 * Inference on the GPU: the head's outputs for inputs in host memory (read back) or in an
 * application's GPU buffer (written to a GPU buffer, nothing read back), in chunks whose buffers fit
 * the device. Forward plans are cached per row count within a byte budget (see PlanCache), so memory
 * stays bounded whatever sequence of row counts an application uses. The training Model predicts
 * through one, and the inference entry (src/infer.ts) is one over a loaded file's parameters.
 */
import { checkBufferSize, formatBytes } from '../gpu/context.js';
import { PLAN_CACHE_BYTES, PlanCache } from '../gpu/plan_cache.js';
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
    budget = PLAN_CACHE_BYTES,
  ) {
    this.plans = new PlanCache((rows: number) => ForwardPlan.create(model, rows), budget);
  }

  /** Rows per chunk on this device: at most PREDICT_CHUNK_ROWS, and what one binding holds. */
  get chunkRows(): number {
    return Math.max(1, Math.min(PREDICT_CHUNK_ROWS, maxPlanRows(this.model.spec, this.model.ctx.device.limits)));
  }

  /** The head's outputs [rows, C] for x: [rows, D] f32 in host memory (read back). */
  async predict(x: Float32Array, rows: number): Promise<Float32Array> {
    const { ctx, spec, label } = this.model;
    const D = spec.layers[0];
    const C = spec.layers[spec.layers.length - 1];
    const out = new Float32Array(rows * C);
    const chunk = this.chunkRows;
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      await this.plans.with([n], async (plan) => {
        const xs = x.subarray(start * D, (start + n) * D);
        ctx.device.queue.writeBuffer(plan.x, 0, xs.buffer as ArrayBuffer, xs.byteOffset, xs.byteLength);
        const encoder = ctx.device.createCommandEncoder({ label: `${label}.predict` });
        const pass = encoder.beginComputePass({ label: `${label}.predict` });
        plan.encode(pass);
        pass.end();
        ctx.device.queue.submit([encoder.finish()]);
        out.set(await ctx.readF32(plan.probs, 0, n * C), start * C);
      });
    }
    return out;
  }

  /**
   * The head's outputs [count, C] for an application's GPU inputs, written to `output` (or to a new
   * buffer, STORAGE | COPY_SRC | COPY_DST, which the caller owns and destroys). Nothing is read back:
   * rows are copied into each chunk's input buffer and the outputs out of it on the GPU, so the result
   * is bit for bit what `predict` returns for the same values.
   */
  async predictOnGpu(inputs: GpuRows, output?: GPUBuffer): Promise<GPUBuffer> {
    const { ctx, spec, label } = this.model;
    const D = spec.layers[0];
    const C = spec.layers[spec.layers.length - 1];
    const { buffer, count } = inputs;
    const outBytes = count * C * 4;
    checkGpuBuffer('inputs', buffer, count * D * 4, GPUBufferUsage.COPY_SRC, 'COPY_SRC', `f32 [${count}, ${D}]`);
    if (output) checkGpuBuffer('output', output, outBytes, GPUBufferUsage.COPY_DST, 'COPY_DST', `f32 [${count}, ${C}]`);
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
    try {
      for (let start = 0; start < count; start += chunk) {
        const n = Math.min(chunk, count - start);
        await this.plans.with([n], async (plan) => {
          const encoder = ctx.device.createCommandEncoder({ label: `${label}.predict` });
          encoder.copyBufferToBuffer(buffer, start * D * 4, plan.x, 0, n * D * 4);
          const pass = encoder.beginComputePass({ label: `${label}.predict` });
          plan.encode(pass);
          pass.end();
          encoder.copyBufferToBuffer(plan.probs, 0, target, start * C * 4, n * C * 4);
          ctx.device.queue.submit([encoder.finish()]);
        });
      }
    } catch (error) {
      if (!output) target.destroy(); // ours until returned
      throw error;
    }
    return target;
  }

  destroy(): Promise<void> {
    return this.plans.destroy();
  }
}

/** An application's buffer: large enough, with the usage our copies need. */
function checkGpuBuffer(
  name: string,
  buffer: GPUBuffer,
  bytes: number,
  usage: GPUBufferUsageFlags,
  usageName: string,
  shape: string,
): void {
  if (typeof buffer !== 'object' || buffer === null || typeof buffer.size !== 'number') {
    throw new Error(`${name}.buffer is not a GPUBuffer`);
  }
  if (buffer.size < bytes) {
    throw new Error(
      `${name}: the buffer has ${formatBytes(buffer.size)}, expected at least ${formatBytes(bytes)} for ${shape}`,
    );
  }
  if (!(buffer.usage & usage)) {
    throw new Error(`${name}: the buffer lacks GPUBufferUsage.${usageName}; create it with ${usageName} usage`);
  }
}
