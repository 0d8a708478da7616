/**
 * The library's front door: `createMLP`, `loadMLP` and the `MLP` they return; `toOnnx`.
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
import { checkCheckpoint, type MLPCheckpoint, type TrainingCheckpoint } from './io/checkpoint_file.js';
import { carriedMetadata, checkMetadata, decodeModel } from './io/model_file.js';
import type { OnnxOptions } from './io/onnx_export.js';
import type { FileBytes } from './io/safetensors.js';
import { headOf } from './model/heads/index.js';
import { checkTargets } from './model/heads/targets.js';
import { slotBinding } from './model/layout.js';
import type { Activation, Head, MlpSpec, NetworkOptions, Norm, Targets } from './model/spec.js';
import { HYPERPARAMETERS, type OptimizerKind, type OptimizerSettings } from './optim/index.js';
import { checkOptions, fail } from './params.js';
import type { TableData } from './table/encode.js';
import { isNamedRows, tableKind } from './table/kind.js';
import type { NamedPrediction, Preprocessing, Scaling } from './table/preprocessing.js';
import type { NamedRows, NamedRowsOptions } from './table/rows.js';
import { type CheckReport, checkStep } from './train/check.js';
import { GpuDataset } from './train/dataset.js';
import { type EarlyStoppingOptions, resolveEarlyStopping } from './train/early_stopping.js';
import { datasetLoss, type Evaluation, evaluateDataset, regressionMetrics } from './train/evaluate.js';

/** The table code, loaded when the network first meets a table (src/table/network.ts). */
type Tables = typeof import('./table/network.js');
const tables = (): Promise<Tables> => import('./table/network.js');

import { GpuBatchTrainer } from './train/gpu_trainer.js';
import {
  checkCallbacks,
  drive,
  type EpochResult,
  initialLossRows,
  type StepProgress,
  scalingAdvice,
  TrainingRun,
} from './train/loop.js';
import { Model } from './train/model.js';
import { resumeOptimizer } from './train/resume.js';
import { type LearningRate, resolveLearningRate } from './train/schedule.js';
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

/**
 * `fit`'s options. Besides those below, the hyperparameters of the optimizers (`OptimizerSettings`: read
 * from the optimizer definitions, so a new optimizer's appear here by themselves): `momentum`, `beta1`,
 * `beta2`, `eps`, `alpha`, `centered`, `weightDecay`, … each for the optimizers that have it — another
 * optimizer's is an error. Their defaults and ranges are in the README's table and in
 * `OPTIMIZER_REGISTRY[kind].hyper`.
 */
export interface FitOptions extends Omit<OptimizerSettings, 'learningRate'> {
  /**
   * Epochs to train in this call. Epoch numbers continue across calls (a second `fit({ epochs: 2 })`
   * trains epochs 3 and 4, with their own shuffles; see initialEpoch), and so do the optimizer's state
   * and step count: two calls of 2 epochs train exactly as one of 4. Default 1.
   */
  epochs?: number;
  /**
   * The number of the epoch before the first one this call trains (Keras' `initial_epoch`): 0 numbers
   * them from 1 again. Default: the epochs this network has trained. Not with `resume`, whose
   * checkpoint says where it is.
   */
  initialEpoch?: number;
  /**
   * Rows per step; the last batch of an epoch may be smaller. A batch size larger than the training
   * data is clamped to it (one full batch per epoch), as Keras and TF.js do. Default 32.
   */
  batchSize?: number;
  /** A registered optimizer: `'sgd'`, `'momentum'`, `'adam'`, `'adamw'`, … Default: the model's current optimizer (a new model's is `'adam'`). */
  optimizer?: OptimizerKind;
  /**
   * A number in (0, 1000] (default 0.1 for sgd, 0.05 for momentum, 0.01 for rmsprop, 0.001 for adam and
   * adamw), or a schedule: a function `({ epoch, step, stepsPerEpoch }) => rate`, asked for every step, or a preset —
   * `{ type: 'step', every, gamma }`, `{ type: 'cosine', epochs, min }`, `{ type: 'warmup', warmupSteps }`,
   * each with an optional `initial` rate and `warmupSteps` (see LearningRatePreset, docs/maths.md).
   * Every step's optimizer update gets its own rate, also when several steps share a submit.
   */
  learningRate?: LearningRate;
  /** Seed of the per-epoch shuffles. Default 0. */
  seed?: number;
  /**
   * Evaluated after every epoch (testLoss / testAccuracy in the epoch results): `{ inputs, labels }`, or
   * encoded table rows (TableData, e.g. trainTestSplit's `test`) when training on a table.
   */
  validation?: { inputs: Inputs; labels: Labels } | TableData;
  /**
   * Training on a table (`fit(data)`): how its numeric inputs are scaled — `'standardize'` (default:
   * (x − mean)/std), `'minmax'` ((x − min)/(max − min)) or `'none'` — with statistics of the training
   * rows, fixed by the network's first fit on a table and saved with it (see `preprocessing`);
   * regression targets are standardised likewise unless `'none'`. Not for typed arrays.
   */
  scaling?: Scaling;
  /**
   * A fraction in (0, 1): the last rows of the training data (before any shuffling, as Keras takes
   * them) are held out as the validation set instead of trained on. Host inputs only; not with
   * `validation`.
   */
  validationSplit?: number;
  /**
   * Stop when the monitored quantity stops improving: `{ monitor, patience, minDelta, restoreBest }`,
   * each optional (see EarlyStoppingOptions). With `restoreBest` (the default) the network ends with
   * the parameters and optimizer state it had after its best epoch; the last epoch's result says
   * which (`earlyStopping`).
   */
  earlyStopping?: EarlyStoppingOptions;
  /** Called every `progressEvery` steps with loss, accuracy and speed read from the GPU. */
  onStep?: (progress: StepProgress) => void;
  /**
   * Steps between `onStep` calls (and statistics reads), 1 for every step. The reads queue behind the
   * steps without draining the GPU, but each costs a little: small values slow short steps. Default 25.
   */
  progressEvery?: number;
  /**
   * Called after every epoch. When an epoch is at most `progressEvery` steps and there is no validation
   * data, epochs are pipelined: the GPU trains up to a few epochs ahead (about 16 steps) while an
   * epoch's results, checkpoint and progress are read back, so these calls come that much late and
   * the network may meanwhile hold a later epoch's parameters; the results, checkpoints and early
   * stopping are those of epochs run one by one, bit for bit, and a run that stops early (early
   * stopping, `signal`) is put back to the epoch it stopped at.
   */
  onEpoch?: (result: EpochResult) => void | Promise<void>;
  /** Stops training cleanly at the next progress point; the parameters keep what was learned. */
  signal?: AbortSignal;
  /**
   * Steps between checkpoints (parameters, optimizer state and position, read back to the CPU),
   * rounded up to the next statistics read (every `progressEvery` steps). One is also taken at the
   * start and after every epoch, the last included (resuming that one with a larger `epochs` trains
   * on; not when early stopping ended the run or restored an earlier epoch). Default: only those.
   */
  checkpointEvery?: number;
  /** Called with every checkpoint; `encodeCheckpoint(checkpoint)` turns it into bytes for a file. */
  onCheckpoint?: (checkpoint: MLPCheckpoint) => void | Promise<void>;
  /**
   * Continue a run from a checkpoint (`TrainingInterrupted.checkpoint`, `onCheckpoint`'s, or
   * `decodeCheckpoint(bytes)`): its parameters, optimizer state and position are restored and the
   * remaining steps run. With the same data, `batchSize`, `epochs`, `seed` and `earlyStopping`, the
   * result is that of an uninterrupted run (early stopping goes on from where the checkpoint's stood);
   * `epochs` is then the run's total, counting the epochs the checkpoint has done, and a finished run's
   * last checkpoint with the same `epochs` trains nothing and leaves the finished model. The whole
   * checkpoint is checked before any of it is applied. Hyperparameters given (`learningRate`, `momentum`, `weightDecay`, …) replace the
   * checkpoint's (e.g. a smaller rate after a divergence); a different `optimizer` is an error.
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
  /**
   * When training counts as diverged besides a non-finite loss: the epoch's mean training loss above
   * `factor` (default 100) × the larger of the loss of chance predictions and the loss before training
   * (measured on a batch of the training rows) — a rise against where the run started. The run then stops with TrainingInterrupted, its parameters
   * rolled back to the last good checkpoint; when the inputs are badly scaled the message says so,
   * naming the column. `false` turns the rule off (a non-finite loss still stops the run).
   */
  divergence?: { factor?: number } | false;
}

/** fit's own options; the optimizers' hyperparameters (HYPERPARAMETERS) are options too. */
const FIT_OWN_KEYS = [
  'epochs',
  'initialEpoch',
  'batchSize',
  'optimizer',
  'learningRate',
  'seed',
  'validation',
  'validationSplit',
  'scaling',
  'earlyStopping',
  'onStep',
  'progressEvery',
  'onEpoch',
  'signal',
  'checkpointEvery',
  'onCheckpoint',
  'resume',
  'sampleWeights',
  'classWeights',
  'divergence',
] as const satisfies readonly (keyof FitOptions)[];

const FIT_KEYS: readonly string[] = [
  ...FIT_OWN_KEYS,
  ...Object.keys(HYPERPARAMETERS).filter((k) => k !== 'learningRate'),
];

/** The optimizer hyperparameters among fit's options (learningRate apart: it may be a schedule). */
function hyperparametersOf(options: FitOptions): OptimizerSettings {
  const given = options as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(HYPERPARAMETERS)
      .filter((k) => k !== 'learningRate' && given[k] !== undefined)
      .map((k) => [k, given[k]]),
  );
}

export class MLP {
  /** True while a fit runs (a second concurrent fit is refused). */
  private fitting = false;
  /**
   * What the network's file says besides its architecture and parameters, kept for `save`: the
   * metadata of the file it was loaded from (everything but `format` and `spec`, which save writes
   * anew), `inputScale` once it was trained on bytes, and what earlier saves were given.
   */
  private carried: Record<string, string>;
  /** Epochs trained so far: where the next fit's epoch numbers continue from. */
  private epochsTrained = 0;
  /** The preprocessing of a network trained on a table (see `preprocessing`). */
  private pre: Preprocessing | undefined;

  /** @internal */
  constructor(
    readonly model: Model,
    metadata: Readonly<Record<string, string>> = {},
  ) {
    this.carried = { ...metadata };
  }

  /**
   * The metadata `save()` writes besides the architecture: the loaded file's (how it was trained,
   * `inputScale`…), `inputScale` = 1/255 once trained on bytes, and what `save(metadata)` was given.
   */
  get metadata(): Readonly<Record<string, string>> {
    return { ...this.carried };
  }

  /** Layer widths, input first. */
  get layers(): readonly number[] {
    return this.model.spec.layers;
  }

  /**
   * What the network does to a table's rows, once trained on one (or loaded from such a file): its
   * input columns with their scaling statistics, category lists and imputation values, and its target
   * (class names, or the target columns' statistics). Applied by every `fit`, `evaluate` and `predict`
   * and saved in the model file; a copy (docs/tables.md has the format). Undefined for a network
   * trained on typed arrays only.
   */
  get preprocessing(): Preprocessing | undefined {
    return this.pre && structuredClone(this.pre);
  }

  /** @internal loadMLP: the preprocessing of the file the network was loaded from (its transform installed). */
  adopt(pre: Preprocessing): void {
    this.pre = pre;
  }

  /** The names of the outputs, once the network has preprocessing: class names, or target columns. */
  get outputNames(): string[] | undefined {
    const t = this.pre?.target;
    return t && [...(t.type === 'classification' ? t.classes : t.columns)];
  }

  /** Hidden activations, one per hidden layer. */
  get activations(): readonly Activation[] {
    return this.model.spec.activations;
  }

  /** The hidden layers' normalisations (`'layer'`, `'batch'`, or with parameters; null: none), one per hidden layer. */
  get norms(): readonly (Norm | null)[] {
    return this.model.spec.norms ?? Array(this.model.spec.activations.length).fill(null);
  }

  /** The hidden layers' dropout probabilities (0: none), one per hidden layer. */
  get dropouts(): readonly number[] {
    return this.model.spec.dropouts ?? Array(this.model.spec.activations.length).fill(0);
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

  /**
   * Trains on the data (uploaded to the GPU once; batches gathered on the GPU). Returns one result per
   * epoch. `fit(data, options)` trains on encoded table rows (encodeTable, trainTestSplit): the first
   * such fit fits the network's preprocessing on them (see `scaling`), and every later one must have
   * the same columns.
   */
  fit(inputs: Inputs, labels: Labels, options?: FitOptions): Promise<EpochResult[]>;
  fit(data: TableData, options?: FitOptions): Promise<EpochResult[]>;
  async fit(
    inputs: Inputs | TableData,
    labels?: Labels | FitOptions,
    maybeOptions: FitOptions = {},
  ): Promise<EpochResult[]> {
    const table = tableKind(inputs) === 'data' ? (inputs as TableData) : undefined;
    const options = (table ? (labels ?? {}) : maybeOptions) as FitOptions;
    checkOptions(options, FIT_KEYS, 'an object of fit options, or nothing');
    checkCallbacks(options, 'options.');
    if (this.fitting) {
      throw new Error(
        'fit() is already running on this network: await it before starting another (two runs at once would interleave their steps and share their statistics)',
      );
    }
    this.fitting = true;
    try {
      if (table) return await this.fitTable(await tables(), table, options);
      if (options.scaling !== undefined) {
        throw new Error(
          'options.scaling is for tables (fit(data) with encodeTable rows); typed arrays are trained on as they are',
        );
      }
      return await this.fitNow(inputs as Inputs, labels as Labels, options);
    } finally {
      this.fitting = false;
    }
  }

  /**
   * fit on table rows: the network's preprocessing (fitted on these rows the first time), the rows
   * imputed and their regression targets standardised on the host, then fitNow; the input transform is
   * installed on the GPU once everything is checked.
   */
  private async fitTable(t: Tables, data: TableData, options: FitOptions): Promise<EpochResult[]> {
    const scaling = options.scaling ?? 'standardize';
    if (!t.SCALINGS.includes(scaling)) fail('options.scaling', scaling, "'standardize', 'minmax' or 'none'");
    if (options.validationSplit !== undefined) {
      throw new Error(
        'options.validationSplit takes the last rows (as Keras): for a table, split it with trainTestSplit(data, { testSize, seed }) (shuffled, stratified by class) and pass validation: test',
      );
    }
    let pre = this.pre;
    if (pre) {
      t.checkSameColumns(data, pre, 'the data');
      const had = pre.inputs.find((c) => c.type === 'numeric')?.scaling;
      if (options.scaling !== undefined && had !== undefined && had !== scaling) {
        throw new Error(
          `options.scaling = '${scaling}', but this network's inputs are scaled with '${had}' since its first fit on a table: leave scaling out`,
        );
      }
    } else {
      this.checkShape(data.features.length, data.outputs.length, data.task, `the table ${data.name}`);
      pre = t.fitPreprocessing(data, scaling);
    }
    const known = pre;
    // (Regression targets in their own units: dataset() standardises them.)
    const rows = (d: TableData) => ({
      inputs: t.imputeInputs(d.inputs, known, (r) => d.where(r)),
      labels: (d.labels ?? d.values) as Labels,
    });
    const train = rows(data);
    let validation = options.validation;
    if (tableKind(validation) === 'data') {
      t.checkSameColumns(validation as TableData, known, 'options.validation');
      validation = rows(validation as TableData);
    }
    const fresh = this.pre ? undefined : known;
    return this.fitNow(train.inputs, train.labels, { ...options, validation, scaling: undefined }, fresh);
  }

  /**
   * The mean loss of the network as it is on the first `rows` rows of the training data set, already
   * on the GPU (undefined when the application's GPU buffers hold them): evaluated with the plan of that
   * many rows, the step plan when `rows` is the batch (initialLossRows), so it compiles nothing the run
   * does not use, and only the loss is read back.
   */
  private async initialLoss(train: GpuDataset, rows: number): Promise<number | undefined> {
    if (train.appBuffers.length > 0) return undefined;
    return datasetLoss(this.model, train, rows);
  }

  /**
   * What a divergence message advises when the training inputs are badly scaled as the first layer sees
   * them (host floats; bytes are scaled to [0, 1]): standardising them, by the table's scaling or by hand.
   */
  private async scalingAdvice(inputs: Inputs, pre: Preprocessing | undefined): Promise<string | undefined> {
    if (!(inputs instanceof Float32Array)) return undefined;
    const t = pre && (await tables());
    const remedy = pre
      ? "Standardise them (fit the table with scaling: 'standardize', the default), and look for outliers or wrong units: a standardised value beyond ±100 is rare"
      : 'Standardise them: train on the table (encodeTable rows are standardised by default), or scale each column to mean 0 and standard deviation 1';
    const names = pre && t?.featureNames(t.inputColumns(pre));
    return scalingAdvice(inputs, this.layers[0], remedy, { names, affine: t?.inputAffine(pre as Preprocessing) });
  }

  /** Throws unless a table of D inputs and C outputs (class names or targets) fits this network and head. */
  private checkShape(D: number, C: number, task: 'classification' | 'regression', what: string): void {
    const { layers } = this.model.spec;
    const prediction = headOf(this.model.spec).definition.prediction;
    const head = JSON.stringify(this.model.spec.head);
    const wants = task === 'classification' ? 'class' : 'value';
    if (layers[0] !== D || layers[layers.length - 1] !== C || prediction !== wants) {
      const hidden = layers.slice(1, -1).join(', ');
      throw new Error(
        `${what} has ${D} inputs and ${C} ${task === 'classification' ? 'classes' : 'targets'} (${task}); this network is [${layers.join(', ')}] with the ${head} head: create it with layers [${D}, ${hidden ? `${hidden}, ` : ''}${C}]${prediction === wants ? '' : ` and head '${task === 'classification' ? 'softmax' : 'mse'}'`} (data.features.length, data.outputs.length, data.head)`,
      );
    }
  }

  /**
   * fit's work: everything is checked (settings, the checkpoint, inputs, labels, the run's options)
   * before the model is touched, so a rejected call leaves it as it was.
   */
  private async fitNow(
    inputs: Inputs,
    labels: Labels,
    options: FitOptions,
    /** A table's preprocessing, fitted now: installed on the GPU once everything is checked. */
    fresh?: Preprocessing,
  ): Promise<EpochResult[]> {
    const model = this.model;
    model.assertAlive();
    const { resume } = options;
    if (resume) checkResume(resume, model);
    let base = resume ? resume.state.optimizer : model.optimizerConfig;
    const rate = resolveLearningRate(options.learningRate, () => base.learningRate);
    const settings = resumeOptimizer(
      base,
      { ...hyperparametersOf(options), kind: options.optimizer, learningRate: rate.initial },
      resume ? 'resume' : 'model',
    );
    base = settings; // a preset without `initial` starts from the rate the optimizer now has
    if (resume && options.initialEpoch !== undefined) {
      throw new Error('options.initialEpoch cannot be given with options.resume: the checkpoint says where the run is');
    }
    const initialEpoch = options.initialEpoch ?? this.epochsTrained;
    if (!Number.isInteger(initialEpoch) || initialEpoch < 0) {
      fail('options.initialEpoch', initialEpoch, 'an integer ≥ 0');
    }
    if (fresh === undefined && this.pre === undefined && tableKind(options.validation) === 'data') {
      throw new Error(
        'options.validation is table rows (TableData), but this network trains on typed arrays: give { inputs, labels }, or fit on the table (fit(data, options))',
      );
    }
    const split = splitValidation(inputs, labels, options, model.spec);
    const early = resolveEarlyStopping(options.earlyStopping, options.validation !== undefined || split !== undefined);
    const datasets: GpuDataset[] = [];
    try {
      const weighting = {
        sampleWeights: split ? split.sampleWeights : options.sampleWeights,
        classWeights: options.classWeights,
      };
      const pre = fresh ?? this.pre;
      const train = split
        ? await this.dataset(split.train.inputs, split.train.labels, 'inputs', 'labels', weighting, pre)
        : await this.dataset(inputs, labels, 'inputs', 'labels', weighting, pre);
      datasets.push(train);
      const held = split?.validation ?? (options.validation as { inputs: Inputs; labels: Labels } | undefined);
      const what = split ? 'the validationSplit rows of ' : 'validation.';
      const test = held
        ? await this.dataset(held.inputs, held.labels, `${what}inputs`, `${what}labels`, {}, pre)
        : undefined;
      if (test) datasets.push(test);
      const requested = options.batchSize ?? 32;
      const batchSize = Number.isInteger(requested) && requested >= 1 ? Math.min(requested, train.count) : requested;
      if (Number.isInteger(batchSize) && batchSize >= 1) checkPlanFits(model.spec, model.ctx.device.limits, batchSize);
      const epochs = options.epochs ?? 1;
      if (!resume && (!Number.isInteger(epochs) || epochs < 1)) fail('options.epochs', epochs, 'an integer ≥ 1');
      const run = new TrainingRun(new GpuBatchTrainer(model, train, test), {
        epochs: resume ? epochs : initialEpoch + epochs,
        batchSize,
        seed: options.seed,
        signal: options.signal,
        progressEvery: options.progressEvery ?? 25,
        checkpointEvery: options.checkpointEvery,
        learningRate: rate.schedule,
        earlyStopping: early,
        start: resume
          ? { epoch: resume.epoch, step: resume.step, run: resume.run, earlyStopping: resume.earlyStopping }
          : { epoch: initialEpoch + 1, step: 0 },
        divergence: checkDivergence(options.divergence),
        divergenceAdvice: await this.scalingAdvice(split ? split.train.inputs : inputs, pre),
      });
      // Everything checked: now the model changes.
      if (inputs instanceof Uint8Array) this.carried.inputScale = String(1 / 255); // trained on bytes (see save)
      if (fresh) {
        const t = await tables();
        await model.setTransform({ input: t.inputAffine(fresh), output: t.outputAffine(fresh) });
        this.pre = fresh;
      }
      if (resume) await model.restore(resume.state);
      await model.setOptimizer(settings);
      // The divergence rule's reference: the loss before training, on a batch of the training rows.
      const measuring = performance.now();
      const rows = initialLossRows(Math.min(batchSize, train.count), model.layout.parameterCount);
      const before = await this.initialLoss(train, rows);
      if (before !== undefined) run.initialLoss = before * train.meanWeight;
      // It made a plan (the step plan when it took the whole batch; its pipelines compiled here): part of
      // the run's setup (EpochResult.setupMs), as the step plans made before the first step are.
      run.setupBeforeMs = performance.now() - measuring;
      try {
        return await drive(run, {
          onStep: options.onStep,
          onEpoch: options.onEpoch,
          onCheckpoint: options.onCheckpoint as ((checkpoint: TrainingCheckpoint) => void | Promise<void>) | undefined,
        });
      } finally {
        // The last epoch trained; a finished run's checkpoint resumed trains none and ends where it did.
        const done = run.results.at(-1)?.epoch ?? (resume ? resume.epoch - 1 : undefined);
        if (done !== undefined) this.epochsTrained = done;
      }
    } finally {
      for (const d of datasets) d.destroy();
    }
  }

  /**
   * Loss, accuracy, confusion matrix and predicted classes, computed on the GPU. A network with
   * preprocessing also takes named rows (TableData, a Table, or row objects with their targets), and
   * names its classes (`classes`); its regression outputs, `mse`, `mae` and `r2` are in the targets'
   * own units (its `loss` is the training loss, on standardised targets).
   */
  evaluate(inputs: Inputs, labels: Labels): Promise<Evaluation>;
  evaluate(rows: NamedRows, options?: NamedRowsOptions): Promise<Evaluation>;
  async evaluate(inputs: Inputs | NamedRows, labels?: Labels | NamedRowsOptions): Promise<Evaluation> {
    this.model.assertAlive();
    const pre = this.pre;
    let x: Inputs;
    let y: Labels;
    if (isNamedRows(inputs)) {
      if (!pre) throw noPreprocessing('evaluate');
      const options = (labels ?? {}) as NamedRowsOptions;
      checkOptions(options, ['unknownCategory'], '{ unknownCategory? }, or nothing');
      const t = await tables();
      const rows = inputs as NamedRows;
      const targets = t.namedTargets(rows, pre);
      x = t.namedInputs(rows, pre, options).x;
      y = (targets.labels ?? targets.raw) as Labels;
    } else {
      x = inputs as Inputs;
      y = labels as Labels;
    }
    const data = await this.dataset(x, y, 'inputs', 'labels', {}, pre);
    let evaluation: Evaluation;
    try {
      evaluation = await evaluateDataset(this.model, data);
    } finally {
      data.destroy();
    }
    if (!pre) return evaluation;
    if (pre.target.type === 'classification') return { ...evaluation, classes: [...pre.target.classes] };
    // Regression: the metrics of the unscaled outputs (what predict returns) against the targets as given.
    if (!(x instanceof Float32Array || x instanceof Float64Array || Array.isArray(x))) {
      throw new Error('inputs: a regression network with preprocessing evaluates inputs in host memory (Float32Array)');
    }
    const outputs = await this.predict(x as HostInputs);
    const raw = resolveLabels(y, this.model.spec, outputs.length / pre.target.columns.length, 'labels');
    const values = raw.kind === 'host' && raw.targets.kind === 'dense' ? raw.targets.values : undefined;
    if (!values) throw new Error('internal: regression targets in host memory expected');
    return { ...evaluation, ...regressionMetrics(outputs, values, pre.target.columns.length) };
  }

  /**
   * The head's outputs `[count, C]`: softmax probabilities over classes, per-output sigmoids (each
   * output's probability of being on, for binary and multi-label heads), or a regression head's values.
   * Host inputs give a Float32Array. GPU inputs (`{ buffer, count }`, f32 [count, D] with COPY_SRC
   * usage) give a GPUBuffer — `options.output`, or a new one the caller owns — with nothing read back.
   */
  predict(inputs: GpuInputs, options?: PredictOnGpuOptions): Promise<GPUBuffer>;
  predict(inputs: HostInputs): Promise<Float32Array>;
  /**
   * A network with preprocessing predicts on named rows — TableData, a Table, or row objects
   * (`{ Island: 'Dream', 'Body Mass (g)': 3800, … }`, other keys ignored) — scaled, one-hot encoded and
   * imputed as in training: per row, the most likely class with every class's probability by name, or
   * the unscaled values by target column.
   */
  predict(rows: NamedRows, options?: NamedRowsOptions): Promise<NamedPrediction[]>;
  async predict(
    inputs: HostInputs | GpuInputs | NamedRows,
    options: PredictOnGpuOptions | NamedRowsOptions = {},
  ): Promise<Float32Array | GPUBuffer | NamedPrediction[]> {
    this.model.assertAlive();
    if (isNamedRows(inputs)) {
      const pre = this.pre;
      if (!pre) throw noPreprocessing('predict');
      checkOptions(options, ['unknownCategory'], '{ unknownCategory? }, or nothing');
      const t = await tables();
      const { x, count } = t.namedInputs(inputs as NamedRows, pre, options as NamedRowsOptions);
      return t.namePredictions(await this.model.predictor.predict(x, count), pre);
    }
    return predictInputs(
      this.model.predictor,
      this.model.spec,
      inputs as HostInputs | GpuInputs,
      options as PredictOnGpuOptions,
    );
  }

  /**
   * GPU memory held: `bytes` and `buffers` of this network's context (the whole device's use by this
   * library when the network owns it), and of those the cached plans of training steps and of
   * predictions: their buffers' `bytes`, and their `cost` — the bytes and what a plan costs beyond them
   * (about 128 KiB a plan and 12 KiB a buffer, measured on SwiftShader) — which the two caches keep
   * within one budget of 64 MiB together (least recently used first out; a plan in use is never
   * evicted, so one plan larger than the budget still works).
   */
  memory(): ReturnType<Model['memory']> {
    this.model.assertAlive();
    return this.model.memory();
  }

  /**
   * Runs one training step on the GPU and the same step in the Float64 reference, from the same
   * weights and batch, and reports the largest differences per tensor. The model is left as it was.
   * With `sampleWeights` or `classWeights` (as fit takes them), the step checked is the weighted one.
   */
  async check(
    inputs: Float32Array | Float64Array | readonly (readonly number[])[],
    labels: Labels,
    options: LossWeighting = {},
  ): Promise<CheckReport> {
    checkOptions(options, ['sampleWeights', 'classWeights'], '{ sampleWeights?, classWeights? }, or nothing');
    const x = resolveInputs(inputs, this.layers[0]);
    if (x.kind === 'gpu' || !(x.images instanceof Float32Array)) {
      throw new Error(`inputs: check() takes features (Float32Array, Float64Array or number[][])`);
    }
    const targets = this.targets(labels, x.count, 'labels');
    const weights = await resolveRowWeights(this.model.ctx, this.model.spec, targets, x.count, options);
    return checkStep(this.model, x.images, targets, { weights });
  }

  /**
   * The network as a safetensors file (architecture in the metadata), readable by PyTorch. When it was
   * trained on bytes (`Uint8Array` pixels, scaled by 1/255 on the GPU), the metadata records
   * `inputScale` = 1/255: what raw inputs are multiplied by before the first layer. Everything the
   * network's file said survives load → save (see `metadata`); `metadata` given here joins it, a key
   * given again taking the new value, and is kept for later saves.
   */
  async save(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    checkMetadata(metadata);
    const merged = { ...this.carried, ...metadata };
    // The preprocessing's JSON as src/table/preprocessing.ts `encodePreprocessing` writes it.
    const bytes = await this.model.save(merged, this.pre && JSON.stringify(this.pre));
    this.carried = merged;
    return bytes;
  }

  /**
   * The network as an ONNX file with `predict`'s outputs: `toOnnx(this, options)` (see toOnnx). The
   * exporter is a chunk of its own, loaded on the first export.
   */
  async toOnnx(options: OnnxOptions = {}): Promise<Uint8Array> {
    return (await onnxExporter()).exportOnnx(await this.save(), options);
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
    /** The network's preprocessing (fit's, when it fits one now): regression targets are standardised by it. */
    pre = this.pre,
  ): Promise<GpuDataset> {
    const { spec, ctx } = this.model;
    this.model.assertAlive();
    const scaledTargets = pre?.target.type === 'regression';
    if (pre && inputs instanceof Uint8Array) {
      throw new Error(`${inputName}: a network with preprocessing takes features as numbers (Float32Array), not bytes`);
    }
    const D = spec.layers[0];
    const C = spec.layers[spec.layers.length - 1];
    const x = resolveInputs(inputs, D, inputName);
    const images = x.kind === 'host' ? x.images : x.buffer;
    const source = { images, count: x.count, cols: D, classes: C, scale: 1 / 255 };
    const y = resolveLabels(labels, spec, x.count, labelName);
    if (y.kind === 'host') {
      const t = y.targets;
      const weights = await resolveRowWeights(ctx, spec, t, x.count, weighting);
      if (t.kind === 'labels') return GpuDataset.upload(ctx, { ...source, labels: t.labels, weights }, inputName);
      const values =
        pre && scaledTargets
          ? (await tables()).scaleTargets(Float32Array.from(t.values), pre)
          : Float32Array.from(t.values);
      return GpuDataset.upload(ctx, { ...source, targets: values, weights }, inputName);
    }
    if (scaledTargets) {
      throw new Error(
        `${labelName}: this network standardises its regression targets, so it takes them in host memory (a Float32Array in their own units), not a GPU buffer`,
      );
    }
    const kind = headOf(spec).definition.targets[0];
    const data =
      kind === 'labels'
        ? await GpuDataset.upload(ctx, { ...source, labels: y.buffer }, inputName, labelName)
        : await GpuDataset.upload(ctx, { ...source, targets: y.buffer }, inputName, labelName);
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

/** validationSplit: the training data's last rows as the validation set (checked; undefined without the option). */
function splitValidation(
  inputs: Inputs,
  labels: Labels,
  options: FitOptions,
  spec: MlpSpec,
):
  | {
      train: { inputs: Inputs; labels: Labels };
      validation: { inputs: Inputs; labels: Labels };
      /** The training rows' sample weights (the held-out rows are evaluated unweighted). */
      sampleWeights: SampleWeights | undefined;
    }
  | undefined {
  const fraction = options.validationSplit;
  if (fraction === undefined) return undefined;
  if (typeof fraction !== 'number' || !(fraction > 0 && fraction < 1)) {
    fail('options.validationSplit', fraction, 'a fraction in (0, 1), e.g. 0.2');
  }
  if (options.validation !== undefined) {
    throw new Error('options.validationSplit and options.validation were both given: give one');
  }
  const D = spec.layers[0];
  const x = resolveInputs(inputs, D, 'inputs');
  if (x.kind === 'gpu') {
    throw new Error(
      'options.validationSplit needs inputs in host memory; with a GPU buffer, give options.validation ({ inputs, labels }) instead',
    );
  }
  const rows = x.count;
  const at = Math.floor(rows * (1 - fraction)); // Keras: split_at = int(n * (1 - validation_split))
  if (at < 1 || at >= rows) {
    throw new Error(
      `options.validationSplit = ${fraction} of ${rows} rows leaves ${at} to train on and ${rows - at} to validate: both need at least one row`,
    );
  }
  const part = <T extends { subarray(a: number, b?: number): T }>(a: T, width: number): [T, T] => [
    a.subarray(0, at * width),
    a.subarray(at * width, rows * width),
  ];
  const [xTrain, xTest] = part(x.images as Float32Array, D);
  const y = resolveLabels(labels, spec, rows, 'labels');
  if (y.kind === 'gpu') {
    throw new Error(
      'options.validationSplit needs labels in host memory; with a GPU buffer, give options.validation ({ inputs, labels }) instead',
    );
  }
  const t = y.targets;
  const [yTrain, yTest] =
    t.kind === 'labels' ? part(t.labels, 1) : part(Float32Array.from(t.values), t.values.length / rows);
  return {
    train: { inputs: xTrain, labels: yTrain },
    validation: { inputs: xTest, labels: yTest },
    sampleWeights: splitWeights(options.sampleWeights, rows, at),
  };
}

/** The sample weights of the first `at` of `rows` rows (validationSplit trains on those), as Keras splits them. */
function splitWeights(weights: SampleWeights | undefined, rows: number, at: number): SampleWeights | undefined {
  if (weights === undefined) return undefined;
  if (!Array.isArray(weights) && !ArrayBuffer.isView(weights)) {
    throw new Error(
      'options.validationSplit needs sampleWeights in host memory (an array, one per row); with a GPU buffer, give options.validation instead',
    );
  }
  const list = weights as Float32Array | Float64Array | readonly number[];
  if (list.length !== rows) {
    throw new Error(
      `options.sampleWeights has ${list.length} values, expected one per row of the data (${rows}), which validationSplit then splits`,
    );
  }
  return list.slice(0, at);
}

/** fit's divergence option, checked: `{ factor? }` or false (TrainingRun checks the factor). */
function checkDivergence(divergence: FitOptions['divergence']): FitOptions['divergence'] {
  if (divergence === undefined || divergence === false) return divergence;
  checkOptions(divergence, ['factor'], '{ factor }, or false to turn the rule off');
  return divergence;
}

/** The error of named rows given to a network without preprocessing. */
function noPreprocessing(what: string): Error {
  return new Error(
    `${what}: named rows (a table, TableData or row objects) need a network trained on a table (fit(data)) or loaded from such a file; this network has no preprocessing: give it numbers (Float32Array [count, D])`,
  );
}

/**
 * A checkpoint this network can continue from, checked whole before any of it is applied
 * (checkCheckpoint: its model state, position, run and early stopping state), and of this architecture.
 */
function checkResume(resume: MLPCheckpoint, model: Model): void {
  checkCheckpoint(resume, 'options.resume');
  const { spec } = resume.state;
  if (JSON.stringify(spec) !== JSON.stringify(model.spec)) {
    throw new Error(
      `options.resume is a checkpoint of layers [${spec.layers.join(', ')}] (${JSON.stringify(spec.activations)}, ${JSON.stringify(spec.head)}); this network is [${model.spec.layers.join(', ')}] (${JSON.stringify(model.spec.activations)}, ${JSON.stringify(model.spec.head)})`,
    );
  }
}

/** Creates a network with seeded initial weights, on your device or one it requests. */
export async function createMLP(options: CreateMLPOptions): Promise<MLP> {
  checkOptions(
    options,
    ['layers', 'activation', 'norm', 'dropout', 'head', 'seed', 'device', 'debugShaders', 'label', 'tune'],
    'an object { layers, … }',
  );
  return new MLP(await Model.create(options));
}

/** Loads a network saved by `mlp.save()` or `npm run train`. */
export async function loadMLP(
  bytes: FileBytes,
  options: Pick<CreateMLPOptions, 'device' | 'debugShaders' | 'label' | 'tune'> = {},
): Promise<MLP> {
  checkOptions(
    options,
    ['device', 'debugShaders', 'label', 'tune'],
    'an object { device?, debugShaders?, label?, tune? }, or nothing',
  );
  const file = decodeModel(bytes, 'model file');
  const { layers } = file.spec;
  const json = file.metadata.preprocessing;
  // Checked whole before anything is made from the file.
  const t = json === undefined ? undefined : await tables();
  const pre = t?.decodePreprocessing(json as string, layers[0], layers[layers.length - 1], 'model file');
  const model = await Model.fromFile(file, options);
  const mlp = new MLP(model, carriedMetadata(file.metadata));
  if (t && pre) {
    try {
      await model.setTransform({ input: t.inputAffine(pre), output: t.outputAffine(pre) });
    } catch (error) {
      await model.destroy();
      throw error;
    }
    mlp.adopt(pre);
  }
  return mlp;
}

/**
 * The network as an ONNX file (opset 17) that onnxruntime and other ONNX runtimes run: its outputs are
 * `mlp.predict`'s (the head's probabilities or values) from the same raw inputs — the file's
 * `inputScale` included — for any number of rows (input `inputs` [batch, D], output `probabilities`
 * or `values` [batch, C]). `model` is a network or the bytes of a model file (`mlp.save()`, `npm run
 * train`; as `loadMLP` takes them); `featureNames` and `classNames` go into the file's metadata_props with the library's
 * version and the model file's metadata. A file that cannot be exported (corrupt, or of a newer
 * version) is an error naming what; the exporter is a chunk of its own, loaded on the first call.
 */
export async function toOnnx(model: MLP | FileBytes, options: OnnxOptions = {}): Promise<Uint8Array> {
  return model instanceof MLP ? model.toOnnx(options) : (await onnxExporter()).exportOnnx(model, options);
}

/**
 * The ONNX exporter (src/io/onnx_export.ts), loaded on demand. Called from an MLP method as well as
 * from toOnnx, so that a bundle with the MLP class keeps this import: a bundler that drops an unused
 * dynamic import may still emit its chunk, and a worker bundled as IIFE (Vite's default) then fails
 * to build (a code-splitting build); with the import kept, the bundler inlines it there.
 */
function onnxExporter(): Promise<typeof import('./io/onnx_export.js')> {
  return import('./io/onnx_export.js');
}
