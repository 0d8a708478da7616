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

import { checkPlanFits } from './infer/plan.js';
import { type HostInputs, type PredictOnGpuOptions, predictInputs } from './infer/predict.js';
import { type GpuInputs, type Inputs, type Labels, resolveInputs, resolveLabels } from './inputs.js';
import { type MLPCheckpoint, nonFiniteState, type TrainingCheckpoint } from './io/checkpoint_file.js';
import { headOf } from './model/heads/index.js';
import { slotBinding } from './model/layout.js';
import type { Activation, Head, NetworkOptions, Targets } from './model/spec.js';
import type { OptimizerKind } from './optim/index.js';
import { checkKeys, formatValue } from './params.js';
import { checkTargets } from './train/batch.js';
import { type CheckReport, checkStep } from './train/check.js';
import { GpuDataset } from './train/dataset.js';
import { type Evaluation, evaluateDataset } from './train/evaluate.js';
import { GpuBatchTrainer } from './train/gpu_trainer.js';
import { drive, type EpochResult, type StepProgress, TrainingRun } from './train/loop.js';
import { Model } from './train/model.js';
import { resumeOptimizer } from './train/resume.js';
import { type ClassWeights, type LossWeighting, resolveRowWeights, type SampleWeights } from './train/weights.js';

export interface CreateMLPOptions extends NetworkOptions {
  /** Seed of the initial weights (He for ReLU layers, Glorot otherwise). Default 0. */
  seed?: number;
  /** Your application's GPUDevice. It is shared, never destroyed, and its error handlers are left alone. */
  device?: GPUDevice;
  /** Print the final WGSL of every pipeline compiled (debugging). */
  debugShaders?: boolean;
  /** Prefix of every GPU object's label. Default `'mlp'`. */
  label?: string;
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
  /**
   * A weight per training row, for imbalanced data (`Float32Array`, `Float64Array` or `number[]` of one
   * finite weight ≥ 0 per row; or `{ buffer }`, your GPUBuffer of f32 `[count]` with COPY_SRC usage, read
   * back once to be checked). Row r's loss and gradient are multiplied by its weight, w_r, on the GPU:
   * the loss minimised and reported is (1/B)·Σ_r w_r·ℓ_r over each batch of B rows (Keras' "sum over
   * batch size"; PyTorch: `(loss_fn(reduction='none')(z, y) * w).mean()`). A row of weight 0 has no
   * influence. Accuracy, validation and `evaluate()` stay unweighted. Multiplies `classWeights`.
   */
  sampleWeights?: SampleWeights;
  /**
   * A weight per class (softmax head), e.g. `[1, 10]` to count each example of a rare class 1 ten times:
   * row r gets the weight of its class (its label, or the argmax of its dense target row), times its
   * `sampleWeights` entry if given. One finite weight ≥ 0 per class, not all 0. Sigmoid and regression
   * heads have no classes: weigh their rows with `sampleWeights`. Note PyTorch's
   * `CrossEntropyLoss(weight=w)` (reduction 'mean') divides by Σ w_r instead of B (docs/maths.md).
   */
  classWeights?: ClassWeights;
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
  'sampleWeights',
  'classWeights',
];

export class MLP {
  /** True while a fit runs (a second concurrent fit is refused). */
  private fitting = false;
  /** 1/255 once the network was trained on bytes (see save). */
  private inputScale: number | undefined;

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
    this.model.assertAlive();
    const { layout, params } = this.model;
    return layout.weights.map((w, l) => ({
      weight: slotBinding(params, w),
      bias: slotBinding(params, layout.biases[l]),
    }));
  }

  /** Trains on the data (uploaded to the GPU once; batches gathered on the GPU). Returns one result per epoch. */
  async fit(inputs: Inputs, labels: Labels, options: FitOptions = {}): Promise<EpochResult[]> {
    if (options === null || typeof options !== 'object') {
      throw new Error(`options = ${formatValue(options)} is invalid: expected an object of fit options, or nothing`);
    }
    checkKeys('options', options, FIT_KEYS);
    if (this.fitting) {
      throw new Error(
        'fit() is already running on this network: await it before starting another (two runs at once would interleave their steps and share their statistics)',
      );
    }
    this.fitting = true;
    try {
      return await this.fitNow(inputs, labels, options);
    } finally {
      this.fitting = false;
    }
  }

  /**
   * fit's work: everything is checked (settings, the checkpoint, inputs, labels, the run's options)
   * before the model is touched, so a rejected call leaves it as it was.
   */
  private async fitNow(inputs: Inputs, labels: Labels, options: FitOptions): Promise<EpochResult[]> {
    const model = this.model;
    model.assertAlive();
    const { resume } = options;
    if (resume) checkResume(resume, model);
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
    const datasets: GpuDataset[] = [];
    try {
      const train = await this.dataset(inputs, labels, 'inputs', 'labels', {
        sampleWeights: options.sampleWeights,
        classWeights: options.classWeights,
      });
      datasets.push(train);
      const test = options.validation
        ? await this.dataset(
            options.validation.inputs,
            options.validation.labels,
            'validation.inputs',
            'validation.labels',
          )
        : undefined;
      if (test) datasets.push(test);
      const batchSize = options.batchSize ?? Math.min(32, train.count);
      if (Number.isInteger(batchSize) && batchSize >= 1) checkPlanFits(model.spec, model.ctx.device.limits, batchSize);
      const run = new TrainingRun(new GpuBatchTrainer(model, train, test), {
        epochs: options.epochs ?? 1,
        batchSize,
        seed: options.seed,
        signal: options.signal,
        progressEvery: 25,
        checkpointEvery: options.checkpointEvery,
        start: resume && { epoch: resume.epoch, step: resume.step, run: resume.run },
      });
      // Everything checked: now the model changes.
      if (resume) await model.restore(resume.state);
      await model.setOptimizer(settings);
      return await drive(run, {
        onStep: options.onStep,
        onEpoch: options.onEpoch,
        onCheckpoint: options.onCheckpoint as ((checkpoint: TrainingCheckpoint) => void | Promise<void>) | undefined,
      });
    } finally {
      for (const d of datasets) d.destroy();
    }
  }

  /** Loss, accuracy, confusion matrix and predicted classes, computed on the GPU. */
  async evaluate(inputs: Inputs, labels: Labels): Promise<Evaluation> {
    const data = await this.dataset(inputs, labels, 'inputs', 'labels');
    try {
      return await evaluateDataset(this.model, data);
    } finally {
      data.destroy();
    }
  }

  /**
   * The head's outputs `[count, C]`: softmax probabilities over classes, per-output sigmoids (each
   * output's probability of being on, for binary and multi-label heads), or a regression head's values.
   * Host inputs give a Float32Array. GPU inputs (`{ buffer, count }`, f32 [count, D] with COPY_SRC
   * usage) give a GPUBuffer — `options.output`, or a new one the caller owns — with nothing read back.
   */
  predict(inputs: HostInputs): Promise<Float32Array>;
  predict(inputs: GpuInputs, options?: PredictOnGpuOptions): Promise<GPUBuffer>;
  async predict(inputs: HostInputs | GpuInputs, options: PredictOnGpuOptions = {}): Promise<Float32Array | GPUBuffer> {
    this.model.assertAlive();
    return predictInputs(this.model.predictor, this.model.spec, inputs, options);
  }

  /**
   * GPU memory held: `bytes` and `buffers` of this network's context (the whole device's use by this
   * library when the network owns it), and of those the cached plans of training steps and of
   * predictions, each kept within a budget of 64 MiB (least recently used first out; a plan in use
   * is never evicted, so one plan larger than the budget still works).
   */
  memory(): ReturnType<Model['memory']> {
    this.model.assertAlive();
    return this.model.memory();
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

  /**
   * The network as a safetensors file (architecture in the metadata), readable by PyTorch. When it was
   * trained on bytes (`Uint8Array` pixels, scaled by 1/255 on the GPU), the metadata records
   * `inputScale` = 1/255: what raw inputs are multiplied by before the first layer.
   */
  save(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    const scale: Record<string, string> = this.inputScale === undefined ? {} : { inputScale: String(this.inputScale) };
    return this.model.save({ ...scale, ...metadata });
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

  /**
   * A GPU data set of the inputs and labels, every value checked: host arrays before the upload, an
   * application's GPU buffers by their size and usage, and their contents read back and checked as
   * host labels would be (a label out of range, a target the head does not take). With `weighting`
   * (fit's sampleWeights, classWeights), the rows' loss weights too (src/train/weights.ts).
   */
  private async dataset(
    inputs: Inputs,
    labels: Labels,
    inputName: string,
    labelName: string,
    weighting: LossWeighting = {},
  ): Promise<GpuDataset> {
    const { spec, ctx } = this.model;
    this.model.assertAlive();
    const D = spec.layers[0];
    const C = spec.layers[spec.layers.length - 1];
    const x = resolveInputs(inputs, D, inputName);
    const images = x.kind === 'host' ? x.images : x.buffer;
    if (images instanceof Uint8Array && inputName === 'inputs') this.inputScale = 1 / 255;
    const source = { images, count: x.count, cols: D, classes: C, scale: 1 / 255 };
    const y = resolveLabels(labels, spec, x.count, labelName);
    if (y.kind === 'host') {
      const t = y.targets;
      const weights = await resolveRowWeights(ctx, spec, t, x.count, weighting);
      return t.kind === 'labels'
        ? new GpuDataset(ctx, { ...source, labels: t.labels, weights }, inputName)
        : new GpuDataset(ctx, { ...source, targets: Float32Array.from(t.values), weights }, inputName);
    }
    const kind = headOf(spec).definition.targets[0];
    const data =
      kind === 'labels'
        ? new GpuDataset(ctx, { ...source, labels: y.buffer }, inputName, labelName)
        : new GpuDataset(ctx, { ...source, targets: y.buffer }, inputName, labelName);
    try {
      const targets: Targets =
        kind === 'labels'
          ? { kind: 'labels', labels: await data.readLabels() }
          : { kind: 'dense', values: await data.readTargets() };
      checkTargets(spec, targets, x.count, `${labelName} (your GPU buffer)`);
      const weights = await resolveRowWeights(ctx, spec, targets, x.count, weighting);
      if (weights) data.setWeights(weights);
    } catch (error) {
      data.destroy();
      throw error;
    }
    return data;
  }
}

/** A checkpoint this network can continue from: its shape, architecture and finite state. */
function checkResume(resume: MLPCheckpoint, model: Model): void {
  const ok =
    typeof resume === 'object' &&
    resume !== null &&
    typeof resume.state === 'object' &&
    resume.state !== null &&
    resume.state.params instanceof Float32Array &&
    Array.isArray(resume.state.state);
  if (!ok) {
    throw new Error(
      `options.resume = ${formatValue(resume)} is invalid: expected a checkpoint (from onCheckpoint, TrainingInterrupted.checkpoint or decodeCheckpoint)`,
    );
  }
  const { spec } = resume.state;
  if (JSON.stringify(spec) !== JSON.stringify(model.spec)) {
    throw new Error(
      `options.resume is a checkpoint of layers [${spec.layers.join(', ')}] (${JSON.stringify(spec.activations)}, ${JSON.stringify(spec.head)}); this network is [${model.spec.layers.join(', ')}] (${JSON.stringify(model.spec.activations)}, ${JSON.stringify(model.spec.head)})`,
    );
  }
  const bad = nonFiniteState(resume.state);
  if (bad) throw new Error(`options.resume holds a diverged state (${bad}): resume from an earlier checkpoint`);
}

/** Creates a network with seeded initial weights, on your device or one it requests. */
export async function createMLP(options: CreateMLPOptions): Promise<MLP> {
  checkKeys('options', options, ['layers', 'activation', 'head', 'seed', 'device', 'debugShaders', 'label']);
  return new MLP(await Model.create(options));
}

/** Loads a network saved by `mlp.save()` or `npm run train`. */
export async function loadMLP(
  bytes: Uint8Array,
  options: Pick<CreateMLPOptions, 'device' | 'debugShaders' | 'label'> = {},
): Promise<MLP> {
  return new MLP(await Model.load(bytes, options));
}
