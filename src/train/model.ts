/**
 * Model: an MLP living on the GPU — its parameters, gradients, optimizer state and step plans.
 *
 * One training step is one compute pass and one `queue.submit` (`submitStep`), or several steps share
 * them (`submitSteps`); nothing is read back inside a step. Loss and accuracy accumulate on the GPU
 * and are read when asked.
 */
import { GpuContext } from '../gpu/context.js';
import { decodeModel, encodeModel } from '../io/model_file.js';
import { decodeStats, resetStats, STATS_BYTES } from '../kernels/metrics.js';
import { type GpuOp, OpScope } from '../kernels/op.js';
import { type OptimizerHyper, prepareOptimizer } from '../kernels/optimizer.js';
import { initParams } from '../model/init.js';
import { type ParamLayout, paramLayout } from '../model/layout.js';
import type { MlpSpec, Targets } from '../model/spec.js';
import type { Evaluation } from './fit.js';
import {
  type NetworkOptions,
  type OptimizerConfig,
  optimizerHyper,
  type ResolvedOptimizer,
  resolveOptimizer,
  resolveSpec,
} from './options.js';
import { type PlanModel, StepPlan, type TargetKind } from './plan.js';

type UpdateOp = GpuOp & { setHyper(h: OptimizerHyper): void };

/** A model's training state on the CPU: survives the loss of its device. */
export interface Checkpoint {
  spec: MlpSpec;
  optimizer: ResolvedOptimizer;
  /** Flat parameters (see ParamLayout). */
  params: Float32Array;
  /** Optimizer state buffers (momentum velocity, or Adam m and v), flat. */
  state: Float32Array[];
  /** Optimizer steps taken. */
  step: number;
}

/** Running statistics read back from the GPU. */
export interface Stats {
  /** Mean loss over the rows seen since the last reset. */
  meanLoss: number;
  /** Fraction of rows (softmax) or outputs (sigmoid) predicted right. */
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
}

const STORAGE_RW = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class Model implements PlanModel {
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
  private optimizer: ResolvedOptimizer;
  /** Optimizer state: momentum velocity, or Adam m and v; same layout as params. */
  private state: GPUBuffer[] = [];
  private update: UpdateOp | undefined;
  /** One optimizer op per step of a multi-step submit (see `submitSteps`); [0] is `update`. */
  private updateSlots: Promise<UpdateOp>[] = [];
  private updateScope: OpScope | undefined;
  /** Optimizer steps taken (Adam's t). */
  private stepCount = 0;
  private readonly plans = new Map<string, Promise<StepPlan>>();
  private readonly ownsContext: boolean;
  private destroyed = false;

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
    this.optimizer = optimizer;
    this.label = label;
    const bytes = this.layout.totalFloats * 4;
    this.params = ctx.createBuffer(`${label}.params`, bytes, STORAGE_RW());
    this.grads = ctx.createBuffer(`${label}.grads`, bytes, STORAGE_RW());
    this.trainStats = ctx.createBuffer(`${label}.trainStats`, STATS_BYTES, STORAGE_RW());
    this.evalStats = ctx.createBuffer(`${label}.evalStats`, STATS_BYTES, STORAGE_RW());
  }

  /** Creates a model with seeded initial weights. All validation happens before any GPU work. */
  static async create(options: ModelOptions): Promise<Model> {
    const spec = resolveSpec(options);
    const optimizer = resolveOptimizer(options.optimizer);
    const seed = options.seed ?? 0;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new Error(`options.seed = ${seed} is invalid: expected an integer in 0..4294967295`);
    }
    const ownsContext = !options.context;
    const ctx =
      options.context ?? (await GpuContext.create({ device: options.device, debugShaders: options.debugShaders }));
    const model = new Model(ctx, ownsContext, spec, optimizer, options.label ?? 'mlp');
    model.writeParams(initParams(spec, seed, model.layout));
    await model.setOptimizer(options.optimizer ?? {});
    return model;
  }

  /** The current optimizer settings. */
  get optimizerConfig(): ResolvedOptimizer {
    return { ...this.optimizer };
  }

  /** Optimizer steps taken so far. */
  get steps(): number {
    return this.stepCount;
  }

  /** Switches optimizer (state starts from zero when the kind changes) or its hyperparameters. */
  async setOptimizer(config: OptimizerConfig): Promise<void> {
    this.assertAlive();
    const resolved = resolveOptimizer(config);
    const kindChanged = !this.update || resolved.kind !== this.optimizer.kind;
    this.optimizer = resolved;
    if (!kindChanged) return;
    for (const b of this.state) this.ctx.releaseBuffer(b);
    this.updateScope?.destroy();
    const bytes = this.layout.totalFloats * 4;
    const names = resolved.kind === 'momentum' ? ['velocity'] : resolved.kind === 'adam' ? ['m', 'v'] : [];
    this.state = names.map((n) => this.ctx.createBuffer(`${this.label}.optimizer.${n}`, bytes, STORAGE_RW()));
    this.updateScope = new OpScope(this.ctx);
    this.updateSlots = [];
    this.update = await this.updateSlot(0);
    this.stepCount = 0;
  }

  /**
   * The optimizer op of a slot. Each has its own hyperparameter uniform, so that the steps of one
   * submit can carry different step counts (Adam's bias correction).
   */
  private updateSlot(slot: number): Promise<UpdateOp> {
    let op = this.updateSlots[slot];
    if (!op) {
      const [s1, s2] = this.state;
      const kind = this.optimizer.kind;
      op = prepareOptimizer(
        this.ctx,
        this.updateScope as OpScope,
        {
          kind,
          params: this.params,
          grads: this.grads,
          velocity: kind === 'momentum' ? s1 : undefined,
          m: kind === 'adam' ? s1 : undefined,
          v: kind === 'adam' ? s2 : undefined,
          count: this.layout.totalFloats,
          decayCount: this.layout.decayCount,
        },
        slot === 0 ? `${this.label}.optimizer` : `${this.label}.optimizer.slot${slot}`,
      );
      this.updateSlots[slot] = op;
      op.catch(() => delete this.updateSlots[slot]);
    }
    return op;
  }

  /** The plan for a batch size and target kind, made once and cached. */
  plan(batch: number, targetKind: TargetKind, inputGrad = false): Promise<StepPlan> {
    this.assertAlive();
    const key = `${batch}:${targetKind}:${inputGrad}`;
    let plan = this.plans.get(key);
    if (!plan) {
      plan = StepPlan.create(this, { batch, targetKind, inputGrad });
      this.plans.set(key, plan);
      plan.catch(() => this.plans.delete(key));
    }
    return plan;
  }

  /** The target kind a Targets value needs, checked against the head. */
  targetKindOf(targets: Targets): TargetKind {
    if (targets.kind === 'labels' && this.spec.head !== 'softmax') {
      throw new Error(
        "targets: class labels need the softmax head; give dense targets ([B, C] in [0, 1]) for head 'sigmoid'",
      );
    }
    return targets.kind;
  }

  /**
   * One training step on a batch given as typed arrays: uploads it, then forward, loss,
   * backward and update in one submit. Returns without waiting for the GPU.
   * x: [rows, D] row-major; targets: labels [rows] or dense [rows, C].
   */
  async step(x: Float32Array, targets: Targets, rows = inferRows(x, this.spec.layers[0])): Promise<void> {
    const kind = this.targetKindOf(targets);
    checkBatch(this.spec, x, targets, rows);
    checkFinite('x', x, this.spec.layers[0]);
    const plan = await this.plan(rows, kind);
    this.uploadBatch(plan, x, targets);
    this.submitStep(plan);
  }

  /** Writes a batch into a plan's input buffers (queue writes, ordered before the next submit). */
  uploadBatch(plan: StepPlan, x: Float32Array, targets: Targets): void {
    const queue = this.ctx.device.queue;
    queue.writeBuffer(plan.x, 0, x.buffer, x.byteOffset, plan.batch * this.spec.layers[0] * 4);
    const t = targets.kind === 'labels' ? targets.labels : Float32Array.from(targets.values);
    queue.writeBuffer(plan.targets, 0, t.buffer, t.byteOffset, t.byteLength);
  }

  /** Encodes one step (after optional input ops such as a GPU gather) and submits it. */
  submitStep(plan: StepPlan, inputOps: readonly GpuOp[] = []): void {
    this.assertAlive();
    if (!this.update) throw new Error('internal: optimizer not prepared');
    this.submit(plan, [inputOps], [this.update]);
  }

  /**
   * Several steps of one plan, each after its own input ops (e.g. gathers of different rows), in
   * one compute pass and one submit: the same work as that many `submitStep`s, with one submit's
   * overhead. Each step's optimizer update has its own uniform (its step count).
   */
  async submitSteps(plan: StepPlan, inputOps: readonly (readonly GpuOp[])[]): Promise<void> {
    this.assertAlive();
    const updates = await Promise.all(inputOps.map((_, i) => this.updateSlot(i)));
    this.submit(plan, inputOps, updates);
  }

  private submit(plan: StepPlan, inputOps: readonly (readonly GpuOp[])[], updates: readonly UpdateOp[]): void {
    const hyper = optimizerHyper(this.optimizer);
    const encoder = this.ctx.device.createCommandEncoder({ label: `${this.label}.step` });
    const pass = encoder.beginComputePass({ label: `${this.label}.step` });
    inputOps.forEach((ops, i) => {
      this.stepCount++;
      const update = updates[i];
      update.setHyper({ ...hyper, step: this.stepCount });
      for (const op of ops) op.encode(pass);
      for (const op of plan.forward) op.encode(pass);
      for (const op of plan.loss) op.encode(pass);
      plan.trainMetrics.encode(pass);
      for (const op of plan.backward) op.encode(pass);
      update.encode(pass);
    });
    pass.end();
    this.ctx.device.queue.submit([encoder.finish()]);
  }

  /**
   * Forward pass and loss for a plan's current batch, accumulated into the evaluation stats; the
   * probabilities and predicted classes land in the plan's buffers, and the predictions are also
   * copied to `predictionsTo` when given.
   */
  submitEval(
    plan: StepPlan,
    inputOps: readonly GpuOp[] = [],
    predictionsTo?: { buffer: GPUBuffer; offset: number },
  ): void {
    this.assertAlive();
    const encoder = this.ctx.device.createCommandEncoder({ label: `${this.label}.eval` });
    const pass = encoder.beginComputePass({ label: `${this.label}.eval` });
    for (const op of inputOps) op.encode(pass);
    for (const op of plan.forward) op.encode(pass);
    for (const op of plan.loss) op.encode(pass);
    plan.evalMetrics.encode(pass);
    plan.probabilities.encode(pass);
    plan.predict.encode(pass);
    pass.end();
    if (predictionsTo) {
      encoder.copyBufferToBuffer(plan.predictions, 0, predictionsTo.buffer, predictionsTo.offset, plan.batch * 4);
    }
    this.ctx.device.queue.submit([encoder.finish()]);
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
    const raw = decodeStats(await this.ctx.read(buffer));
    if (reset) resetStats(this.ctx, buffer);
    const outputs = this.spec.head === 'sigmoid' ? this.spec.layers[this.spec.layers.length - 1] : 1;
    return {
      meanLoss: raw.count ? raw.lossSum / raw.count : Number.NaN,
      accuracy: raw.count ? raw.correct / (raw.count * outputs) : Number.NaN,
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

  /** Reads the optimizer state buffers (flat layout each) and the step count. */
  async readOptimizerState(): Promise<{ step: number; buffers: Float32Array[] }> {
    const buffers = await Promise.all(this.state.map((b) => this.ctx.readF32(b)));
    return { step: this.stepCount, buffers };
  }

  /** Restores what readOptimizerState returned. */
  writeOptimizerState(saved: { step: number; buffers: Float32Array[] }): void {
    if (saved.buffers.length !== this.state.length) {
      throw new Error(
        `optimizer state has ${saved.buffers.length} buffers, the ${this.optimizer.kind} optimizer needs ${this.state.length}`,
      );
    }
    saved.buffers.forEach((data, i) => {
      this.ctx.device.queue.writeBuffer(this.state[i], 0, data.buffer, data.byteOffset, data.byteLength);
    });
    this.stepCount = saved.step;
  }

  /**
   * Class probabilities (softmax head) or output probabilities (sigmoid head) for inputs x: [rows, D],
   * computed on the GPU in chunks of at most `chunk` rows. Returns [rows, C].
   */
  async predict(x: Float32Array, chunk = 1024): Promise<Float32Array> {
    this.assertAlive();
    const D = this.spec.layers[0];
    const C = this.spec.layers[this.spec.layers.length - 1];
    const rows = inferRows(x, D);
    checkFinite('x', x, D);
    const out = new Float32Array(rows * C);
    const kind: TargetKind = this.spec.head === 'softmax' ? 'labels' : 'dense';
    for (let start = 0; start < rows; start += chunk) {
      const n = Math.min(chunk, rows - start);
      const plan = await this.plan(n, kind);
      const xs = x.subarray(start * D, (start + n) * D);
      this.ctx.device.queue.writeBuffer(plan.x, 0, xs.buffer as ArrayBuffer, xs.byteOffset, xs.byteLength);
      const encoder = this.ctx.device.createCommandEncoder({ label: `${this.label}.predict` });
      const pass = encoder.beginComputePass({ label: `${this.label}.predict` });
      for (const op of plan.forward) op.encode(pass);
      plan.probabilities.encode(pass);
      pass.end();
      this.ctx.device.queue.submit([encoder.finish()]);
      out.set(await this.ctx.readF32(plan.probs, 0, n * C), start * C);
    }
    return out;
  }

  /**
   * Loss, accuracy, confusion matrix (softmax head) and predicted classes for inputs x: [rows, D]
   * and their targets, on the GPU in chunks of at most `chunk` rows.
   */
  async evaluate(x: Float32Array, targets: Targets, chunk = 1024): Promise<Evaluation> {
    this.assertAlive();
    const D = this.spec.layers[0];
    const C = this.spec.layers[this.spec.layers.length - 1];
    const rows = inferRows(x, D);
    checkBatch(this.spec, x, targets, rows);
    checkFinite('x', x, D);
    const kind = this.targetKindOf(targets);
    const predictions = this.ctx.createBuffer(
      `${this.label}.evaluate.predictions`,
      rows * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
    );
    try {
      this.resetEvalStats();
      for (let start = 0; start < rows; start += chunk) {
        const n = Math.min(chunk, rows - start);
        const plan = await this.plan(n, kind);
        const t: Targets =
          targets.kind === 'labels'
            ? { kind: 'labels', labels: targets.labels.subarray(start, start + n) }
            : { kind: 'dense', values: targets.values.subarray(start * C, (start + n) * C) };
        this.uploadBatch(plan, x.subarray(start * D, (start + n) * D), t);
        this.submitEval(plan, [], { buffer: predictions, offset: start * 4 });
      }
      const stats = await this.readEvalStats();
      const predicted = new Uint32Array(await this.ctx.read(predictions));
      const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
      if (targets.kind === 'labels') {
        for (let i = 0; i < rows; i++) confusion[targets.labels[i]][predicted[i]]++;
      }
      return { loss: stats.meanLoss, accuracy: stats.accuracy, confusion, predictions: predicted };
    } finally {
      this.ctx.releaseBuffer(predictions);
    }
  }

  /** Everything needed to continue training elsewhere: parameters, optimizer state and step (read back to the CPU). */
  async checkpoint(): Promise<Checkpoint> {
    this.assertAlive();
    const [params, state] = await Promise.all([this.readParams(), this.readOptimizerState()]);
    return { spec: this.spec, optimizer: this.optimizerConfig, params, state: state.buffers, step: state.step };
  }

  /** Puts a checkpoint of this architecture back (parameters, optimizer and its state). */
  async restore(cp: Checkpoint): Promise<void> {
    if (JSON.stringify(cp.spec) !== JSON.stringify(this.spec)) {
      throw new Error(
        `checkpoint is for layers [${cp.spec.layers.join(', ')}], this model has [${this.spec.layers.join(', ')}]`,
      );
    }
    await this.setOptimizer(cp.optimizer);
    this.writeParams(cp.params);
    this.writeOptimizerState({ step: cp.step, buffers: cp.state });
  }

  /** A new model (on a new device or context, e.g. after a device loss) from a checkpoint. */
  static async fromCheckpoint(
    cp: Checkpoint,
    options: Pick<ModelOptions, 'device' | 'context' | 'label'> = {},
  ): Promise<Model> {
    const model = await Model.create({
      ...options,
      layers: cp.spec.layers,
      activation: cp.spec.activations,
      head: cp.spec.head,
      optimizer: cp.optimizer,
    });
    await model.restore(cp);
    return model;
  }

  /** The model as a safetensors file (architecture in the metadata; weights as torch.nn.Linear [out, in]). */
  async save(metadata: Record<string, string> = {}): Promise<Uint8Array> {
    return encodeModel(this.spec, await this.readParams(), metadata);
  }

  /** Loads a model saved by `save()` (or `npm run train`). Bad files give errors that say what is wrong. */
  static async load(
    bytes: Uint8Array,
    options: Omit<ModelOptions, 'layers' | 'activation' | 'head' | 'seed'> = {},
  ): Promise<Model> {
    const file = decodeModel(bytes, 'model file');
    const model = await Model.create({
      ...options,
      layers: file.spec.layers,
      activation: file.spec.activations,
      head: file.spec.head,
    });
    model.writeParams(file.params);
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
    const plans = await Promise.allSettled(this.plans.values());
    for (const p of plans) if (p.status === 'fulfilled') p.value.destroy();
    this.plans.clear();
    this.updateScope?.destroy();
    for (const b of [this.params, this.grads, this.trainStats, this.evalStats, ...this.state])
      this.ctx.releaseBuffer(b);
    if (this.ownsContext) this.ctx.destroy();
  }
}

/** Rows in a batch of inputs x: [rows, D]. */
function inferRows(x: Float32Array, D: number): number {
  if (x.length % D !== 0 || x.length === 0) {
    throw new Error(
      `x has ${x.length} values, expected a positive multiple of the input width ${D} (x is [rows, ${D}])`,
    );
  }
  return x.length / D;
}

/** Throws on the first NaN or ±Infinity, naming its row and column. */
export function checkFinite(name: string, values: Float32Array, cols = 1): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`${name}[${Math.floor(i / cols)}, ${i % cols}] = ${values[i]}: inputs must be finite numbers`);
    }
  }
}

/** Checks a batch's shapes and label range before any GPU work. */
export function checkBatch(spec: MlpSpec, x: Float32Array, targets: Targets, rows: number): void {
  const D = spec.layers[0];
  const C = spec.layers[spec.layers.length - 1];
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`batch size = ${rows} is invalid: expected an integer ≥ 1`);
  if (x.length !== rows * D)
    throw new Error(`x has ${x.length} values, expected rows × D = ${rows} × ${D} = ${rows * D}`);
  if (targets.kind === 'labels') {
    const { labels } = targets;
    if (labels.length !== rows) throw new Error(`labels has ${labels.length} entries, expected one per row (${rows})`);
    for (let i = 0; i < rows; i++) {
      if (labels[i] >= C) throw new Error(`labels[${i}] = ${labels[i]} is outside 0..${C - 1}`);
    }
  } else if (targets.values.length !== rows * C) {
    throw new Error(`targets has ${targets.values.length} values, expected rows × C = ${rows} × ${C} = ${rows * C}`);
  }
}
