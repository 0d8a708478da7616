/**
 * StepPlan: every buffer, bind group and dispatch of a training step for one batch size, made
 * once and reused. Encoding a step allocates nothing and reads nothing back.
 *
 * The data path (seeds 002, 004), written once by looping over the layers (src/model/dense.ts) and
 * the head (src/model/heads/):
 *   forward    A_{l+1} = act_l(A_l·W_l + b_l)              each layer's forward, bias + activation fused
 *   loss       dZ_{L−1} = ∂L/∂Z, loss rows, correct rows    the head's fused kernel, e.g. (softmax(Z) − Y)/B
 *   backward   for l = L−1 … 0: dW_l, db_l, dZ_{l−1}        each layer's backward, last layer first
 *              dX = dZ_0·W_0ᵀ                               only for saliency (seed 004)
 *   update     W −= lr·f(dW)                                one optimizer dispatch over all parameters (Model)
 */
import type { GpuContext } from '../gpu/context.js';
import { prepareArgmax } from '../kernels/argmax.js';
import { prepareMetrics } from '../kernels/metrics.js';
import { type GpuOp, OpScope } from '../kernels/op.js';
import { denseBackward, denseForward, denseLayers, derivativeInput } from '../model/dense.js';
import { type ParamLayout, slotBinding } from '../model/layout.js';
import { headOf, type MlpSpec, type TargetKind } from '../model/spec.js';
import type { TuneMode, TuneReport } from '../tune/tuner.js';

export type { TargetKind };

/** What a plan needs from its model. */
export interface PlanModel {
  readonly ctx: GpuContext;
  readonly spec: MlpSpec;
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly trainStats: GPUBuffer;
  readonly evalStats: GPUBuffer;
  readonly label: string;
  /** Tune the plan's matmul kernels on the adapter (src/tune/, docs/tuning.md). Default false. */
  readonly tune?: TuneMode;
}

export interface PlanOptions {
  batch: number;
  targetKind: TargetKind;
  /** Also compute dX = ∂L/∂X (saliency). */
  inputGrad?: boolean;
}

export class StepPlan {
  readonly batch: number;
  readonly targetKind: TargetKind;
  readonly inputGrad: boolean;
  /** X: [B, D]. */
  readonly x: GPUBuffer;
  /** Labels u32 [B] (targetKind 'labels') or dense targets f32 [B, C]. */
  readonly targets: GPUBuffer;
  /** A_1 … A_{L−1} (hidden activations), then the logits Z_{L−1}: [B, n_{l+1}] each. */
  readonly outputs: GPUBuffer[];
  /** Z of each layer that keeps it (activations whose derivative reads their input), else undefined. */
  readonly pre: (GPUBuffer | undefined)[];
  /** dZ_l for every layer: [B, n_{l+1}]. */
  readonly dz: GPUBuffer[];
  /** dX: [B, D] when inputGrad. */
  readonly dx: GPUBuffer | undefined;
  /** The head's outputs, what `predict` returns (probabilities, or the logits themselves): [B, C]. */
  readonly probs: GPUBuffer;
  readonly lossRows: GPUBuffer;
  readonly correctRows: GPUBuffer;
  /** Predicted class per row (class heads): u32 [B]. */
  readonly predictions: GPUBuffer;
  /** Bytes of the buffers this plan made (see Model.memory). */
  readonly bytes: number;
  /** What tuning chose for each matmul, when the model tunes (`tune`); undefined otherwise. */
  tuning: TuneReport | undefined;

  forward: GpuOp[] = [];
  loss: GpuOp[] = [];
  backward: GpuOp[] = [];
  trainMetrics!: GpuOp;
  evalMetrics!: GpuOp;
  /** The head's outputs into `probs`; empty when they are the logits. */
  probabilities: GpuOp[] = [];
  /** argmax of the logits into `predictions` (class heads); empty otherwise. */
  predict: GpuOp[] = [];

  private readonly scope: OpScope;
  private readonly destroyListeners: (() => void)[] = [];

  private constructor(
    private readonly model: PlanModel,
    options: PlanOptions,
  ) {
    const { spec } = model;
    this.batch = options.batch;
    this.targetKind = options.targetKind;
    this.inputGrad = options.inputGrad ?? false;
    this.scope = new OpScope(model.ctx);
    const B = this.batch;
    const C = spec.layers[spec.layers.length - 1];
    const name = `${model.label}.B${B}`;
    let bytes = 0;
    const storage = (label: string, size: number) => {
      bytes += size;
      return this.scope.storage(label, size);
    };
    this.x = storage(`${name}.x`, B * spec.layers[0] * 4);
    this.targets = storage(`${name}.targets`, (this.targetKind === 'labels' ? B : B * C) * 4);
    const layers = denseLayers(spec);
    this.outputs = [];
    this.pre = [];
    this.dz = [];
    for (const layer of layers) {
      const l = layer.index;
      const what = l === layers.length - 1 ? 'logits' : `layers.${l}.activation`;
      this.outputs.push(storage(`${name}.${what}`, B * layer.fanOut * 4));
      this.pre.push(layer.keepsPreActivation ? storage(`${name}.layers.${l}.Z`, B * layer.fanOut * 4) : undefined);
      this.dz.push(storage(`${name}.layers.${l}.dZ`, B * layer.fanOut * 4));
    }
    this.dx = this.inputGrad ? storage(`${name}.dX`, B * spec.layers[0] * 4) : undefined;
    const hasOutputs = headOf(spec).definition.prepareOutputs !== undefined;
    this.probs = hasOutputs ? storage(`${name}.probs`, B * C * 4) : (this.outputs.at(-1) as GPUBuffer);
    this.lossRows = storage(`${name}.lossRows`, B * 4);
    this.correctRows = storage(`${name}.correctRows`, B * 4);
    this.predictions = storage(`${name}.predictions`, B * 4);
    this.bytes = bytes;
  }

  static async create(model: PlanModel, options: PlanOptions): Promise<StepPlan> {
    const plan = new StepPlan(model, options);
    try {
      await plan.prepare();
    } catch (error) {
      plan.destroy();
      throw error;
    }
    return plan;
  }

  /** Input of layer l: X for the first layer, A_l after. */
  private input(l: number): GPUBuffer {
    return l === 0 ? this.x : this.outputs[l - 1];
  }

  private async prepare(): Promise<void> {
    const { ctx, spec, layout, params, grads } = this.model;
    const scope = this.scope;
    const B = this.batch;
    const layers = denseLayers(spec);
    const L = layers.length;
    const C = spec.layers[L];
    const name = `${this.model.label}.B${B}`;
    const head = headOf(spec);
    const weight = (l: number) => slotBinding(params, layout.weights[l]);
    const bias = (l: number) => slotBinding(params, layout.biases[l]);
    // The tuner (loaded only when asked for) picks each matmul's kernel: L forward, L dW, L − 1 dZ (+ dX).
    const tune = this.model.tune;
    const tuner = tune
      ? await (await import('../tune/tuner.js')).MatmulTuner.create(ctx, {
          mode: tune,
          problems: 3 * L - 1 + (this.dx ? 1 : 0),
        })
      : undefined;
    const choose = tuner?.choose;

    // forward: A_{l+1} = act_l(A_l·W_l + b_l)
    for (const layer of layers) {
      const l = layer.index;
      this.forward.push(
        await denseForward(
          ctx,
          scope,
          layer,
          B,
          { input: this.input(l), weight: weight(l), bias: bias(l), output: this.outputs[l], pre: this.pre[l] },
          `${name}.layers.${l}.forward`,
          choose,
        ),
      );
    }

    // the head: loss and the output gradient dZ_{L−1} = ∂L/∂Z, fused
    const logits = this.outputs[L - 1];
    if (!head.definition.targets.includes(this.targetKind)) {
      throw new Error(
        `the ${head.definition.name} head takes ${head.definition.targets.join(' or ')} targets, not ${this.targetKind}`,
      );
    }
    this.loss.push(
      await head.definition.prepareLoss(
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
        },
        head.params,
        `${name}.${head.definition.name}.loss`,
      ),
    );
    if (head.definition.prepareOutputs) {
      this.probabilities.push(
        await head.definition.prepareOutputs(
          ctx,
          scope,
          { logits, rows: B, cols: C, out: this.probs },
          `${name}.${head.definition.name}.outputs`,
        ),
      );
    }
    if (head.definition.prediction === 'class') {
      this.predict.push(
        await prepareArgmax(ctx, scope, { logits, rows: B, cols: C, out: this.predictions }, `${name}.argmax`),
      );
    }
    const metrics = { lossRows: this.lossRows, correctRows: this.correctRows, rows: B, batchSize: B };
    this.trainMetrics = await prepareMetrics(
      ctx,
      scope,
      { ...metrics, stats: this.model.trainStats },
      `${name}.metrics`,
    );
    this.evalMetrics = await prepareMetrics(
      ctx,
      scope,
      { ...metrics, stats: this.model.evalStats },
      `${name}.eval_metrics`,
    );

    // backward, last layer first
    for (let l = L - 1; l >= 0; l--) {
      const layer = layers[l];
      const previous = layers[l - 1];
      const inputGrad = l > 0 ? this.dz[l - 1] : this.dx;
      this.backward.push(
        ...(await denseBackward(
          ctx,
          scope,
          layer,
          B,
          {
            input: this.input(l),
            weight: weight(l),
            grad: this.dz[l],
            weightGrad: slotBinding(grads, layout.weights[l]),
            biasGrad: slotBinding(grads, layout.biases[l]),
            inputGrad,
            previous: previous && {
              layer: previous,
              values: derivativeInput(previous, this.outputs[l - 1], this.pre[l - 1]),
            },
          },
          `${name}.layers.${l}`,
          choose,
        )),
      );
    }
    this.tuning = await tuner?.finish();
  }

  /** Calls `listener` when this plan is destroyed (e.g. evicted from the model's plan cache). */
  onDestroy(listener: () => void): void {
    this.destroyListeners.push(listener);
  }

  destroy(): void {
    this.scope.destroy();
    for (const listener of this.destroyListeners.splice(0)) listener();
  }
}
