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
import type { MLPCheckpoint } from './io/checkpoint_file.js';
import { slotBinding } from './model/layout.js';
import type { Activation, Head, Targets } from './model/spec.js';
import { type CheckReport, checkStep } from './train/check.js';
import { GpuDataset } from './train/dataset.js';
import {
  type EpochResult,
  type Evaluation,
  evaluateDataset,
  fit,
  GpuBatchTrainer,
  type StepProgress,
  type TrainingCheckpoint,
} from './train/fit.js';
import { Model } from './train/model.js';
import { checkKeys, formatValue, type NetworkOptions, type OptimizerKind } from './train/options.js';

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

/**
 * Inputs, row-major `[count, D]`:
 * - `Float32Array` of features;
 * - `Uint8Array` of bytes (pixels), scaled by 1/255 on the GPU;
 * - `{ buffer, count }`: your own GPUBuffer of f32 `[count, D]` (STORAGE usage), used in place (zero copy).
 */
export type Inputs = Float32Array | Uint8Array | { buffer: GPUBuffer; count: number };

/**
 * Targets:
 * - class indices, one per row (`Uint8Array`, `Uint16Array`, `Uint32Array`, `Int32Array` or `number[]`), softmax head;
 * - `Float32Array` of dense targets `[count, C]` (one-hot or soft for softmax; probabilities for sigmoid);
 * - `{ buffer }`: your own GPUBuffer of u32 labels `[count]` (softmax) or f32 targets `[count, C]`.
 */
export type Labels =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int32Array
  | number[]
  | Float32Array
  | { buffer: GPUBuffer };

export interface FitOptions {
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Rows per step; the last batch of an epoch may be smaller. Default 32. */
  batchSize?: number;
  /** Default `'adam'`. */
  optimizer?: OptimizerKind;
  /** Default 0.001 for adam, 0.1 for sgd and momentum. */
  learningRate?: number;
  /** Momentum coefficient (momentum only). Default 0.9. */
  momentum?: number;
  /** L2 weight decay on the weights. Default 0. */
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
   * an uninterrupted run. `learningRate`, `momentum` and `weightDecay`, if given, replace the
   * checkpoint's (e.g. a smaller rate after a divergence); a different `optimizer` is an error.
   */
  resume?: MLPCheckpoint;
}

const FIT_KEYS = [
  'epochs',
  'batchSize',
  'optimizer',
  'learningRate',
  'momentum',
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
    if (resume) {
      checkResume(resume, options.optimizer);
      await model.restore(resume.state);
    }
    await model.setOptimizer({
      kind: resume ? resume.state.optimizer.kind : (options.optimizer ?? 'adam'),
      learningRate: options.learningRate ?? resume?.state.optimizer.learningRate,
      momentum: options.momentum ?? resume?.state.optimizer.momentum,
      weightDecay: options.weightDecay ?? resume?.state.optimizer.weightDecay,
      ...(resume && {
        beta1: resume.state.optimizer.beta1,
        beta2: resume.state.optimizer.beta2,
        eps: resume.state.optimizer.eps,
      }),
    });
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

  /** Probabilities `[count, C]`: softmax over classes, or per-output sigmoid. */
  async predict(inputs: Float32Array | Uint8Array): Promise<Float32Array> {
    const x = inputs instanceof Uint8Array ? Float32Array.from(inputs, (v) => v / 255) : inputs;
    return this.model.predict(x);
  }

  /**
   * Runs one training step on the GPU and the same step in the Float64 reference, from the same
   * weights and batch, and reports the largest differences per tensor. The model is left as it was.
   */
  async check(inputs: Float32Array, labels: Labels): Promise<CheckReport> {
    const rows = inputs.length / this.layers[0];
    return checkStep(this.model, inputs, this.targets(labels, rows, 'labels'));
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
    const C = this.layers[this.layers.length - 1];
    if (labels instanceof Float32Array) {
      if (labels.length !== rows * C) {
        throw new Error(
          `${name} has ${labels.length} values: dense targets must be [count, ${C}] = ${rows * C} values`,
        );
      }
      return { kind: 'dense', values: labels };
    }
    if ('buffer' in labels && !ArrayBuffer.isView(labels))
      throw new Error(`${name}: a GPUBuffer is not accepted here; pass a typed array`);
    if (this.head !== 'softmax') {
      throw new Error(
        `${name}: class indices need the softmax head; the sigmoid head takes dense Float32Array targets [count, ${C}]`,
      );
    }
    const list = labels as ArrayLike<number>;
    if (list.length !== rows) throw new Error(`${name} has ${list.length} entries, expected one per row (${rows})`);
    const out = new Uint32Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = list[i];
      if (!Number.isInteger(v) || v < 0 || v >= C)
        throw new Error(`${name}[${i}] = ${formatValue(v)} is outside 0..${C - 1}`);
      out[i] = v;
    }
    return { kind: 'labels', labels: out };
  }

  private dataset(inputs: Inputs, labels: Labels, inputName: string, labelName: string): GpuDataset {
    const D = this.layers[0];
    const C = this.layers[this.layers.length - 1];
    let count: number;
    if (inputs instanceof Float32Array || inputs instanceof Uint8Array) {
      if (inputs.length === 0 || inputs.length % D !== 0) {
        throw new Error(
          `${inputName} has ${inputs.length} values, expected a positive multiple of ${D} ([count, ${D}])`,
        );
      }
      count = inputs.length / D;
    } else {
      count = inputs.count;
      if (!Number.isInteger(count) || count < 1)
        throw new Error(`${inputName}.count = ${count}, expected an integer ≥ 1`);
    }
    const images = inputs instanceof Float32Array || inputs instanceof Uint8Array ? inputs : inputs.buffer;
    const source = { images, count, cols: D, classes: C, scale: 1 / 255 };
    if (!ArrayBuffer.isView(labels) && !Array.isArray(labels)) {
      return this.head === 'softmax'
        ? new GpuDataset(this.model.ctx, { ...source, labels: labels.buffer }, inputName)
        : new GpuDataset(this.model.ctx, { ...source, targets: labels.buffer }, inputName);
    }
    const t = this.targets(labels, count, labelName);
    return t.kind === 'labels'
      ? new GpuDataset(this.model.ctx, { ...source, labels: t.labels }, inputName)
      : new GpuDataset(this.model.ctx, { ...source, targets: Float32Array.from(t.values) }, inputName);
  }
}

function checkResume(resume: MLPCheckpoint, optimizer: OptimizerKind | undefined): void {
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
  if (optimizer !== undefined && optimizer !== resume.state.optimizer.kind) {
    throw new Error(
      `options.optimizer = ${formatValue(optimizer)} is invalid: the checkpoint being resumed was trained with ${formatValue(resume.state.optimizer.kind)}; leave optimizer out or pass that`,
    );
  }
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
