/**
 * StepPlan: every buffer, bind group and dispatch of a training step for one batch size, made
 * once and reused. Encoding a step allocates nothing and reads nothing back.
 *
 * The data path (seeds 002, 004), written once by looping over the layers (src/model/dense.ts) and
 * the head (src/model/heads/):
 *   forward    A_{l+1} = act_l(A_l·W_l + b_l)              a ForwardPlan (src/infer/plan.ts), Z kept where needed
 *   loss       dZ_{L−1} = ∂L/∂Z, loss rows, correct rows    the head's fused kernel, e.g. (softmax(Z) − Y)/B
 *                                                           (a weighted plan: each row's times its weight w_r)
 *   backward   for l = L−1 … 0: dW_l, db_l, dZ_{l−1}        each layer's backward, last layer first
 *              dX = dZ_0·W_0ᵀ                               only for saliency (seed 004)
 *   update     W −= lr·f(dW)                                one optimizer dispatch over all parameters (Model)
 */
import type { GpuContext } from '../gpu/context.js';
import { type PlanModel as ForwardModel, ForwardPlan, prepareAll } from '../infer/plan.js';
import { prepareArgmax } from '../kernels/argmax.js';
import { prepareMetrics } from '../kernels/metrics.js';
import type { GpuOp } from '../kernels/op.js';
import { denseBackward, denseLayers, derivativeInput } from '../model/dense.js';
import { headOf } from '../model/heads/index.js';
import { type ParamLayout, slotBinding } from '../model/layout.js';
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
  /** The forward pass and the head's outputs; its scope owns this plan's buffers too. */
  readonly forwardPlan: ForwardPlan;
  /** Labels u32 [B] (targetKind 'labels') or dense targets f32 [B, C]. */
  readonly targets: GPUBuffer;
  /** The rows' loss weights f32 [B], when weighted. */
  readonly weights: GPUBuffer | undefined;
  /** dZ_l for every layer: [B, n_{l+1}]. */
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
    this.forwardPlan = new ForwardPlan(model, this.batch, true);
    const f = this.forwardPlan;
    const B = this.batch;
    const C = spec.layers[spec.layers.length - 1];
    const name = `${model.label}.B${B}`;
    try {
      this.targets = f.storage(`${name}.targets`, (this.targetKind === 'labels' ? B : B * C) * 4);
      this.weights = this.weighted ? f.storage(`${name}.weights`, B * 4) : undefined;
      this.dz = denseLayers(spec).map((layer) => f.storage(`${name}.layers.${layer.index}.dZ`, B * layer.fanOut * 4));
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

  /** X: [B, D]. */
  get x(): GPUBuffer {
    return this.forwardPlan.x;
  }

  /** A_1 … A_{L−1} (hidden activations), then the logits Z_{L−1}: [B, n_{l+1}] each. */
  get outputs(): GPUBuffer[] {
    return this.forwardPlan.outputs;
  }

  /** Z of each layer that keeps it (activations whose derivative reads their input), else undefined. */
  get pre(): (GPUBuffer | undefined)[] {
    return this.forwardPlan.pre;
  }

  /** The head's outputs, what `predict` returns (probabilities, or the logits themselves): [B, C]. */
  get probs(): GPUBuffer {
    return this.forwardPlan.probs;
  }

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
    const { ctx, spec, layout, params, grads } = this.model;
    const scope = this.forwardPlan.scope;
    const B = this.batch;
    const layers = denseLayers(spec);
    const L = layers.length;
    const C = spec.layers[L];
    const name = `${this.model.label}.B${B}`;
    const head = headOf(spec);
    // The tuner (loaded only when asked for) picks each matmul's kernel: L forward, L dW, L − 1 dZ (+ dX).
    const tune = this.model.tune;
    const tuner = tune
      ? await (await import('../tune/tuner.js')).MatmulTuner.create(ctx, {
          mode: tune,
          problems: 3 * L - 1 + (this.dx ? 1 : 0),
        })
      : undefined;
    const choose = tuner?.choose;

    // forward: A_{l+1} = act_l(A_l·W_l + b_l), and the head's outputs. Without a tuner, everything
    // below is prepared at once, so that the pipelines compile side by side (prepareAll).
    const parallel = choose === undefined;
    const forward = this.forwardPlan.prepare(choose);
    forward.catch(() => {}); // awaited below, after the rest has settled
    if (!parallel) await forward;

    // the head: loss and the output gradient dZ_{L−1} = ∂L/∂Z, fused
    const logits = this.outputs[L - 1];
    if (!head.definition.targets.includes(this.targetKind)) {
      throw new Error(
        `the ${head.definition.name} head takes ${head.definition.targets.join(' or ')} targets, not ${this.targetKind}`,
      );
    }
    const loss = () =>
      head.definition.prepareLoss(
        ctx,
        scope,
        {
          logits,
          rows: B,
          cols: C,
          batchSize: B,
          targets: this.targets,
          targetKind: this.targetKind,
          gradLogits: this.dz[L - 1],
          lossRows: this.lossRows,
          correctRows: this.correctRows,
          weights: this.weights,
        },
        head.params,
        `${name}.${head.definition.name}.loss`,
      );
    const predict =
      head.definition.prediction === 'class'
        ? [() => prepareArgmax(ctx, scope, { logits, rows: B, cols: C, out: this.predictions }, `${name}.argmax`)]
        : [];
    const metrics = { lossRows: this.lossRows, correctRows: this.correctRows, rows: B, batchSize: B };
    const trainMetrics = () =>
      prepareMetrics(ctx, scope, { ...metrics, stats: this.model.trainStats }, `${name}.metrics`);
    const evalMetrics = () =>
      prepareMetrics(ctx, scope, { ...metrics, stats: this.model.evalStats }, `${name}.eval_metrics`);

    // backward, last layer first
    const weight = (l: number) => slotBinding(params, layout.weights[l]);
    const backward = layers
      .map((layer, l) => () => {
        const previous = layers[l - 1];
        return denseBackward(
          ctx,
          scope,
          layer,
          B,
          {
            input: this.forwardPlan.input(l),
            weight: weight(l),
            grad: this.dz[l],
            weightGrad: slotBinding(grads, layout.weights[l]),
            biasGrad: slotBinding(grads, layout.biases[l]),
            inputGrad: l > 0 ? this.dz[l - 1] : this.dx,
            previous: previous && {
              layer: previous,
              values: derivativeInput(previous, this.outputs[l - 1], this.pre[l - 1]),
            },
          },
          `${name}.layers.${l}`,
          choose,
        );
      })
      .reverse();
    const [[lossOp], argmax, [train, evaluation], backwardOps] = await prepareAll<GpuOp | GpuOp[]>(
      [[loss], predict, [trainMetrics, evalMetrics], backward],
      parallel,
    );
    await forward;
    this.loss.push(lossOp as GpuOp);
    this.predict.push(...(argmax as GpuOp[]));
    this.trainMetrics = train as GpuOp;
    this.evalMetrics = evaluation as GpuOp;
    for (const ops of backwardOps as GpuOp[][]) this.backward.push(...ops);
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
