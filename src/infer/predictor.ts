/**
 * Inference on the GPU: the head's outputs for inputs in host memory (read back) or in an
 * application's GPU buffer (written to a GPU buffer, nothing read back), in chunks whose buffers fit
 * the device. Forward plans are cached per row count within a byte budget (see PlanCache), so memory
 * stays bounded whatever sequence of row counts an application uses. The training Model predicts
 * through one, and the inference entry (src/infer.ts) is one over a loaded file's parameters.
 */
import { PLAN_CACHE_BYTES, type PlanBudget, PlanCache } from '../gpu/plan_cache.js';
import { ForwardPlan, maxPlanRows, type PlanModel } from './plan.js';
import type { GpuRows } from './predict_gpu.js';

/** Rows per chunk of a prediction unless the device binds fewer. */
export const PREDICT_CHUNK_ROWS = 1024;

export class Predictor {
  /** The forward plans by row count. */
  readonly plans: PlanCache<[number], ForwardPlan>;

  constructor(
    /** @internal */
    readonly model: PlanModel,
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
   * buffer the caller owns): see predictOnGpu in ./predict_gpu.ts, a chunk loaded by the first
   * prediction on GPU inputs (an application that predicts from host memory never downloads it, nor
   * the checks of its buffers).
   */
  async predictOnGpu(inputs: GpuRows, output?: GPUBuffer): Promise<GPUBuffer> {
    return (await import('./predict_gpu.js')).predictOnGpu(this, inputs, output);
  }

  /**
   * Encodes a chunk's forward pass and submits it inside a validation error scope (submitChecked);
   * `copies` encodes the copies before the pass and returns those after it.
   */
  /** @internal */
  submit(plan: ForwardPlan, copies?: (encoder: GPUCommandEncoder) => () => void): Promise<GPUError | null> {
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
  /** @internal */
  async check(refused: Promise<GPUError | null>[], buffers: [string, GPUBuffer][]): Promise<void> {
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
