/**
 * Where the page trains: WebGPU (a Model and GPU-resident data sets) or, without WebGPU, the
 * library's Float64 CPU reference. Both offer the same Run: a trainer for the loop in session.ts,
 * an evaluation, the first layer's weights and a prediction with its saliency map.
 */
import {
  type BatchTrainer,
  CpuBatchTrainer,
  describeAdapter,
  type Evaluation,
  evaluateDataset,
  evaluateHost,
  GpuBatchTrainer,
  type GpuContext,
  GpuDataset,
  type HostDataset,
  inputGradient,
  type MlpSpec,
  Model,
  type ResolvedOptimizer,
} from '../src/index.js';
import { mlpBackwardRef, mlpForwardRef } from '../src/model/reference.js';
import { argmaxRef } from '../src/reference/argmax.js';

export interface RunConfig {
  spec: MlpSpec;
  optimizer: ResolvedOptimizer;
  seed: number;
}

/** A prediction for one image with ∂L/∂x for the predicted class (seed 004). */
export interface Saliency {
  probs: ArrayLike<number>;
  predicted: number;
  /** ∂L/∂x: [784], with the predicted class as the label. */
  dx: ArrayLike<number>;
}

/** One network being trained. */
export interface Run {
  readonly trainer: BatchTrainer;
  evaluate(): Promise<Evaluation>;
  /** W_0 as [784, n_1] row-major. */
  firstLayer(): Promise<{ weights: ArrayLike<number>; fanOut: number }>;
  saliency(x: Float32Array): Promise<Saliency>;
  destroy(): Promise<void>;
}

export interface Backend {
  readonly kind: 'webgpu' | 'cpu';
  /** For the badge: the adapter, or the CPU reference. */
  readonly description: string;
  createRun(config: RunConfig): Promise<Run>;
  destroy(): void;
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Hears of a device lost behind the page's back (a driver reset, the browser reclaiming the GPU): calls
 * `onLost` with what the device said, unless the function returned was called first — by the page,
 * just before it destroys the device itself.
 */
export function watchDevice(device: GPUDevice, onLost: (message: string) => void): () => void {
  let ours = false;
  device.lost.then((info) => {
    if (!ours) onLost(info.message || `reason: ${info.reason}`);
  });
  return () => {
    ours = true;
  };
}

/** WebGPU: one context for the page's life; the data sets are uploaded once and shared by every run. */
export class GpuBackend implements Backend {
  readonly kind = 'webgpu';
  readonly description: string;
  private readonly trainData: GpuDataset;
  private readonly testData: GpuDataset;
  /** Called before we destroy the device ourselves, so that its `lost` promise is no news. */
  private readonly release: () => void;

  private constructor(
    readonly ctx: GpuContext,
    trainData: GpuDataset,
    testData: GpuDataset,
    onLost: (message: string) => void,
  ) {
    this.description = ctx.adapter ? describeAdapter(ctx.adapter) : 'WebGPU';
    this.trainData = trainData;
    this.testData = testData;
    this.release = watchDevice(ctx.device, onLost);
  }

  /**
   * Uploads the data sets to the context's device (a device out of memory: a GpuOutOfMemoryError, nothing
   * left allocated); `onLost` hears of a device loss we did not cause.
   */
  static async create(
    ctx: GpuContext,
    train: HostDataset,
    test: HostDataset,
    onLost: (message: string) => void,
  ): Promise<GpuBackend> {
    const trainData = await GpuDataset.upload(ctx, train, 'mnist.train');
    try {
      return new GpuBackend(ctx, trainData, await GpuDataset.upload(ctx, test, 'mnist.test'), onLost);
    } catch (error) {
      trainData.destroy();
      throw error;
    }
  }

  async createRun(config: RunConfig): Promise<Run> {
    const model = await Model.create({
      layers: config.spec.layers,
      activation: config.spec.activations,
      optimizer: config.optimizer,
      seed: config.seed,
      context: this.ctx,
      label: 'demo.mlp',
    });
    // No test set in the trainer: the session evaluates (and draws) at the end of each epoch itself.
    const trainer = new GpuBatchTrainer(model, this.trainData);
    const w0 = model.layout.weights[0];
    return {
      trainer,
      evaluate: () => evaluateDataset(model, this.testData),
      firstLayer: async () => ({
        weights: await model.ctx.readF32(model.params, w0.offset, w0.count),
        fanOut: w0.shape[1],
      }),
      saliency: async (x) => {
        const predicted = argmax(await model.predict(x));
        const { probs, dx } = await inputGradient(model, x, { kind: 'labels', labels: Uint32Array.of(predicted) });
        return { probs, dx, predicted };
      },
      destroy: () => model.destroy(),
    };
  }

  destroy(): void {
    this.release();
    this.trainData.destroy();
    this.testData.destroy();
    this.ctx.destroy();
  }
}

/** The CPU reference (Float64): exact and much slower, for browsers without WebGPU. */
export class CpuBackend implements Backend {
  readonly kind = 'cpu';
  readonly description = 'CPU · Float64 reference';

  constructor(
    private readonly train: HostDataset,
    private readonly test: HostDataset,
  ) {}

  async createRun(config: RunConfig): Promise<Run> {
    const trainer = new CpuBatchTrainer(config.spec, config.optimizer, this.train, undefined, config.seed);
    const { spec } = config;
    return {
      trainer,
      evaluate: () => evaluateHost(spec, trainer.params, this.test),
      firstLayer: async () => ({ weights: trainer.params[0].w, fanOut: spec.layers[1] }),
      saliency: async (x) => {
        const { logits } = mlpForwardRef(spec, trainer.params, x, 1);
        const label = new Uint32Array(1);
        argmaxRef(logits, 1, spec.layers[spec.layers.length - 1], label);
        const out = mlpBackwardRef(spec, trainer.params, x, { kind: 'labels', labels: label }, 1, {
          inputGrad: true,
        });
        return { probs: out.probs, dx: out.dX as Float64Array, predicted: label[0] };
      },
      destroy: async () => {},
    };
  }

  destroy(): void {}
}
