/**
 * One training step, read top to bottom (after llm.c's gpt2_forward / gpt2_backward / gpt2_update):
 * `StepPlan.encodeStep` is the step, `prepare` makes its dispatches once per batch size — every buffer,
 * bind group and dispatch — so that encoding a step allocates nothing and reads nothing back.
 *
 * The data path (seeds 002, 004), one walk over the network's list of layers (src/model/layers/:
 * dense, LayerNorm, BatchNorm1d, dropout) and the head (src/model/heads/):
 *   forward    A_{i+1} = layer_i(A_i), i = 0 … n−1       each layer's training forward (a ForwardPlan,
 *                                                        src/infer/plan.ts), keeping what its backward needs
 *   loss       dZ_{n−1} = ∂L/∂Z, loss rows, correct rows  the head's fused kernel, e.g. (softmax(Z) − Y)/B
 *                                                        (a weighted plan: each row's times its weight w_r)
 *   backward   for i = n−1 … 0: ∂L/∂tensors_i,           each layer's backward, last layer first; it writes
 *              dZ_{i−1} = its input gradient ⊙ act'_{i−1} the gradient of the layer below, that layer's act' fused
 *              dX = the first layer's input gradient      only for saliency (seed 004)
 *   update     θ −= lr·f(∂L/∂θ)                           one optimizer dispatch over all parameters (Model)
 *   advance    the random stream's step += 1             networks with dropout: the next step's masks
 * Evaluation (`encodeEval`) is the evaluation forward (no dropout; BatchNorm's running statistics) and the loss.
 */
import type { GpuContext } from '../gpu/context.js';
import { type PlanModel as ForwardModel, ForwardPlan, layerName, prepareAll } from '../infer/plan.js';
import { prepareArgmax } from '../kernels/argmax.js';
import { prepareMetrics } from '../kernels/metrics.js';
import type { GpuOp } from '../kernels/op.js';
import { headOf } from '../model/heads/index.js';
import { definitionOf, derivativeInput, type Layer, usesRandom } from '../model/layers/index.js';
import { layerBindings, type ParamLayout } from '../model/layout.js';
import type { MlpSpec, TargetKind } from '../model/spec.js';
import type { TuneMode, TuneReport } from '../tune/tuner.js';

export type { TargetKind };

/** What a plan needs from its model. */
export interface PlanModel extends ForwardModel {
  readonly ctx: GpuContext;
  readonly spec: MlpSpec;
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly trainStats: GPUBuffer;
  readonly evalStats: GPUBuffer;
  /** u32 [seed, step]: the random stream of a network with dropout. */
  readonly random?: GPUBuffer;
  readonly label: string;
  /** Whether plans made from now on tune their matmuls (ModelOptions.tune). */
  readonly tune: TuneMode;
}

export interface PlanOptions {
  batch: number;
  targetKind: TargetKind;
  /** Also compute dX = ∂L/∂X (saliency). */
  inputGrad?: boolean;
  /**
   * Weigh each row's loss and dZ by its weight (`weights`, gathered with the batch; fit's sampleWeights
   * and classWeights): the head's kernel in its WEIGHTED form. Unweighted plans run the plain kernel.
   */
  weighted?: boolean;
}

export class StepPlan {
  readonly batch: number;
  readonly targetKind: TargetKind;
  readonly inputGrad: boolean;
  readonly weighted: boolean;
  /** The forward passes (training's and evaluation's) and the head's outputs; its scope owns this plan's buffers too. */
  readonly forwardPlan: ForwardPlan;
  /** Labels u32 [B] (targetKind 'labels') or dense targets f32 [B, C]. */
  readonly targets: GPUBuffer;
  /** The rows' loss weights f32 [B], when weighted. */
  readonly weights: GPUBuffer | undefined;
  /** dZ of every layer (∂L/∂ its output before its activation): [B, fanOut]. */
  readonly dz: GPUBuffer[];
  /** dX: [B, D] when inputGrad. */
  readonly dx: GPUBuffer | undefined;
  readonly lossRows: GPUBuffer;
  readonly correctRows: GPUBuffer;
  /** Predicted class per row (class heads): u32 [B]. */
  readonly predictions: GPUBuffer;
  /** What tuning chose for each matmul, when the model tunes (`tune`); undefined otherwise. */
  tuning: TuneReport | undefined;

  loss: GpuOp[] = [];
  backward: GpuOp[] = [];
  trainMetrics!: GpuOp;
  evalMetrics!: GpuOp;
  /** argmax of the logits into `predictions` (class heads); empty otherwise. */
  predict: GpuOp[] = [];
  /** The random stream's step += 1 after a training step (networks with dropout); empty otherwise. */
  advance: GpuOp[] = [];

  private readonly destroyListeners: (() => void)[] = [];

  private constructor(
    private readonly model: PlanModel,
    options: PlanOptions,
  ) {
    const { spec } = model;
    this.batch = options.batch;
    this.targetKind = options.targetKind;
    this.inputGrad = options.inputGrad ?? false;
    this.weighted = options.weighted ?? false;
    this.forwardPlan = new ForwardPlan(model, this.batch, {
      forward: (layer, args) => definitionOf(layer).trainForward(args),
      saved: (layer, batch) => definitionOf(layer).saved(layer, batch),
      random: model.random,
    });
    const f = this.forwardPlan;
    const B = this.batch;
    const C = spec.layers[spec.layers.length - 1];
    const name = `${model.label}.B${B}`;
    try {
      this.targets = f.storage(`${name}.targets`, (this.targetKind === 'labels' ? B : B * C) * 4);
      this.weights = this.weighted ? f.storage(`${name}.weights`, B * 4) : undefined;
      this.dz = f.layers.map((layer) => f.storage(`${name}.${layerName(layer, 'dZ')}`, B * layer.fanOut * 4));
      this.dx = this.inputGrad ? f.storage(`${name}.dX`, B * spec.layers[0] * 4) : undefined;
      this.lossRows = f.storage(`${name}.lossRows`, B * 4);
      this.correctRows = f.storage(`${name}.correctRows`, B * 4);
      this.predictions = f.storage(`${name}.predictions`, B * 4);
    } catch (error) {
      f.destroy();
      throw error;
    }
  }

  static create(model: PlanModel, options: PlanOptions): Promise<StepPlan> {
    return ForwardPlan.made(
      model,
      options.batch,
      () => new StepPlan(model, options),
      (p) => p.prepare(),
    );
  }

  /**
   * One training step, in order: the batch's input ops (a gather), the forward pass, the head's loss and
   * dZ, the training statistics, the backward pass, the optimizer's update, and the random stream's step.
   */
  encodeStep(pass: GPUComputePassEncoder, inputOps: readonly GpuOp[], update: GpuOp): void {
    for (const op of inputOps) op.encode(pass);
    for (const op of this.forward) op.encode(pass); //   A_{i+1} = layer_i(A_i)
    for (const op of this.loss) op.encode(pass); //      dZ_{n−1} = ∂L/∂Z, loss rows
    this.trainMetrics.encode(pass); //                   loss and accuracy, accumulated on the GPU
    for (const op of this.backward) op.encode(pass); //  ∂L/∂θ, last layer first
    update.encode(pass); //                              θ −= lr·f(∂L/∂θ)
    for (const op of this.advance) op.encode(pass); //   the next step's dropout masks
  }

  /**
   * Evaluation of the batch: the evaluation forward, the loss into the evaluation statistics, the
   * head's outputs and the predicted classes.
   */
  encodeEval(pass: GPUComputePassEncoder, inputOps: readonly GpuOp[]): void {
    for (const op of inputOps) op.encode(pass);
    for (const op of this.forwardPlan.evalForward) op.encode(pass);
    for (const op of this.loss) op.encode(pass);
    this.evalMetrics.encode(pass);
    for (const op of this.probabilities) op.encode(pass);
    for (const op of this.predict) op.encode(pass);
  }

  /** X: [B, D]. */
  get x(): GPUBuffer {
    return this.forwardPlan.x;
  }

  /** The layers' outputs, in order; the last is the logits: [B, fanOut] each. */
  get outputs(): GPUBuffer[] {
    return this.forwardPlan.outputs;
  }

  /** The logits: [B, C]. */
  get logits(): GPUBuffer {
    return this.forwardPlan.logits;
  }

  /** Each layer's output before its activation when it keeps it (act' reads its input), else undefined. */
  get pre(): (GPUBuffer | undefined)[] {
    return this.forwardPlan.pre;
  }

  /** The head's outputs, what `predict` returns (probabilities, or the logits themselves): [B, C]. */
  get probs(): GPUBuffer {
    return this.forwardPlan.probs;
  }

  /** The training forward pass. */
  get forward(): GpuOp[] {
    return this.forwardPlan.forward;
  }

  /** The head's outputs into `probs`; empty when they are the logits. */
  get probabilities(): GpuOp[] {
    return this.forwardPlan.probabilities;
  }

  /** Bytes of the buffers this plan made (see PlanCache). */
  get bytes(): number {
    return this.forwardPlan.bytes;
  }

  /** How many buffers this plan made (see planCost). */
  get buffers(): number {
    return this.forwardPlan.buffers;
  }

  private async prepare(): Promise<void> {
    const { ctx, spec, layout, params, grads, running } = this.model;
    const f = this.forwardPlan;
    const scope = f.scope;
    const B = this.batch;
    const layers = f.layers;
    const C = spec.layers[spec.layers.length - 1];
    const name = `${this.model.label}.B${B}`;
    const head = headOf(spec);
    // The tuner (loaded only when asked for) picks each matmul's kernel: L forward, L dW, L − 1 dZ (+ dX),
    // L the dense layers.
    const tune = this.model.tune;
    const L = spec.layers.length - 1;
    const tuner = tune
      ? await (await import('../tune/tuner.js')).MatmulTuner.create(ctx, {
          mode: tune,
          problems: 3 * L - 1 + (this.dx ? 1 : 0),
        })
      : undefined;
    const choose = tuner?.choose;

    // forward: A_{i+1} = layer_i(A_i), and the head's outputs. Without a tuner, everything below is
    // prepared at once, so that the pipelines compile side by side (prepareAll).
    const parallel = choose === undefined;
    const forward = f.prepare(choose);
    forward.catch(() => {}); // awaited below, after the rest has settled
    if (!parallel) await forward;

    // the head: loss and the output gradient dZ_{n−1} = ∂L/∂Z, fused
    const logits = f.logits;
    if (!head.definition.targets.includes(this.targetKind)) {
      throw new Error(
        `the ${head.definition.name} head takes ${head.definition.targets.join(' or ')} targets, not ${this.targetKind}`,
      );
    }
    const loss = () =>
      head.definition
        .prepareLoss(
          ctx,
          scope,
          {
            logits,
            rows: B,
            cols: C,
            batchSize: B,
            targets: this.targets,
            targetKind: this.targetKind,
            gradLogits: this.dz.at(-1) as GPUBuffer,
            lossRows: this.lossRows,
            correctRows: this.correctRows,
            weights: this.weights,
          },
          head.params,
          `${name}.${head.definition.name}.loss`,
        )
        .then((op) => [op]);
    const predict =
      head.definition.prediction === 'class'
        ? [
            () =>
              prepareArgmax(ctx, scope, { logits, rows: B, cols: C, out: this.predictions }, `${name}.argmax`).then(
                (op) => [op],
              ),
          ]
        : [];
    const metrics = { lossRows: this.lossRows, correctRows: this.correctRows, rows: B, batchSize: B };
    const trainMetrics = () =>
      prepareMetrics(ctx, scope, { ...metrics, stats: this.model.trainStats }, `${name}.metrics`).then((op) => [op]);
    const evalMetrics = () =>
      prepareMetrics(ctx, scope, { ...metrics, stats: this.model.evalStats }, `${name}.eval_metrics`).then((op) => [
        op,
      ]);

    // backward, last layer first: each layer's tensors' gradients and dZ of the layer below
    const backward = layers
      .map((layer) => () => {
        const i = layer.index;
        const below: Layer | undefined = layers[i - 1];
        return definitionOf(layer).backward({
          ctx,
          scope,
          layer,
          batch: B,
          input: f.input(i),
          output: f.outputs[i] as GPUBuffer,
          pre: f.pre[i],
          tensors: layerBindings(params, layout.tensors, i),
          running: layerBindings(running, layout.running.tensors, i),
          saved: f.saved[i] as Record<string, GPUBuffer>,
          random: this.model.random,
          grad: this.dz[i] as GPUBuffer,
          tensorGrads: layerBindings(grads, layout.tensors, i),
          inputGrad: i > 0 ? this.dz[i - 1] : this.dx,
          below: below && {
            activation: below.activation,
            values: derivativeInput(below, f.outputs[i - 1] as GPUBuffer, f.pre[i - 1]),
          },
          label: `${name}.${layerName(layer, 'backward')}`,
          choose,
        });
      })
      .reverse();
    // the random stream's step, once per training step (networks with dropout)
    const random = this.model.random;
    const advance =
      usesRandom(spec) && random
        ? [
            async () => [
              await (await import('../kernels/dropout.js')).prepareDropoutAdvance(
                ctx,
                scope,
                random,
                `${name}.random.advance`,
              ),
            ],
          ]
        : [];
    const [[lossOps], argmax, [train, evaluation], backwardOps, advanceOps] = await prepareAll<GpuOp[]>(
      [[loss], predict, [trainMetrics, evalMetrics], backward, advance],
      parallel,
    );
    await forward;
    this.loss.push(...(lossOps as GpuOp[]));
    this.predict.push(...argmax.flat());
    this.trainMetrics = (train as GpuOp[])[0] as GpuOp;
    this.evalMetrics = (evaluation as GpuOp[])[0] as GpuOp;
    this.backward.push(...backwardOps.flat());
    this.advance.push(...advanceOps.flat());
    this.tuning = await tuner?.finish();
  }

  /** Calls `listener` when this plan is destroyed (e.g. evicted from the model's plan cache). */
  onDestroy(listener: () => void): void {
    this.destroyListeners.push(listener);
  }

  destroy(): void {
    this.forwardPlan.destroy();
    for (const listener of this.destroyListeners.splice(0)) listener();
  }
}
