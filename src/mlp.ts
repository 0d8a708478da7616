/**
 * The library's front door: `createMLP`, `loadMLP` and the `MLP` they return.
 *
 * ```ts
 * const mlp = await createMLP({ layers: [784, 256, 10], activation: 'relu', seed: 1 });
 * await mlp.fit(images, labels, { epochs: 5, batchSize: 128, optimizer: 'momentum', learningRate: 0.05 });
 * const { accuracy } = await mlp.evaluate(testImages, testLabels);
 * const probabilities = await mlp.predict(testImages);
 * ```
 */

import { type Inputs, type Labels, resolveInputs, resolveLabels } from './inputs.js';
import type { MLPCheckpoint, TrainingCheckpoint } from './io/checkpoint_file.js';
import { slotBinding } from './model/layout.js';
import { type Activation, type Head, headOf, type NetworkOptions, type Targets } from './model/spec.js';
import type { OptimizerKind } from './optim/index.js';
import { checkKeys, formatValue } from './params.js';
import { type CheckReport, checkStep } from './train/check.js';
import { GpuDataset } from './train/dataset.js';
import { type Evaluation, evaluateDataset } from './train/evaluate.js';
import { GpuBatchTrainer } from './train/gpu_trainer.js';
import { type EpochResult, fit, type StepProgress } from './train/loop.js';
import { Model } from './train/model.js';
import { resumeOptimizer } from './train/resume.js';

export interface CreateMLPOptions extends NetworkOptions {
  /** Seed of the initial weights (He for ReLU layers, Glorot otherwise). Default 0. */
  seed?: number;
  /** Your application's GPUDevice. It is shared, never destroyed, and its error handlers are left alone. */
  device?: GPUDevice;
  /** Print the final WGSL of every pipeline compiled (debugging). */
  debugShaders?: boolean;
  /** Prefix of every GPU object's label. Default `'mlp'`. */
  label?: string;
  /**
   * Tune the matmul kernels on your adapter when a batch size is first used: `true` times the
   * candidate kernels of each new shape (each checked against the Float64 reference first; at most
   * about 0.5 s per batch size on a GPU) and keeps the fastest, cached per adapter and shape (in a
   * browser also in IndexedDB); `'cached'` uses earlier picks only; `false` (default) keeps the
   * untuned kernels, whose results are reproducible bit for bit. See docs/tuning.md.
   */
  tune?: boolean | 'cached';
}

export type { GpuInputs, Inputs, Labels } from './inputs.js';

export interface FitOptions {
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Rows per step; the last batch of an epoch may be smaller. Default 32. */
  batchSize?: number;
  /** `'sgd'`, `'momentum'`, `'adam'` or `'adamw'`. Default: the model's current optimizer (a new model's is `'adam'`). */
  optimizer?: OptimizerKind;
  /** In (0, 1000]. Default 0.1 for sgd, 0.05 for momentum, 0.001 for adam and adamw. */
  learningRate?: number;
  /** Momentum coefficient μ in [0, 1) (momentum only). Default 0.9. */
  momentum?: number;
  /** Adam's β1 in [0, 1) (adam, adamw). Default 0.9. */
  beta1?: number;
  /** Adam's β2 in [0, 1) (adam, adamw). Default 0.999. */
  beta2?: number;
  /** Adam's ε in (0, 1] (adam, adamw). Default 1e-8. */
  eps?: number;
  /** Weight decay on the weights (not the biases): L2 for sgd, momentum and adam (default 0), decoupled for adamw (default 0.01). */
  weightDecay?: number;
  /** Seed of the per-epoch shuffles. Default 0. */
  seed?: number;
  /** Evaluated after every epoch (testLoss / testAccuracy in the epoch results). */
  validation?: { inputs: Inputs; labels: Labels };
  /** Called a few times per epoch with loss, accuracy and speed read from the GPU. */
  onStep?: (progress: StepProgress) => void;
  /** Called after every epoch. */
  onEpoch?: (result: EpochResult) => void | Promise<void>;
  /** Stops training cleanly at the next progress point; the parameters keep what was learned. */
  signal?: AbortSignal;
  /**
   * Steps between checkpoints (parameters, optimizer state and position, read back to the CPU),
   * rounded up to the next statistics read (every 25 steps). One is also taken at the start and
   * between epochs. Default: only those.
   */
  checkpointEvery?: number;
  /** Called with every checkpoint; `encodeCheckpoint(checkpoint)` turns it into bytes for a file. */
  onCheckpoint?: (checkpoint: MLPCheckpoint) => void | Promise<void>;
  /**
   * Continue a run from a checkpoint (`TrainingInterrupted.checkpoint`, `onCheckpoint`'s, or
   * `decodeCheckpoint(bytes)`): its parameters, optimizer state and position are restored and the
   * remaining steps run. With the same data, `batchSize`, `epochs` and `seed`, the result is that of
   * an uninterrupted run. Hyperparameters given (`learningRate`, `momentum`, `weightDecay`, …) replace
   * the checkpoint's (e.g. a smaller rate after a divergence); a different `optimizer` is an error.
   */
  resume?: MLPCheckpoint;
}

const FIT_KEYS = [
  'epochs',
  'batchSize',
  'optimizer',
  'learningRate',
  'momentum',
  'beta1',
  'beta2',
  'eps',
  'weightDecay',
  'seed',
  'validation',
  'onStep',
  'onEpoch',
  'signal',
  'checkpointEvery',
  'onCheckpoint',
  'resume',
];

export class MLP {
  /** @internal */
  constructor(readonly model: Model) {}

  /** Layer widths, input first. */
  get layers(): readonly number[] {
    return this.model.spec.layers;
  }

  /** Hidden activations, one per hidden layer. */
  get activations(): readonly Activation[] {
    return this.model.spec.activations;
  }

  get head(): Head {
    return this.model.spec.head;
  }

  /** The device the network lives on. */
  get device(): GPUDevice {
    return this.model.ctx.device;
  }

  /**
   * The parameters as GPU buffer bindings (for drawing weights, or your own kernels): weight l is
   * f32 row-major `[layers[l], layers[l+1]]`, bias l is `[layers[l+1]]`. Valid until `destroy()`.
   */
  get weights(): { weight: GPUBufferBinding; bias: GPUBufferBinding }[] {
    const { layout, params } = this.model;
    return layout.weights.map((w, l) => ({
      weight: slotBinding(params, w),
      bias: slotBinding(params, layout.biases[l]),
    }));
  }

  /** Trains on the data (uploaded to the GPU once; batches gathered on the GPU). Returns one result per epoch. */
  async fit(inputs: Inputs, labels: Labels, options: FitOptions = {}): Promise<EpochResult[]> {
    checkKeys('options', options, FIT_KEYS);
    const model = this.model;
    const { resume } = options;
    const settings = resumeOptimizer(
      resume ? resume.state.optimizer : model.optimizerConfig,
      {
        kind: options.optimizer,
        learningRate: options.learningRate,
        momentum: options.momentum,
        beta1: options.beta1,
        beta2: options.beta2,
        eps: options.eps,
        weightDecay: options.weightDecay,
      },
      resume ? 'resume' : 'model',
    );
    if (resume) {
      checkResumeShape(resume);
      await model.restore(resume.state);
    }
    await model.setOptimizer(settings);
    const train = this.dataset(inputs, labels, 'inputs', 'labels');
    const test = options.validation
      ? this.dataset(options.validation.inputs, options.validation.labels, 'validation.inputs', 'validation.labels')
      : undefined;
    try {
      return await fit(new GpuBatchTrainer(model, train, test), {
        epochs: options.epochs ?? 1,
        batchSize: options.batchSize ?? Math.min(32, train.count),
        seed: options.seed,
        onStep: options.onStep,
        onEpoch: options.onEpoch,
        signal: options.signal,
        progressEvery: 25,
        checkpointEvery: options.checkpointEvery,
        onCheckpoint: options.onCheckpoint as ((checkpoint: TrainingCheckpoint) => void | Promise<void>) | undefined,
        start: resume && { epoch: resume.epoch, step: resume.step },
      });
    } finally {
      train.destroy();
      test?.destroy();
    }
  }

  /** Loss, accuracy, confusion matrix and predicted classes, computed on the GPU. */
  async evaluate(inputs: Inputs, labels: Labels): Promise<Evaluation> {
    const data = this.dataset(inputs, labels, 'inputs', 'labels');
    try {
      return await evaluateDataset(this.model, data);
    } finally {
      data.destroy();
    }
  }

  /** The head's outputs `[count, C]`: softmax probabilities over classes, per-output sigmoids, or a regression head's values. */
  async predict(
    inputs: Float32Array | Uint8Array | Float64Array | readonly (readonly number[])[],
  ): Promise<Float32Array> {
    const x = resolveInputs(inputs, this.layers[0]);
    if (x.kind === 'gpu') throw new Error('inputs: a GPUBuffer is not accepted here; pass a typed array');
    const { images } = x;
    return this.model.predict(images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images);
  }

  /**
   * Runs one training step on the GPU and the same step in the Float64 reference, from the same
   * weights and batch, and reports the largest differences per tensor. The model is left as it was.
   */
  async check(
    inputs: Float32Array | Float64Array | readonly (readonly number[])[],
    labels: Labels,
  ): Promise<CheckReport> {
    const x = resolveInputs(inputs, this.layers[0]);
    if (x.kind === 'gpu' || !(x.images instanceof Float32Array)) {
      throw new Error(`inputs: check() takes features (Float32Array, Float64Array or number[][])`);
    }
    return checkStep(this.model, x.images, this.targets(labels, x.count, 'labels'));
  }

  /** The network as a safetensors file (architecture in the metadata), readable by PyTorch. */
  save(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    return this.model.save(metadata);
  }

  /** Frees the GPU memory of this network (and the device, if the library created it). Harmless twice. */
  destroy(): Promise<void> {
    return this.model.destroy();
  }

  private targets(labels: Labels, rows: number, name: string): Targets {
    const resolved = resolveLabels(labels, this.model.spec, rows, name);
    if (resolved.kind === 'gpu') throw new Error(`${name}: a GPUBuffer is not accepted here; pass a typed array`);
    return resolved.targets;
  }

  private dataset(inputs: Inputs, labels: Labels, inputName: string, labelName: string): GpuDataset {
    const { spec, ctx } = this.model;
    const D = spec.layers[0];
    const C = spec.layers[spec.layers.length - 1];
    const x = resolveInputs(inputs, D, inputName);
    const images = x.kind === 'host' ? x.images : x.buffer;
    const source = { images, count: x.count, cols: D, classes: C, scale: 1 / 255 };
    const y = resolveLabels(labels, spec, x.count, labelName);
    if (y.kind === 'gpu') {
      const kind = headOf(spec).definition.targets[0];
      return kind === 'labels'
        ? new GpuDataset(ctx, { ...source, labels: y.buffer }, inputName)
        : new GpuDataset(ctx, { ...source, targets: y.buffer }, inputName);
    }
    const t = y.targets;
    return t.kind === 'labels'
      ? new GpuDataset(ctx, { ...source, labels: t.labels }, inputName)
      : new GpuDataset(ctx, { ...source, targets: Float32Array.from(t.values) }, inputName);
  }
}

function checkResumeShape(resume: MLPCheckpoint): void {
  const ok =
    typeof resume === 'object' &&
    resume !== null &&
    typeof resume.state === 'object' &&
    resume.state !== null &&
    resume.state.params instanceof Float32Array;
  if (!ok) {
    throw new Error(
      `options.resume = ${formatValue(resume)} is invalid: expected a checkpoint (from onCheckpoint, TrainingInterrupted.checkpoint or decodeCheckpoint)`,
    );
  }
}

/** Creates a network with seeded initial weights, on your device or one it requests. */
export async function createMLP(options: CreateMLPOptions): Promise<MLP> {
  checkKeys('options', options, ['layers', 'activation', 'head', 'seed', 'device', 'debugShaders', 'label', 'tune']);
  return new MLP(await Model.create(options));
}

/** Loads a network saved by `mlp.save()` or `npm run train`. */
export async function loadMLP(
  bytes: Uint8Array,
  options: Pick<CreateMLPOptions, 'device' | 'debugShaders' | 'label'> = {},
): Promise<MLP> {
  return new MLP(await Model.load(bytes, options));
}
