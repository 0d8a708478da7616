/**
 * ForwardPlan: the buffers and dispatches of a forward pass for one batch size — the network's layers
 * in order (the walker's list, src/model/layers/network.ts), then the head's outputs (softmax, σ, or
 * the logits themselves) — made once and reused. Inference uses it alone, with each layer's
 * evaluation forward (no dropout; BatchNorm's running statistics). A training step (src/train/plan.ts)
 * builds on one made with its layers' training forward (`TrainingForward`), which keeps what the
 * backward needs; such a plan has both passes, sharing every dispatch that is the same in both.
 *
 *   X ← X·s_in + t_in          a network with preprocessing: its inputs scaled per column, in place (docs/maths.md §11)
 *   A_{i+1} = layer_i(A_i)     i = 0 … n−1 (dense: act(A·W + b), one fused matmul; norms; dropout); A_0 = X
 *   P = outputs(A_n)           the head's outputs from the logits: [B, C]
 *   P = A_n·s_out + t_out      prediction plans of a regression network with preprocessing: unscaled, in place
 */
import { DeviceLimitError, formatBytes, type GpuContext } from '../gpu/context.js';
import type { MatmulChooser } from '../kernels/matmul.js';
import { type GpuOp, OpScope } from '../kernels/op.js';
import { resolveHeadOutputs } from '../model/heads/outputs.js';
import type { Layer, LayerForwardArgs } from '../model/layers/definition.js';
import { networkLayers, shapeOf } from '../model/layers/network.js';
import { layerBindings, type ParamLayout } from '../model/layout.js';
import type { MlpSpec } from '../model/spec.js';

/** What a plan needs from the network it runs. */
export interface PlanModel {
  readonly ctx: GpuContext;
  readonly spec: MlpSpec;
  readonly layout: ParamLayout;
  /** The parameters, flat (see ParamLayout). */
  readonly params: GPUBuffer;
  /** The running statistics, flat (ParamLayout.running), when the network has any (BatchNorm). */
  readonly running?: GPUBuffer;
  readonly label: string;
  /**
   * The network's preprocessing on the GPU, when it has one (src/table/preprocessing.ts): `input`, the
   * scale then shift of each input, f32 [2, D], applied before the first layer by every plan; `output`,
   * those of each output, f32 [2, C], applied to a regression head's outputs by prediction plans.
   */
  readonly transform?: { readonly input?: GPUBuffer; readonly output?: GPUBuffer };
}

/** A layer's training forward and what it keeps (its definition's: src/model/layers/), for step plans. */
export interface TrainingForward {
  forward(layer: Layer, args: LayerForwardArgs): Promise<GpuOp[]>;
  /** Floats it keeps for the backward, by name. */
  saved(layer: Layer, batch: number): Readonly<Record<string, number>>;
  /** u32 [seed, step]: the model's random stream (dropout). */
  random?: GPUBuffer;
}

type Limits = Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>;

/** The most rows a plan of this network can have: its widest activation must fit one storage binding. */
export function maxPlanRows(spec: MlpSpec, limits: Limits): number {
  const widest = Math.max(...spec.layers);
  return Math.floor(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize) / (4 * widest));
}

/** Throws a DeviceLimitError, saying what fits, unless a plan of `batch` rows fits the device's limits. */
export function checkPlanFits(spec: MlpSpec, limits: Limits, batch: number): void {
  const maxRows = maxPlanRows(spec, limits);
  const widest = Math.max(...spec.layers);
  if (maxRows < 1) {
    throw new DeviceLimitError(
      `layers [${spec.layers.join(', ')}]: a width of ${widest} is too large for this device (one row needs ${formatBytes(4 * widest)})`,
    );
  }
  if (batch > maxRows) {
    throw new DeviceLimitError(
      `batch size ${batch} is too large for this device: a [${batch}, ${widest}] activation of layers [${spec.layers.join(', ')}] needs ${formatBytes(batch * widest * 4)}, over what one buffer may bind (${formatBytes(Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize))}); use at most ${maxRows} rows per batch`,
    );
  }
}

export class ForwardPlan {
  readonly batch: number;
  /** X: [B, D] (a network with an input transform scales it in place before the first layer). */
  readonly x: GPUBuffer;
  /** The layers, in order (the walker's list). */
  readonly layers: readonly Layer[];
  /**
   * Each layer's output: [B, fanOut]; the last is the logits. In an evaluation-only plan a dropout layer
   * has none of its own: its output is its input.
   */
  readonly outputs: GPUBuffer[];
  /** Each layer's output before its activation when it keeps it (training, act' reads its input), else undefined. */
  readonly pre: (GPUBuffer | undefined)[];
  /** What each layer's training forward keeps for its backward (a norm's statistics), by name. */
  readonly saved: Record<string, GPUBuffer>[];
  /** The head's outputs, what `predict` returns (probabilities, or the logits themselves): [B, C]. */
  readonly probs: GPUBuffer;
  /** The forward pass: training's in a step plan, else evaluation's. */
  forward: GpuOp[] = [];
  /** The evaluation forward (evaluation, validation, predict): `forward` itself where the two are the same. */
  evalForward: GpuOp[] = [];
  /** The head's outputs into `probs`; empty when they are the logits. */
  probabilities: GpuOp[] = [];
  /** Owns every buffer and uniform of the plan (a training step's own too: see StepPlan). */
  readonly scope: OpScope;

  constructor(
    private readonly model: PlanModel,
    batch: number,
    /** The layers' training forward (a step plan): keep what the backward needs. */
    private readonly training?: TrainingForward,
  ) {
    const { spec } = model;
    checkPlanFits(spec, model.ctx.device.limits, batch);
    this.batch = batch;
    this.scope = new OpScope(model.ctx);
    const name = `${model.label}.B${batch}`;
    try {
      this.x = this.storage(`${name}.x`, batch * spec.layers[0] * 4);
      this.layers = networkLayers(spec);
      this.outputs = [];
      this.pre = [];
      this.saved = [];
      for (const layer of this.layers) {
        const last = layer.index === this.layers.length - 1;
        const own = training || shapeOf(layer).evaluation !== 'identity';
        const what = last ? 'logits' : layerName(layer);
        const rows = batch * layer.fanOut * 4;
        this.outputs.push(own ? this.storage(`${name}.${what}`, rows) : this.input(layer.index));
        const keep = training && layer.keepsPreActivation;
        this.pre.push(keep ? this.storage(`${name}.${layerName(layer, 'Z')}`, rows) : undefined);
        const saved = training?.saved(layer, batch) ?? {};
        this.saved.push(
          Object.fromEntries(
            Object.entries(saved).map(([k, floats]) => [k, this.storage(`${name}.${layerName(layer, k)}`, floats * 4)]),
          ),
        );
      }
      const hasOutputs = resolveHeadOutputs(spec.head).outputs.prepareOutputs !== undefined;
      const C = spec.layers[spec.layers.length - 1];
      this.probs = hasOutputs ? this.storage(`${name}.probs`, batch * C * 4) : (this.outputs.at(-1) as GPUBuffer);
    } catch (error) {
      this.scope.destroy();
      throw error;
    }
  }

  /** A storage buffer of this plan. */
  storage(label: string, size: number): GPUBuffer {
    return this.scope.storage(label, size);
  }

  /** Bytes of every buffer this plan made, uniforms included (see planCost). */
  get bytes(): number {
    return this.scope.bytes;
  }

  /** How many buffers this plan made, uniforms included (see planCost). */
  get buffers(): number {
    return this.scope.count;
  }

  /** The logits: the last layer's output [B, C]. */
  get logits(): GPUBuffer {
    return this.outputs.at(-1) as GPUBuffer;
  }

  /** Input of layer i: X for the first layer, the previous layer's output after. */
  input(i: number): GPUBuffer {
    return i === 0 ? this.x : (this.outputs[i - 1] as GPUBuffer);
  }

  /** Input of layer i in evaluation: past a dropout layer, what that layer was given. */
  evalInput(i: number): GPUBuffer {
    let j = i - 1;
    while (j >= 0 && shapeOf(this.layers[j] as Layer).evaluation === 'identity') j--;
    return j < 0 ? this.x : (this.outputs[j] as GPUBuffer);
  }

  /** What a layer's forward is given in this plan (its input depends on the mode). */
  private forwardArgs(layer: Layer, mode: 'train' | 'eval', choose?: MatmulChooser): LayerForwardArgs {
    const { ctx, layout, params, running } = this.model;
    const i = layer.index;
    const train = mode === 'train';
    return {
      ctx,
      scope: this.scope,
      layer,
      batch: this.batch,
      input: train ? this.input(i) : this.evalInput(i),
      output: this.outputs[i] as GPUBuffer,
      pre: train ? this.pre[i] : undefined,
      tensors: layerBindings(params, layout.tensors, i),
      running: layerBindings(running, layout.running.tensors, i),
      saved: train ? (this.saved[i] as Record<string, GPUBuffer>) : {},
      random: train ? this.training?.random : undefined,
      label: `${this.model.label}.B${this.batch}.${layerName(layer, train ? 'forward' : 'eval')}`,
      choose,
    };
  }

  /**
   * Prepares the forward dispatches and the head's outputs; `choose` (a step plan's tuner) picks the
   * matmul kernels. Without a tuner every dispatch is prepared at once, so that their pipelines compile
   * in parallel (the tuner times kernels, one problem at a time). A step plan also gets the evaluation
   * forward, prepared apart only for the layers where it differs from training's (dropout, BatchNorm,
   * and a layer whose evaluation input differs, past a dropout). A prediction plan (`predicts`) also
   * unscales a regression network's outputs.
   */
  async prepare(choose?: MatmulChooser, predicts?: boolean): Promise<void> {
    const { ctx, spec, transform } = this.model;
    const name = `${this.model.label}.B${this.batch}`;
    const training = this.training;
    // forward: A_{i+1} = layer_i(A_i)
    const forward = this.layers.map((layer) =>
      training
        ? () => training.forward(layer, this.forwardArgs(layer, 'train', choose))
        : () => this.evaluation(layer, choose),
    );
    const separate = training ? this.layers.filter((layer) => this.evaluationDiffers(layer)) : [];
    const evaluation = separate.map((layer) => () => this.evaluation(layer));
    const head = resolveHeadOutputs(spec.head).outputs;
    const outputs = head.prepareOutputs?.bind(head);
    const probabilities = outputs
      ? [
          () => {
            const C = spec.layers[spec.layers.length - 1];
            return outputs(
              ctx,
              this.scope,
              { logits: this.logits, rows: this.batch, cols: C, out: this.probs },
              `${name}.${head.name}.outputs`,
            ).then((op) => [op]);
          },
        ]
      : [];
    const [f, e, p] = await prepareAll([forward, evaluation, probabilities], choose === undefined);
    this.forward.push(...(f as GpuOp[][]).flat());
    this.probabilities.push(...(p as GpuOp[][]).flat());
    const own = new Map(separate.map((layer, k) => [layer.index, (e as GpuOp[][])[k] as GpuOp[]]));
    this.evalForward = training
      ? this.layers.flatMap((layer, i) => own.get(layer.index) ?? ((f as GpuOp[][])[i] as GpuOp[]))
      : this.forward;
    // A network with preprocessing: its transforms, from a chunk loaded only then (webgpu-mlp/infer stays
    // small); the input's goes first into both forward passes.
    if (transform) {
      await (await import('../kernels/affine.js')).addTransforms(ctx, this, transform, predicts, name);
      if (this.evalForward !== this.forward && this.forward[0]) this.evalForward.unshift(this.forward[0]);
    }
  }

  /** A layer's evaluation forward (none for an identity layer). */
  private evaluation(layer: Layer, choose?: MatmulChooser): Promise<GpuOp[]> {
    const shape = shapeOf(layer);
    if (shape.evaluation === 'identity') return Promise.resolve([]);
    return shape.evalForward(this.forwardArgs(layer, 'eval', choose));
  }

  /** Whether a step plan prepares a layer's evaluation forward apart from its training forward. */
  private evaluationDiffers(layer: Layer): boolean {
    const shape = shapeOf(layer);
    return shape.evaluation !== 'same' || this.evalInput(layer.index) !== this.input(layer.index);
  }

  /** A prediction plan ready to encode, its buffers freed if making it fails (out of memory included). */
  static async create(model: PlanModel, batch: number): Promise<ForwardPlan> {
    return ForwardPlan.made(
      model,
      batch,
      () => new ForwardPlan(model, batch),
      (p) => p.prepare(undefined, true),
    );
  }

  /**
   * Makes a plan's buffers inside an out-of-memory error scope (GpuContext.allocating: an allocation the
   * device could not make is raised), then prepares its dispatches; the plan is destroyed on any failure.
   */
  static async made<P extends { destroy(): void }>(
    model: PlanModel,
    batch: number,
    make: () => P,
    prepare: (plan: P) => Promise<void>,
  ): Promise<P> {
    const plan = await model.ctx.allocating(
      `the buffers of batch size ${batch}`,
      make,
      (made) => made.destroy(),
      'use a smaller batch size or a smaller network',
    );
    try {
      await prepare(plan);
    } catch (error) {
      plan.destroy();
      throw error;
    }
    return plan;
  }

  /** Encodes the evaluation forward pass and the head's outputs (prediction). */
  encode(pass: GPUComputePassEncoder): void {
    for (const op of this.evalForward) op.encode(pass);
    for (const op of this.probabilities) op.encode(pass);
  }

  destroy(): void {
    this.scope.destroy();
  }
}

/**
 * A layer's name in labels: `layers.{block}.activation` for a dense layer's output (`…Z` before its
 * activation), `layers.{block}.norm`, `layers.{block}.dropout`, and `…{what}` for its other buffers.
 */
export function layerName(layer: Layer, what?: string): string {
  const base = `layers.${layer.block}`;
  const part = layer.kind === 'dense' ? '' : layer.kind === 'dropout' ? '.dropout' : '.norm';
  return what === undefined ? `${base}${part || '.activation'}` : `${base}${part}.${what}`;
}

/**
 * Runs groups of preparations (each a function returning a prepared op or ops) and returns their results
 * group by group, in order: all at once when `parallel` (their pipelines compile side by side), else one
 * after the other (a tuner measuring kernels must not share the device with compilations).
 */
export async function prepareAll<T>(
  groups: readonly (readonly (() => Promise<T>)[])[],
  parallel: boolean,
): Promise<T[][]> {
  // Every preparation settles before a failure is thrown: none is left making buffers in a plan that
  // its caller is about to destroy.
  if (parallel) return settleAll(groups.map((group) => settleAll(group.map((make) => make()))));
  const results: T[][] = [];
  for (const group of groups) {
    const done: T[] = [];
    for (const make of group) done.push(await make());
    results.push(done);
  }
  return results;
}

/** Promise.all that waits for every promise to settle before rejecting with the first failure. */
export async function settleAll<T>(promises: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}
