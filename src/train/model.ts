/**
 * Model: an MLP living on the GPU — its parameters, gradients, optimizer state and step plans.
 *
 * One training step is one compute pass and one `queue.submit` (`submitStep`), or several steps share
 * them (`submitSteps`); nothing is read back inside a step. Loss and accuracy accumulate on the GPU
 * and are read when asked. What a step computes is the plan's (src/train/plan.ts: the layers and the
 * head), how parameters move is the optimizer's (src/optim/); the model holds the buffers and orders
 * the work.
 */

import { DeviceLimitError, GpuContext, GpuOutOfMemoryError } from '../gpu/context.js';
import { clearPlans, PlanBudget, PlanCache } from '../gpu/plan_cache.js';
import { GpuWorkRefused } from '../gpu/refused.js';
import type { ForwardPlan } from '../infer/plan.js';
import { Predictor } from '../infer/predictor.js';
import { type Checkpoint, checkModelState } from '../io/checkpoint_file.js';
import { decodeModel, encodeModel, type LoadedModel } from '../io/model_file.js';
import type { FileBytes } from '../io/safetensors.js';
import type { Affine } from '../kernels/affine.js';
import { decodeStats, resetStats, STATS_BYTES } from '../kernels/metrics.js';
import type { GpuOp } from '../kernels/op.js';
import type { OptimizerOp } from '../kernels/optimizer.js';
import { headOf } from '../model/heads/index.js';
import { initParams, initRunning } from '../model/init.js';
import { usesRandom } from '../model/layers/index.js';
import { type ParamLayout, paramLayout } from '../model/layout.js';
import { checkSeed } from '../model/random.js';
import {
  type MlpSpec,
  type NetworkOptions,
  resolveSpec,
  specOptions,
  type TargetKind,
  type Targets,
} from '../model/spec.js';
import { GpuOptimizer } from '../optim/gpu.js';
import { type OptimizerConfig, type ResolvedOptimizer, resolveOptimizer } from '../optim/index.js';
import { fail } from '../params.js';
import type { TuneMode } from '../tune/tuner.js';
import { checkBatch, checkFinite, inferRows } from './batch.js';
import { StepPlan } from './plan.js';
import { checkRowWeights } from './weights.js';

export type { Checkpoint };

/** Running statistics read back from the GPU. */
export interface Stats {
  /** Mean loss over the rows seen since the last reset. */
  meanLoss: number;
  /** Fraction of rows (class heads) or outputs (multi-label heads) predicted right; NaN for regression heads. */
  accuracy: number;
  /** Rows seen since the last reset. */
  count: number;
  /** Mean loss of the most recent step. */
  lastLoss: number;
  /** Steps since the last reset. */
  steps: number;
  /** Steps whose loss was NaN or ±Infinity. */
  nonFinite: number;
}

export interface ModelOptions extends NetworkOptions {
  /** Seed for the weight initialisation. Default 0. */
  seed?: number;
  /** The application's own device. Never destroyed by the model. */
  device?: GPUDevice;
  /** A context to share with other models (its device, pipeline cache). Not destroyed by the model. */
  context?: GpuContext;
  /** Optimizer; can be changed later with setOptimizer. Default Adam, lr 1e-3. */
  optimizer?: OptimizerConfig;
  /** Print the final WGSL of every pipeline compiled (when the model creates its own context). */
  debugShaders?: boolean;
  /** Label prefix for every GPU object of this model. Default `'mlp'`. */
  label?: string;
  /**
   * Tune the matmul kernels of each new plan (batch size) on the adapter: `true` measures the shapes not
   * yet cached, `'cached'` only uses picks cached earlier, `false` (default) keeps the untuned kernels.
   * See docs/tuning.md.
   */
  tune?: TuneMode;
}

const STORAGE_RW = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class Model {
  readonly ctx: GpuContext;
  readonly spec: MlpSpec;
  readonly layout: ParamLayout;
  readonly label: string;
  /** All parameters, flat (see ParamLayout): weights first, then biases. */
  readonly params: GPUBuffer;
  /** Gradients of the last step, same layout. */
  readonly grads: GPUBuffer;
  readonly trainStats: GPUBuffer;
  readonly evalStats: GPUBuffer;
  /** The running statistics (BatchNorm's), flat (ParamLayout.running); undefined when the network has none. */
  readonly running: GPUBuffer | undefined;
  /**
   * u32 [seed, step]: the random stream of a network with dropout (its masks are a hash of the element,
   * this step and seed, and the block). The GPU advances the step after each training step; `random`
   * mirrors it here.
   */
  readonly random: GPUBuffer | undefined;
  private randomState = { seed: 0, step: 0 };
  private settings: ResolvedOptimizer;
  private optimizer: GpuOptimizer | undefined;
  /** The optimizer's first update op (one-step submits), ready once setOptimizer has resolved. */
  private update: OptimizerOp | undefined;
  /** Optimizer steps taken (Adam's t). */
  private stepCount = 0;
  /** Resolves once `update` is compiled (setOptimizer's deferCompile). */
  private ready: Promise<void> = Promise.resolve();
  /** The first validation error of the work submitted since the last statistics read (submitWork). */
  private refused: Promise<GPUError | null> = Promise.resolve(null);
  /**
   * The step plans by batch size, target kind, whether dX is computed and whether the loss is weighted,
   * within a byte budget (see PlanCache).
   */
  readonly plans: PlanCache<[number, TargetKind, boolean, boolean], StepPlan>;
  /** predict's forward plans and chunking (the inference entry's too). */
  readonly predictor: Predictor;
  private readonly ownsContext: boolean;
  private destroyed = false;
  /** The evaluations queued so far: they share the evaluation statistics, so they run one at a time. */
  private evaluations: Promise<unknown> = Promise.resolve();
  /** Whether plans made from now on tune their matmuls (ModelOptions.tune). */
  tune: TuneMode = false;
  /**
   * The network's input and output transforms on the GPU (PlanModel.transform: a table network's
   * scaling, docs/maths.md §11), once setTransform has installed them.
   */
  transform: { input?: GPUBuffer; output?: GPUBuffer } | undefined;

  private constructor(
    ctx: GpuContext,
    ownsContext: boolean,
    spec: MlpSpec,
    optimizer: ResolvedOptimizer,
    label: string,
  ) {
    this.ctx = ctx;
    this.ownsContext = ownsContext;
    this.spec = spec;
    this.layout = paramLayout(spec);
    this.settings = optimizer;
    this.label = label;
    const bytes = this.layout.totalFloats * 4;
    this.params = ctx.createBuffer(`${label}.params`, bytes, STORAGE_RW());
    try {
      this.grads = ctx.createBuffer(`${label}.grads`, bytes, STORAGE_RW());
    } catch (error) {
      ctx.releaseBuffer(this.params);
      throw error;
    }
    this.trainStats = ctx.createBuffer(`${label}.trainStats`, STATS_BYTES, STORAGE_RW());
    this.evalStats = ctx.createBuffer(`${label}.evalStats`, STATS_BYTES, STORAGE_RW());
    const running = this.layout.running.totalFloats;
    this.running = running ? ctx.createBuffer(`${label}.running`, running * 4, STORAGE_RW()) : undefined;
    this.random = usesRandom(spec) ? ctx.createBuffer(`${label}.random`, 8, STORAGE_RW()) : undefined;
    // One budget for both caches: what the network's plans cost together (see PlanBudget).
    const budget = new PlanBudget();
    this.plans = new PlanCache(
      (batch: number, targetKind: TargetKind, inputGrad: boolean, weighted: boolean) =>
        StepPlan.create(this, { batch, targetKind, inputGrad, weighted }),
      budget,
    );
    this.predictor = new Predictor(this, budget);
  }

  /** Creates a model with seeded initial weights. All validation happens before any GPU work. */
  static async create(options: ModelOptions): Promise<Model> {
    const spec = resolveSpec(options);
    const optimizer = resolveOptimizer(options.optimizer);
    const seed = checkSeed('options.seed', options.seed ?? 0);
    const { label, debugShaders } = options;
    if (label !== undefined && (typeof label !== 'string' || label === ''))
      fail('options.label', label, 'a non-empty string');
    if (debugShaders !== undefined && typeof debugShaders !== 'boolean') {
      fail('options.debugShaders', debugShaders, 'true or false');
    }
    const tune = options.tune ?? false;
    if (tune !== true && tune !== false && tune !== 'cached') {
      fail('options.tune', tune, "true, false or 'cached'");
    }
    const ownsContext = !options.context;
    const ctx =
      options.context ?? (await GpuContext.create({ device: options.device, debugShaders: options.debugShaders }));
    const count = paramLayout(spec).parameterCount.toLocaleString('en-US');
    const what = `layers [${spec.layers.join(', ')}] (${count} parameters)`;
    let model: Model;
    try {
      model = await ctx.allocating(
        `the parameters of ${what}`,
        () => new Model(ctx, ownsContext, spec, optimizer, options.label ?? 'mlp'),
        (made) => made.destroy(),
        'use a smaller network, or free GPU memory (other models: destroy())',
      );
      model.tune = tune;
    } catch (error) {
      if (ownsContext) ctx.destroy();
      if (!(error instanceof DeviceLimitError) || error instanceof GpuOutOfMemoryError) throw error;
      throw new DeviceLimitError(`${what}: ${error.message}`);
    }
    try {
      model.writeParams(initParams(spec, seed, model.layout));
      model.writeRunning(initRunning(model.layout));
      model.writeRandom({ seed, step: 0 });
      await model.setOptimizer(optimizer, true);
    } catch (error) {
      await model.destroy();
      throw error;
    }
    return model;
  }

  /** The current optimizer settings. */
  get optimizerConfig(): ResolvedOptimizer {
    return { ...this.settings };
  }

  /** Optimizer steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /**
   * Switches optimizer (its state starts from zero when the kind changes) or its hyperparameters
   * (state and step count kept). Settings are checked before anything changes.
   */
  async setOptimizer(config: OptimizerConfig, deferCompile = false): Promise<void> {
    this.assertAlive();
    const resolved = resolveOptimizer(config);
    const kindChanged = !this.optimizer || resolved.kind !== this.optimizer.kind;
    if (kindChanged) {
      const next = await this.ctx.allocating(
        `the ${resolved.kind} optimizer's state of ${this.label}`,
        () =>
          new GpuOptimizer(
            this.ctx,
            resolved.kind,
            { params: this.params, grads: this.grads, layout: this.layout },
            `${this.label}.optimizer`,
          ),
        (made) => made.destroy(),
        'use a smaller network, or an optimizer with less state (sgd has none, momentum one buffer, adam two)',
      );
      const made = next.slot(0);
      if (deferCompile) {
        // A new model's optimizer compiles beside its first step plan (see Model.create): steps wait
        // for it through plan() and optimizerReady().
        this.optimizer?.destroy();
        this.optimizer = next;
        this.update = undefined;
        this.stepCount = 0;
        this.ready = made.then((update) => {
          if (this.optimizer === next) this.update = update;
        });
        this.ready.catch(() => {}); // surfaces where it is awaited
      } else {
        let update: OptimizerOp;
        try {
          update = await made;
        } catch (error) {
          next.destroy();
          throw error;
        }
        this.optimizer?.destroy();
        this.optimizer = next;
        this.update = update;
        this.ready = Promise.resolve();
        this.stepCount = 0;
      }
    }
    this.settings = resolved;
  }

  /**
   * Installs the per-input transform every plan applies before the first layer, and the per-output one
   * prediction plans apply after the last (a table network's preprocessing), replacing any before.
   * Cached plans were made without them: they are dropped.
   */
  async setTransform(affines: { input?: Affine; output?: Affine }, label = this.label): Promise<void> {
    this.assertAlive();
    const D = this.spec.layers[0];
    const C = this.spec.layers[this.spec.layers.length - 1];
    for (const [side, a, n] of [
      ['input', affines.input, D],
      ['output', affines.output, C],
    ] as const) {
      if (a && (a.scale.length !== n || a.shift.length !== n)) {
        throw new Error(
          `internal: the ${side} transform has ${a.scale.length} scales and ${a.shift.length} shifts, expected ${n}`,
        );
      }
    }
    // The affine kernel's module is loaded only by networks with preprocessing.
    const made = await (await import('../kernels/affine.js')).createTransform(this.ctx, affines, label);
    this.releaseTransform();
    this.transform = made.input || made.output ? made : undefined;
    clearPlans(this.plans as PlanCache<never, StepPlan>);
    clearPlans(this.predictor.plans as PlanCache<never, ForwardPlan>);
  }

  private releaseTransform(): void {
    for (const b of [this.transform?.input, this.transform?.output]) if (b) this.ctx.releaseBuffer(b);
    this.transform = undefined;
  }

  /** The plan for a batch size and target kind, made once and cached (see PlanCache for the bound). */
  async plan(batch: number, targetKind: TargetKind, inputGrad = false, weighted = false): Promise<StepPlan> {
    this.assertAlive();
    const [plan] = await Promise.all([this.plans.get(batch, targetKind, inputGrad, weighted), this.ready]);
    return plan;
  }

  /** Resolves once the optimizer's update is compiled (a new model compiles it beside its first plan). */
  optimizerReady(): Promise<void> {
    return this.ready;
  }

  /** The target kind a Targets value needs, checked against the head. */
  targetKindOf(targets: Targets): TargetKind {
    const head = headOf(this.spec).definition;
    if (!head.targets.includes(targets.kind)) {
      throw new Error(
        targets.kind === 'labels'
          ? `targets: class labels need the softmax head; give dense targets ([B, C]) for head '${head.name}'`
          : `targets: the ${head.name} head takes ${head.targets.join(' or ')} targets, not ${targets.kind}`,
      );
    }
    return targets.kind;
  }

  /**
   * One training step on a batch given as typed arrays: uploads it, then forward, loss,
   * backward and update in one submit. Returns without waiting for the GPU.
   * x: [rows, D] row-major; targets: labels [rows] or dense [rows, C]; weights: the rows' loss weights
   * [rows] (finite, ≥ 0), for the weighted loss (1/B)·Σ_r w_r·ℓ_r.
   */
  async step(
    x: Float32Array,
    targets: Targets,
    rows = inferRows(x, this.spec.layers[0]),
    weights?: Float32Array,
  ): Promise<void> {
    const kind = this.targetKindOf(targets);
    checkBatch(this.spec, x, targets, rows);
    checkFinite('x', x, this.spec.layers[0]);
    if (weights) checkRowWeights('weights', weights, rows);
    await this.ready;
    await this.plans.with([rows, kind, false, weights !== undefined], async (plan: StepPlan) => {
      this.uploadBatch(plan, x, targets, weights);
      this.submitStep(plan);
    });
  }

  /** Writes a batch into a plan's input buffers (queue writes, ordered before the next submit). */
  uploadBatch(plan: StepPlan, x: Float32Array, targets: Targets, weights?: Float32Array): void {
    if (plan.weighted !== (weights !== undefined)) {
      throw new Error(
        `internal: a ${plan.weighted ? 'weighted' : 'unweighted'} plan given ${weights ? '' : 'no '}weights`,
      );
    }
    const queue = this.ctx.device.queue;
    queue.writeBuffer(plan.x, 0, x.buffer, x.byteOffset, plan.batch * this.spec.layers[0] * 4);
    const t = targets.kind === 'labels' ? targets.labels : Float32Array.from(targets.values);
    queue.writeBuffer(plan.targets, 0, t.buffer, t.byteOffset, t.byteLength);
    if (plan.weights && weights) queue.writeBuffer(plan.weights, 0, weights.buffer, weights.byteOffset, plan.batch * 4);
  }

  /**
   * Encodes one step (after optional input ops such as a GPU gather) and submits it. `learningRate`
   * replaces the optimizer's for this step only (a schedule's).
   */
  submitStep(plan: StepPlan, inputOps: readonly GpuOp[] = [], learningRate?: number): void {
    this.assertAlive();
    if (!this.optimizer || !this.update) throw new Error('internal: optimizer not prepared');
    this.submit(
      plan,
      this.optimizer,
      [inputOps],
      [this.update],
      learningRate === undefined ? undefined : [learningRate],
    );
  }

  /**
   * Several steps of one plan, each after its own input ops (e.g. gathers of different rows), in
   * one compute pass and one submit: the same work as that many `submitStep`s, with one submit's
   * overhead. Each step's optimizer update has its own uniform (its step count).
   */
  async submitSteps(
    plan: StepPlan,
    inputOps: readonly (readonly GpuOp[])[],
    learningRates?: readonly number[],
  ): Promise<void> {
    this.assertAlive();
    const optimizer = this.optimizer;
    if (!optimizer) throw new Error('internal: optimizer not prepared');
    const updates = await Promise.all(inputOps.map((_, i) => optimizer.slot(i)));
    this.submit(plan, optimizer, inputOps, updates, learningRates);
  }

  private submit(
    plan: StepPlan,
    optimizer: GpuOptimizer,
    inputOps: readonly (readonly GpuOp[])[],
    updates: readonly OptimizerOp[],
    learningRates: readonly number[] | undefined,
  ): void {
    this.submitWork(() => {
      const encoder = this.ctx.device.createCommandEncoder({ label: `${this.label}.step` });
      const pass = encoder.beginComputePass({ label: `${this.label}.step` });
      inputOps.forEach((ops, i) => {
        this.stepCount++;
        if (this.random) this.randomState.step++; // as the step's advance does on the GPU
        const update = updates[i] as OptimizerOp;
        const lr = learningRates?.[i];
        optimizer.setHyper(
          update,
          lr === undefined ? this.settings : { ...this.settings, learningRate: lr },
          this.stepCount,
        );
        plan.encodeStep(pass, ops, update); // forward, loss, backward, update (src/train/plan.ts)
      });
      pass.end();
      this.ctx.device.queue.submit([encoder.finish()]);
    });
  }

  /**
   * Submits steps or an evaluation inside a validation error scope (GpuContext.submitChecked): the first
   * error since the last statistics read is kept, and that read throws it (`refusedWork`), so a step the
   * GPU refused — an application's buffer destroyed meanwhile — rejects the run instead of training on.
   */
  private submitWork(submit: () => void): void {
    const error = this.ctx.submitChecked(submit);
    const earlier = this.refused;
    this.refused = earlier.then((e) => e ?? error);
  }

  /**
   * Throws a GpuWorkRefused when work submitted since the last check was refused by the GPU (every
   * statistics read checks); `read`, issued beside it, is then left handled.
   */
  private async throwRefused(read: Promise<unknown>): Promise<void> {
    const pending = this.refused;
    this.refused = Promise.resolve(null);
    const refused = await pending;
    if (refused) {
      read.catch(() => {});
      throw new GpuWorkRefused(refused.message);
    }
  }

  /**
   * Forward pass and loss for a plan's current batch, accumulated into the evaluation stats; the
   * head's outputs and predicted classes land in the plan's buffers, and `copies` (e.g. the
   * predictions or the logits into a whole data set's buffer) are made after the pass.
   */
  submitEval(
    plan: StepPlan,
    inputOps: readonly GpuOp[] = [],
    copies: readonly { from: GPUBuffer; to: GPUBuffer; offset: number; bytes: number }[] = [],
  ): void {
    this.assertAlive();
    this.submitWork(() => {
      const encoder = this.ctx.device.createCommandEncoder({ label: `${this.label}.eval` });
      const pass = encoder.beginComputePass({ label: `${this.label}.eval` });
      plan.encodeEval(pass, inputOps); // the evaluation forward and the loss (src/train/plan.ts)
      pass.end();
      for (const c of copies) encoder.copyBufferToBuffer(c.from, 0, c.to, c.offset, c.bytes);
      this.ctx.device.queue.submit([encoder.finish()]);
    });
  }

  /**
   * Runs `fn` once every evaluation queued before it has finished: evaluations accumulate into the
   * one evaluation statistics buffer, so two at once (an app's evaluate during fit's validation)
   * would mix their counts.
   */
  exclusiveEvaluation<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.evaluations.then(fn, fn);
    this.evaluations = next.catch(() => {});
    return next;
  }

  /** Reads the training statistics accumulated since the last reset (async; a few times per epoch). */
  async readTrainStats(reset = false): Promise<Stats> {
    return this.readStats(this.trainStats, reset);
  }

  /** Reads the evaluation statistics accumulated since the last reset. */
  async readEvalStats(reset = false): Promise<Stats> {
    return this.readStats(this.evalStats, reset);
  }

  private async readStats(buffer: GPUBuffer, reset: boolean): Promise<Stats> {
    const read = this.ctx.read(buffer);
    await this.throwRefused(read);
    const bytes = await read;
    if (reset) resetStats(this.ctx, buffer);
    return this.stats(bytes);
  }

  /**
   * Ends a training epoch without waiting for the GPU: the training statistics, the parameters and the
   * optimizer's state are copied aside behind the work submitted so far (one submit, one staging
   * buffer) and the statistics zeroed for the next epoch; resolves with them once read back, while
   * the steps submitted meanwhile run (src/train/loop.ts, pipelined epochs).
   */
  async endEpoch(): Promise<{ stats: Stats; checkpoint: Checkpoint }> {
    this.assertAlive();
    const state = this.optimizer?.state ?? [];
    const position = {
      spec: this.spec,
      optimizer: this.optimizerConfig,
      step: this.stepCount,
      ...this.randomPosition(),
    };
    const bytes = this.layout.totalFloats * 4;
    const sources = [this.params, ...state];
    const runningBytes = this.layout.running.totalFloats * 4; // BatchNorm's running statistics, after the rest
    const runningAt = STATS_BYTES + bytes * sources.length;
    // One copy submit straight into a staging buffer the context keeps (readRanges), queued behind the
    // work submitted so far; the statistics zeroed after it, in queue order.
    const read = this.ctx.readRanges(`${this.label}.endEpoch`, [
      { buffer: this.trainStats, size: STATS_BYTES },
      ...sources.map((buffer) => ({ buffer, size: bytes })),
      ...(this.running ? [{ buffer: this.running, size: runningBytes }] : []),
    ]);
    resetStats(this.ctx, this.trainStats);
    await this.throwRefused(read);
    const all = await read;
    const floats = (i: number) => new Float32Array(all, STATS_BYTES + i * bytes, this.layout.totalFloats);
    return {
      stats: this.stats(all.slice(0, STATS_BYTES)),
      checkpoint: {
        ...position,
        params: floats(0),
        ...(this.running && { running: new Float32Array(all, runningAt, this.layout.running.totalFloats) }),
        state: state.map((_, i) => floats(i + 1)),
      },
    };
  }

  private stats(bytes: ArrayBuffer): Stats {
    const raw = decodeStats(bytes);
    const { prediction } = headOf(this.spec).definition;
    const outputs = prediction === 'multiLabel' ? this.spec.layers[this.spec.layers.length - 1] : 1;
    return {
      meanLoss: raw.count ? raw.lossSum / raw.count : Number.NaN,
      accuracy: raw.count && prediction !== 'value' ? raw.correct / (raw.count * outputs) : Number.NaN,
      count: raw.count,
      lastLoss: raw.lastLoss,
      steps: raw.steps,
      nonFinite: raw.nonFinite,
    };
  }

  resetTrainStats(): void {
    resetStats(this.ctx, this.trainStats);
  }

  resetEvalStats(): void {
    resetStats(this.ctx, this.evalStats);
  }

  /** Replaces every parameter (flat layout, see ParamLayout). */
  writeParams(flat: Float32Array): void {
    this.assertAlive();
    if (flat.length !== this.layout.totalFloats) {
      throw new Error(
        `params has ${flat.length} floats, expected ${this.layout.totalFloats} (the model's flat layout)`,
      );
    }
    this.ctx.device.queue.writeBuffer(this.params, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  /** Reads every parameter (flat layout). */
  readParams(): Promise<Float32Array> {
    return this.ctx.readF32(this.params);
  }

  /** Reads the gradients of the last step (flat layout). */
  readGrads(): Promise<Float32Array> {
    return this.ctx.readF32(this.grads);
  }

  /** Reads the optimizer state buffers (flat layout each, in the definition's order) and the step count. */
  async readOptimizerState(): Promise<{ step: number; buffers: Float32Array[] }> {
    const state = this.optimizer?.state ?? [];
    const buffers = await Promise.all(state.map((b) => this.ctx.readF32(b)));
    return { step: this.stepCount, buffers };
  }

  /** Restores what readOptimizerState returned. */
  writeOptimizerState(saved: { step: number; buffers: Float32Array[] }): void {
    const state = this.optimizer?.state ?? [];
    if (saved.buffers.length !== state.length) {
      throw new Error(
        `optimizer state has ${saved.buffers.length} buffers, the ${this.settings.kind} optimizer needs ${state.length}`,
      );
    }
    for (const data of saved.buffers) {
      if (data.length !== this.layout.totalFloats) {
        throw new Error(`optimizer state has ${data.length} floats per buffer, expected ${this.layout.totalFloats}`);
      }
    }
    saved.buffers.forEach((data, i) => {
      this.ctx.device.queue.writeBuffer(state[i], 0, data.buffer, data.byteOffset, data.byteLength);
    });
    this.stepCount = saved.step;
  }

  /**
   * The head's outputs (probabilities, or the raw outputs of a regression head) for inputs x: [rows, D],
   * computed on the GPU in chunks whose buffers fit the device (see Predictor). Returns [rows, C].
   */
  async predict(x: Float32Array): Promise<Float32Array> {
    this.assertAlive();
    const rows = inferRows(x, this.spec.layers[0]);
    checkFinite('x', x, this.spec.layers[0]);
    return this.predictor.predict(x, rows);
  }

  /**
   * GPU memory held for this model: every buffer of its context (shared with other models when the
   * context is shared), and of those the cached plans of training steps and of predictions — their
   * buffers' bytes, and what they cost (`cost`, planCost: bytes and the measured overhead), which the
   * two caches keep within one budget together (PLAN_CACHE_BYTES, see PlanBudget).
   */
  memory(): {
    bytes: number;
    buffers: number;
    stepPlans: { plans: number; bytes: number; cost: number };
    predictPlans: { plans: number; bytes: number; cost: number };
  } {
    return {
      bytes: this.ctx.bytesAllocated,
      buffers: this.ctx.bufferCount,
      stepPlans: this.plans.usage,
      predictPlans: this.predictor.plans.usage,
    };
  }

  /**
   * Everything needed to continue training elsewhere: parameters, optimizer state and step, running
   * statistics, the random stream's position (read back to the CPU).
   */
  async checkpoint(): Promise<Checkpoint> {
    this.assertAlive();
    const random = this.randomPosition();
    const [params, state, running] = await Promise.all([
      this.readParams(),
      this.readOptimizerState(),
      this.readRunning(),
    ]);
    return {
      spec: this.spec,
      optimizer: this.optimizerConfig,
      params,
      ...(running && { running }),
      state: state.buffers,
      step: state.step,
      ...random,
    };
  }

  /** The random stream's position, for a checkpoint (networks with dropout). */
  private randomPosition(): { random?: { seed: number; step: number } } {
    return this.random ? { random: { ...this.randomState } } : {};
  }

  /** Reads the running statistics (flat, ParamLayout.running); undefined when the network has none. */
  async readRunning(): Promise<Float32Array | undefined> {
    return this.running ? this.ctx.readF32(this.running) : undefined;
  }

  /** Replaces the running statistics (networks with BatchNorm; nothing to do without). */
  writeRunning(flat: Float32Array | undefined): void {
    this.assertAlive();
    if (!this.running) return;
    if (!flat || flat.length !== this.layout.running.totalFloats) {
      throw new Error(
        `running statistics have ${flat?.length ?? 'no'} floats, expected ${this.layout.running.totalFloats} (the model's layout)`,
      );
    }
    this.ctx.device.queue.writeBuffer(this.running, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  /** The random stream's seed and step (networks with dropout; undefined without). */
  get randomStream(): { seed: number; step: number } | undefined {
    return this.random ? { ...this.randomState } : undefined;
  }

  /** Sets the random stream (networks with dropout; nothing to do without). */
  writeRandom(stream: { seed: number; step: number } | undefined): void {
    if (!this.random || !stream) return;
    this.randomState = { seed: stream.seed >>> 0, step: stream.step >>> 0 };
    this.ctx.device.queue.writeBuffer(this.random, 0, Uint32Array.of(this.randomState.seed, this.randomState.step));
  }

  /**
   * Puts a checkpoint of this architecture back (parameters, optimizer and its state), checked whole
   * first (checkModelState): a refused one changes nothing.
   */
  async restore(cp: Checkpoint): Promise<void> {
    checkModelState(cp, 'checkpoint');
    if (JSON.stringify(cp.spec) !== JSON.stringify(this.spec)) {
      throw new Error(
        `checkpoint is for layers [${cp.spec.layers.join(', ')}], this model has [${this.spec.layers.join(', ')}]`,
      );
    }
    await this.setOptimizer(cp.optimizer);
    this.writeParams(cp.params);
    this.writeRunning(cp.running);
    this.writeRandom(cp.random);
    this.writeOptimizerState({ step: cp.step, buffers: cp.state });
  }

  /** A new model (on a new device or context, e.g. after a device loss) from a checkpoint. */
  static async fromCheckpoint(
    cp: Checkpoint,
    options: Pick<ModelOptions, 'device' | 'context' | 'label'> = {},
  ): Promise<Model> {
    const model = await Model.create({ ...options, ...specOptions(cp.spec), optimizer: cp.optimizer });
    await model.restore(cp);
    return model;
  }

  /** The model as a safetensors file (architecture in the metadata; weights as torch.nn.Linear [out, in]). */
  async save(metadata: Record<string, string> = {}, preprocessing?: string): Promise<Uint8Array> {
    return encodeModel(this.spec, await this.readParams(), metadata, preprocessing, await this.readRunning());
  }

  /** Loads a model saved by `save()` (or `npm run train`). Bad files give errors that say what is wrong. */
  static async load(
    bytes: FileBytes,
    options: Omit<ModelOptions, 'layers' | 'activation' | 'head' | 'seed'> = {},
  ): Promise<Model> {
    return Model.fromFile(decodeModel(bytes, 'model file'), options);
  }

  /** A model from a decoded model file (`decodeModel`): its architecture and parameters. */
  static async fromFile(
    file: LoadedModel,
    options: Omit<ModelOptions, 'layers' | 'activation' | 'head' | 'seed'> = {},
  ): Promise<Model> {
    const model = await Model.create({ ...options, ...specOptions(file.spec) });
    model.writeParams(file.params);
    model.writeRunning(file.running);
    return model;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  assertAlive(): void {
    if (this.destroyed) throw new Error(`${this.label}: this model has been destroyed; create or load a new one`);
    this.ctx.assertAlive();
  }

  /** Frees every GPU resource of the model (and its device, if the model created it). Harmless twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await this.plans.destroy();
    await this.predictor.destroy();
    this.optimizer?.destroy();
    this.releaseTransform();
    for (const b of [this.params, this.grads, this.trainStats, this.evalStats, this.running, this.random]) {
      if (b) this.ctx.releaseBuffer(b);
    }
    if (this.ownsContext) this.ctx.destroy();
  }
}

export { checkBatch, checkFinite };
