/**
 * Where the table page trains: on WebGPU, the library's own `MLP` (createMLP, fit on the table's
 * rows, evaluate, named predictions, save) on a device the page holds; without WebGPU, the same on the
 * library's Float64 CPU reference (the CpuBatchTrainer and training loop the MNIST page's CPU fallback
 * uses), with the preprocessing the library fits (fitPreprocessing) applied on the host as the GPU
 * applies it, and the same model file. Both are a TableNetwork to the page.
 */
import {
  CpuBatchTrainer,
  createMLP,
  describeAdapter,
  type EpochResult,
  type Evaluation,
  encodePreprocessing,
  evaluateHost,
  fit,
  fitPreprocessing,
  type HeadName,
  type HostDataset,
  inputAffine,
  type MlpSpec,
  type NamedPrediction,
  type NamedRowsOptions,
  outputAffine,
  type Preprocessing,
  requestGpuDevice,
  resolveOptimizer,
  resolveSpec,
  type StepProgress,
  TABLE_DEFAULTS,
  type TableData,
} from '../src/index.js';
import { encodeModel } from '../src/io/model_file.js';
import { headOutputsRef, mlpForwardRef } from '../src/model/reference.js';
import { namedInputs, namePredictions } from '../src/table/network.js';
import { imputeInputs, scaleTargets } from '../src/table/preprocessing.js';
import { resolveEarlyStopping } from '../src/train/early_stopping.js';
import { regressionMetrics } from '../src/train/evaluate.js';
import { watchDevice } from './backend.js';

/** What the page asks of a fit: the library's fit options it uses. */
export interface TableFitOptions {
  epochs: number;
  batchSize: number;
  learningRate?: number;
  seed: number;
  validation?: TableData;
  /** Early stopping's patience (best epoch restored); 0: none. */
  patience: number;
  progressEvery: number;
  signal: AbortSignal;
  onStep(progress: StepProgress): void;
  onEpoch(result: EpochResult): void | Promise<void>;
}

/** A network trained on a table: what the page does with one, on either backend. */
export interface TableNetwork {
  /** Undefined until the first fit. */
  readonly preprocessing: Preprocessing | undefined;
  fit(train: TableData, options: TableFitOptions): Promise<EpochResult[]>;
  /** Loss, accuracy and the confusion matrix with `classes`; or, for regression, `outputs`, MAE and R² in the target's units. */
  evaluate(rows: TableData): Promise<Evaluation>;
  predict(rows: readonly object[], options?: NamedRowsOptions): Promise<NamedPrediction[]>;
  /** The model file (safetensors, with the preprocessing), as `mlp.save` writes it. */
  save(metadata: Record<string, string>): Promise<Uint8Array>;
  destroy(): Promise<void>;
}

export interface TableBackend {
  readonly kind: 'webgpu' | 'cpu';
  /** For the badge: the adapter, or the CPU reference. */
  readonly description: string;
  createNetwork(options: { layers: number[]; head: HeadName; seed: number }): Promise<TableNetwork>;
  destroy(): void;
}

/** fit's early stopping for a patience: best epoch restored; none for 0 or without validation rows. */
function earlyStopping(options: TableFitOptions) {
  return options.validation && options.patience > 0 ? { patience: options.patience, restoreBest: true } : undefined;
}

/**
 * WebGPU: a device for the page (a new one after a loss), shared by the networks made on it; each is
 * the library's MLP, used as any application would.
 */
export class GpuTableBackend implements TableBackend {
  readonly kind = 'webgpu';
  readonly description: string;
  private readonly release: () => void;

  private constructor(
    readonly device: GPUDevice,
    description: string,
    onLost: (message: string) => void,
  ) {
    this.description = description;
    this.release = watchDevice(device, onLost);
  }

  /** Requests a device (an error saying what is missing when WebGPU is not there); `onLost` hears of its loss. */
  static async create(onLost: (message: string) => void): Promise<GpuTableBackend> {
    const { device, adapterInfo } = await requestGpuDevice({ label: 'tables.device' });
    return new GpuTableBackend(device, describeAdapter(adapterInfo), onLost);
  }

  async createNetwork(options: { layers: number[]; head: HeadName; seed: number }): Promise<TableNetwork> {
    const mlp = await createMLP({
      ...options,
      activation: TABLE_DEFAULTS.activation,
      device: this.device,
      label: 'tables.mlp',
    });
    return {
      get preprocessing() {
        return mlp.preprocessing;
      },
      fit: (train, o) =>
        mlp.fit(train, {
          epochs: o.epochs,
          batchSize: o.batchSize,
          optimizer: TABLE_DEFAULTS.optimizer,
          learningRate: o.learningRate,
          scaling: TABLE_DEFAULTS.scaling,
          seed: o.seed,
          validation: o.validation,
          earlyStopping: earlyStopping(o),
          progressEvery: o.progressEvery,
          signal: o.signal,
          onStep: o.onStep,
          onEpoch: o.onEpoch,
        }),
      evaluate: (rows) => mlp.evaluate(rows),
      predict: (rows, o) => mlp.predict(rows, o),
      save: (metadata) => mlp.save(metadata),
      destroy: () => mlp.destroy(),
    };
  }

  destroy(): void {
    this.release();
    this.device.destroy();
  }
}

/** The CPU reference (Float64): for browsers without WebGPU. Exact, slower; tables are small. */
export class CpuTableBackend implements TableBackend {
  readonly kind = 'cpu';
  readonly description = 'CPU · Float64 reference';

  async createNetwork(options: { layers: number[]; head: HeadName; seed: number }): Promise<TableNetwork> {
    const { layers, head, seed } = options;
    return new CpuTableNetwork(resolveSpec({ layers, head, activation: TABLE_DEFAULTS.activation }), seed);
  }

  destroy(): void {}
}

/**
 * A table network on the CPU reference: the preprocessing fitted on the training rows by the library
 * (fitPreprocessing), its input affine applied to the rows on the host (the GPU applies the same in its
 * input path), regression targets standardised (scaleTargets) and outputs unscaled (outputAffine).
 */
class CpuTableNetwork implements TableNetwork {
  preprocessing: Preprocessing | undefined;
  private trainer: CpuBatchTrainer | undefined;

  constructor(
    private readonly spec: MlpSpec,
    private readonly seed: number,
  ) {}

  async fit(train: TableData, options: TableFitOptions): Promise<EpochResult[]> {
    if (this.trainer) throw new Error('this page trains a CPU network once: start a new one');
    const pre = fitPreprocessing(train, TABLE_DEFAULTS.scaling);
    const optimizer = resolveOptimizer({ kind: TABLE_DEFAULTS.optimizer, learningRate: options.learningRate });
    const validation = options.validation && this.rows(options.validation, pre);
    this.trainer = new CpuBatchTrainer(this.spec, optimizer, this.rows(train, pre), validation, this.seed);
    this.preprocessing = pre;
    return fit(this.trainer, {
      epochs: options.epochs,
      batchSize: Math.min(options.batchSize, train.rows),
      seed: options.seed,
      progressEvery: options.progressEvery,
      signal: options.signal,
      earlyStopping: resolveEarlyStopping(earlyStopping(options), validation !== undefined),
      onStep: options.onStep,
      onEpoch: options.onEpoch,
    });
  }

  async evaluate(rows: TableData): Promise<Evaluation> {
    const { pre, trainer } = this.trained();
    const data = this.rows(rows, pre);
    const evaluation = await evaluateHost(this.spec, trainer.params, data);
    const t = pre.target;
    if (t.type === 'classification') return { ...evaluation, classes: [...t.classes] };
    // Regression: the outputs in the target's units, against the targets as given (as mlp.evaluate).
    const outputs = this.outputs(data.images as Float32Array, rows.rows);
    return { ...evaluation, ...regressionMetrics(outputs, rows.values as Float32Array, t.columns.length) };
  }

  async predict(rows: readonly object[], options: NamedRowsOptions = {}): Promise<NamedPrediction[]> {
    const { pre } = this.trained();
    const { x, count } = namedInputs(rows, pre, options);
    return namePredictions(this.outputs(scaled(x, pre), count), pre);
  }

  async save(metadata: Record<string, string>): Promise<Uint8Array> {
    const { pre, trainer } = this.trained();
    return encodeModel(this.spec, trainer.flatParams(), metadata, encodePreprocessing(pre));
  }

  async destroy(): Promise<void> {}

  private trained(): { pre: Preprocessing; trainer: CpuBatchTrainer } {
    if (!this.preprocessing || !this.trainer) throw new Error('the network has not been trained yet');
    return { pre: this.preprocessing, trainer: this.trainer };
  }

  /** Encoded rows as the network's first layer sees them, with their targets in its units. */
  private rows(data: TableData, pre: Preprocessing): HostDataset {
    const x = scaled(
      imputeInputs(data.inputs, pre, (r) => data.where(r)),
      pre,
    );
    const C = this.spec.layers[this.spec.layers.length - 1];
    const base = { images: x, count: data.rows, cols: data.features.length, classes: C, scale: 1 };
    return data.labels
      ? { ...base, labels: data.labels }
      : { ...base, targets: scaleTargets(data.values as Float32Array, pre) };
  }

  /** predict's outputs of scaled inputs [count, D]: probabilities, or values unscaled. */
  private outputs(x: Float32Array, count: number): Float32Array {
    const { pre, trainer } = this.trained();
    const C = this.spec.layers[this.spec.layers.length - 1];
    const { logits } = mlpForwardRef(this.spec, trainer.params, x, count);
    const out = Float32Array.from(headOutputsRef(this.spec, logits, count, C));
    const affine = outputAffine(pre);
    if (affine) for (let i = 0; i < out.length; i++) out[i] = out[i] * affine.scale[i % C] + affine.shift[i % C];
    return out;
  }
}

/** Imputed raw inputs [rows, D] scaled as the network's input path scales them: x·scale + shift, float32. */
function scaled(x: Float32Array, pre: Preprocessing): Float32Array {
  const affine = inputAffine(pre);
  if (!affine) return x;
  const D = affine.scale.length;
  return x.map((v, i) => v * affine.scale[i % D] + affine.shift[i % D]);
}
