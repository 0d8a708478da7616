/**
 * MLPPredictor: a saved network, loaded for inference only — the forward pass and the head's outputs
 * on the GPU, nothing of training (optimizers, losses, checkpoints, the Float64 reference).
 */
import { GpuContext } from '../gpu/context.js';
import type { GpuInputs } from '../inputs.js';
import { decodeModel } from '../io/model_file.js';
import type { FileBytes } from '../io/safetensors.js';
import type { ParamLayout } from '../model/layout.js';
import type { Activation, Head, MlpSpec } from '../model/spec.js';
import { checkOptions, fail } from '../params.js';
import { type HostInputs, type PredictOnGpuOptions, predictInputs } from './predict.js';
import { Predictor } from './predictor.js';

export interface LoadPredictorOptions {
  /** Your application's GPUDevice: shared, never destroyed, its error handlers left alone. */
  device?: GPUDevice;
  /** Prefix of every GPU object's label. Default `'mlp'`. */
  label?: string;
}

export class MLPPredictor {
  private readonly predictor: Predictor;
  private destroyed = false;

  private constructor(
    private readonly ctx: GpuContext,
    readonly spec: MlpSpec,
    layout: ParamLayout,
    private readonly params: GPUBuffer,
    /** The file's metadata (how it was trained, `inputScale`…). */
    readonly metadata: Readonly<Record<string, string>>,
    label: string,
  ) {
    this.predictor = new Predictor({ ctx, spec, layout, params, label });
  }

  /** Loads a network saved by `mlp.save()` or `npm run train`. Bad files give errors that say what is wrong. */
  static async load(bytes: FileBytes, options: LoadPredictorOptions = {}): Promise<MLPPredictor> {
    checkOptions(options, ['device', 'label'], 'an object { device?, label? }, or nothing');
    const { label = 'mlp' } = options;
    if (typeof label !== 'string' || label === '') fail('options.label', label, 'a non-empty string');
    const file = decodeModel(bytes, 'model file');
    const ctx = await GpuContext.create({ device: options.device });
    try {
      const params = await ctx.allocating(
        `the parameters of layers [${file.spec.layers.join(', ')}]`,
        () =>
          ctx.createBufferWith(
            `${label}.params`,
            file.params,
            GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
          ),
        (made) => ctx.releaseBuffer(made),
        'free GPU memory (other models: destroy())',
      );
      return new MLPPredictor(ctx, file.spec, file.layout, params, file.metadata, label);
    } catch (error) {
      ctx.destroy();
      throw error;
    }
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
  predict(inputs: HostInputs): Promise<Float32Array>;
  predict(inputs: GpuInputs, options?: PredictOnGpuOptions): Promise<GPUBuffer>;
  async predict(inputs: HostInputs | GpuInputs, options: PredictOnGpuOptions = {}): Promise<Float32Array | GPUBuffer> {
    this.assertAlive();
    return predictInputs(this.predictor, this.spec, inputs, options);
  }

  /** GPU memory held: the context's bytes and buffers, and the cached prediction plans (within 64 MiB). */
  memory(): { bytes: number; buffers: number; predictPlans: { plans: number; bytes: number } } {
    this.assertAlive();
    return { bytes: this.ctx.bytesAllocated, buffers: this.ctx.bufferCount, predictPlans: this.predictor.plans.usage };
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error('this predictor has been destroyed; load the model again');
    this.ctx.assertAlive();
  }

  /** Frees the GPU memory (and the device, if it was requested here). Harmless twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.predictor.destroy();
    this.ctx.releaseBuffer(this.params);
    this.ctx.destroy(); // frees this context's buffers; the device too only if it was requested here
  }
}

/** Loads a saved network for inference only (see MLPPredictor). */
export function loadPredictor(bytes: FileBytes, options: LoadPredictorOptions = {}): Promise<MLPPredictor> {
  return MLPPredictor.load(bytes, options);
}
