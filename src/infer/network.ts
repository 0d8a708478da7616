/**
 * MLPPredictor: a saved network, loaded for inference only (loadPredictor, src/infer/mlp_predictor.ts) — the
 * forward pass and the head's outputs on the GPU, nothing of training (optimizers, losses, checkpoints,
 * the Float64 reference).
 */
import type { GpuContext } from '../gpu/context.js';
import type { GpuInputs } from '../inputs.js';
import type { ParamLayout } from '../model/layout.js';
import type { Activation, Head, MlpSpec } from '../model/spec.js';
import type { NamedPrediction, Preprocessing } from '../table/preprocessing.js';
import type { NamedRows, NamedRowsOptions } from '../table/rows.js';
import { type HostInputs, type PredictOnGpuOptions, predictInputs } from './predict.js';
import { Predictor } from './predictor.js';

export class MLPPredictor {
  /** @internal */
  protected readonly predictor: Predictor;
  private destroyed = false;
  /**
   * A network trained on a table: its input columns, scaling statistics, category lists and target
   * (class names or target columns), as `MLP.preprocessing`; undefined otherwise. A copy.
   * (Such a file loads as a subclass, from a chunk of its own: src/infer/named.ts.)
   */
  declare readonly preprocessing: Preprocessing | undefined;

  /** @internal */
  constructor(
    private readonly ctx: GpuContext,
    readonly spec: MlpSpec,
    layout: ParamLayout,
    /** The parameters, and BatchNorm's running statistics when the network has any. */
    private readonly weights: { readonly params: GPUBuffer; readonly running?: GPUBuffer },
    /** The file's metadata (how it was trained, `inputScale`, `preprocessing`…). */
    readonly metadata: Readonly<Record<string, string>>,
    label: string,
    /** A table network's transforms on the GPU (PlanModel.transform). */
    transform?: { input?: GPUBuffer; output?: GPUBuffer },
  ) {
    const { params, running } = weights;
    this.predictor = new Predictor({ ctx, spec, layout, params, running, label, transform });
  }

  /** Layer widths, input first. */
  get layers(): readonly number[] {
    return this.spec.layers;
  }

  /** Hidden activations, one per hidden layer. */
  get activations(): readonly Activation[] {
    return this.spec.activations;
  }

  get head(): Head {
    return this.spec.head;
  }

  /** The device the network lives on. */
  get device(): GPUDevice {
    return this.ctx.device;
  }

  /**
   * The head's outputs `[count, C]`, as `MLP.predict`: host inputs give a Float32Array; GPU inputs
   * (`{ buffer, count }`, f32 [count, D] with COPY_SRC usage) give a GPUBuffer with nothing read back.
   */
  predict(inputs: GpuInputs, options?: PredictOnGpuOptions): Promise<GPUBuffer>;
  predict(inputs: HostInputs): Promise<Float32Array>;
  /**
   * A network trained on a table: named rows (row objects, a Table or TableData) in, per row the class
   * with every class's probability by name, or the unscaled values by target column (as `MLP.predict`).
   */
  predict(rows: NamedRows, options?: NamedRowsOptions): Promise<NamedPrediction[]>;
  async predict(
    inputs: HostInputs | GpuInputs | NamedRows,
    options: PredictOnGpuOptions | NamedRowsOptions = {},
  ): Promise<Float32Array | GPUBuffer | NamedPrediction[]> {
    this.assertAlive();
    return predictInputs(this.predictor, this.spec, inputs as HostInputs | GpuInputs, options as PredictOnGpuOptions);
  }

  /**
   * GPU memory held: the context's bytes and buffers, and the cached prediction plans: their buffers'
   * bytes and their cost (bytes and overhead, kept within 64 MiB; see MLP.memory).
   */
  memory(): { bytes: number; buffers: number; predictPlans: { plans: number; bytes: number; cost: number } } {
    this.assertAlive();
    return { bytes: this.ctx.bytesAllocated, buffers: this.ctx.bufferCount, predictPlans: this.predictor.plans.usage };
  }

  /** @internal */
  protected assertAlive(): void {
    if (this.destroyed) throw new Error('this predictor has been destroyed; load the model again');
    this.ctx.assertAlive();
  }

  /** Frees the GPU memory (and the device, if it was requested here). Harmless twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.predictor.destroy();
    this.ctx.releaseBuffer(this.weights.params);
    if (this.weights.running) this.ctx.releaseBuffer(this.weights.running);
    this.ctx.destroy(); // frees this context's buffers; the device too only if it was requested here
  }
}
