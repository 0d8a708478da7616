/**
 * StepPlan: every buffer, bind group and dispatch of a training step for one batch size, made
 * once and reused. Encoding a step allocates nothing and reads nothing back.
 *
 * The data path (seeds 002, 004; shapes for layer l: A_l [B, n_l], W_l [n_l, n_{l+1}]):
 *   forward    A_{l+1} = act_l(A_l·W_l + b_l)              matmul, bias + activation fused
 *   loss       dZ_{L−1} = (softmax(Z) − Y)/B, loss rows     softmax_xent (or sigmoid_bce), one kernel
 *   backward   dW_l = A_lᵀ·dZ_l                            matmul Aᵀ·B
 *              db_l = Σ_rows dZ_l                           bias_grad
 *              dZ_{l−1} = (dZ_l·W_lᵀ) ⊙ act'_{l−1}(A_l)     matmul A·Bᵀ, mask fused
 *              dX = dZ_0·W_0ᵀ                               only for saliency (seed 004)
 *   update     W −= lr·f(dW)                                one optimizer dispatch over all parameters
 */
import type { GpuContext } from '../gpu/context.js';
import { prepareActivation } from '../kernels/activation.js';
import { prepareArgmax } from '../kernels/argmax.js';
import { prepareBiasGrad } from '../kernels/bias_grad.js';
import { prepareMatmul } from '../kernels/matmul.js';
import { prepareMetrics } from '../kernels/metrics.js';
import { type GpuOp, OpScope } from '../kernels/op.js';
import { prepareSigmoidBce } from '../kernels/sigmoid_bce.js';
import { prepareSoftmax } from '../kernels/softmax.js';
import { prepareSoftmaxXent } from '../kernels/softmax_xent.js';
import { type ParamLayout, slotBinding } from '../model/layout.js';
import { activationOf, layerCount, type MlpSpec } from '../model/spec.js';
import { biasEpilogueFor, maskEpilogueFor } from '../reference/matmul.js';

export type TargetKind = 'labels' | 'dense';

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
  /** dZ_l for every layer: [B, n_{l+1}]. */
  readonly dz: GPUBuffer[];
  /** dX: [B, D] when inputGrad. */
  readonly dx: GPUBuffer | undefined;
  /** Class probabilities (softmax) or output probabilities (sigmoid): [B, C]. */
  readonly probs: GPUBuffer;
  readonly lossRows: GPUBuffer;
  readonly correctRows: GPUBuffer;
  /** Predicted class per row (softmax head): u32 [B]. */
  readonly predictions: GPUBuffer;

  forward: GpuOp[] = [];
  loss: GpuOp[] = [];
  backward: GpuOp[] = [];
  trainMetrics!: GpuOp;
  evalMetrics!: GpuOp;
  probabilities!: GpuOp;
  /** argmax of the logits into `predictions`. */
  predict!: GpuOp;

  private readonly scope: OpScope;

  private constructor(
    private readonly model: PlanModel,
    options: PlanOptions,
  ) {
    const { ctx, spec } = model;
    this.batch = options.batch;
    this.targetKind = options.targetKind;
    this.inputGrad = options.inputGrad ?? false;
    this.scope = new OpScope(ctx);
    const B = this.batch;
    const C = spec.layers[spec.layers.length - 1];
    const name = `${model.label}.B${B}`;
    this.x = this.scope.storage(`${name}.x`, B * spec.layers[0] * 4);
    this.targets = this.scope.storage(`${name}.targets`, (this.targetKind === 'labels' ? B : B * C) * 4);
    this.outputs = [];
    this.dz = [];
    for (let l = 0; l < layerCount(spec); l++) {
      const n = spec.layers[l + 1];
      const what = l === layerCount(spec) - 1 ? 'logits' : `layers.${l}.activation`;
      this.outputs.push(this.scope.storage(`${name}.${what}`, B * n * 4));
      this.dz.push(this.scope.storage(`${name}.layers.${l}.dZ`, B * n * 4));
    }
    this.dx = this.inputGrad ? this.scope.storage(`${name}.dX`, B * spec.layers[0] * 4) : undefined;
    this.probs = this.scope.storage(`${name}.probs`, B * C * 4);
    this.lossRows = this.scope.storage(`${name}.lossRows`, B * 4);
    this.correctRows = this.scope.storage(`${name}.correctRows`, B * 4);
    this.predictions = this.scope.storage(`${name}.predictions`, B * 4);
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
    const L = layerCount(spec);
    const C = spec.layers[L];
    const name = `${this.model.label}.B${B}`;

    // forward: A_{l+1} = act_l(A_l·W_l + b_l)
    for (let l = 0; l < L; l++) {
      this.forward.push(
        await prepareMatmul(
          ctx,
          scope,
          {
            a: this.input(l),
            b: slotBinding(params, layout.weights[l]),
            bias: slotBinding(params, layout.biases[l]),
            out: this.outputs[l],
            M: B,
            K: spec.layers[l],
            N: spec.layers[l + 1],
            epilogue: biasEpilogueFor(activationOf(spec, l)),
          },
          `${name}.layers.${l}.forward`,
        ),
      );
    }

    // loss and the output gradient dZ_{L−1} = (ŷ − y)/B, fused
    const logits = this.outputs[L - 1];
    const lossArgs = {
      logits,
      rows: B,
      cols: C,
      batchSize: B,
      gradLogits: this.dz[L - 1],
      lossRows: this.lossRows,
      correctRows: this.correctRows,
    };
    if (spec.head === 'softmax') {
      const targets = this.targetKind === 'labels' ? { labels: this.targets } : { targets: this.targets };
      this.loss.push(await prepareSoftmaxXent(ctx, scope, { ...lossArgs, ...targets }, `${name}.softmax_xent`));
      this.probabilities = await prepareSoftmax(
        ctx,
        scope,
        { logits, rows: B, cols: C, probs: this.probs },
        `${name}.softmax`,
      );
    } else {
      this.loss.push(
        await prepareSigmoidBce(ctx, scope, { ...lossArgs, targets: this.targets }, `${name}.sigmoid_bce`),
      );
      this.probabilities = await prepareActivation(
        ctx,
        scope,
        { kind: 'sigmoid', count: B * C, input: logits, output: this.probs, direction: 'forward' },
        `${name}.sigmoid`,
      );
    }
    this.predict = await prepareArgmax(
      ctx,
      scope,
      { logits, rows: B, cols: C, out: this.predictions },
      `${name}.argmax`,
    );
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
      const nIn = spec.layers[l];
      const nOut = spec.layers[l + 1];
      // dW_l = A_lᵀ·dZ_l      A_l: [B, nIn] read transposed, dZ_l: [B, nOut]
      this.backward.push(
        await prepareMatmul(
          ctx,
          scope,
          {
            a: this.input(l),
            b: this.dz[l],
            out: slotBinding(grads, layout.weights[l]),
            M: nIn,
            K: B,
            N: nOut,
            transposeA: true,
          },
          `${name}.layers.${l}.dW`,
        ),
      );
      // db_l = Σ_rows dZ_l
      this.backward.push(
        await prepareBiasGrad(
          ctx,
          scope,
          { grad: this.dz[l], rows: B, cols: nOut, out: slotBinding(grads, layout.biases[l]) },
          `${name}.layers.${l}.db`,
        ),
      );
      // dZ_{l−1} = (dZ_l·W_lᵀ) ⊙ act'_{l−1}(A_l)      or dX = dZ_0·W_0ᵀ
      const target = l > 0 ? this.dz[l - 1] : this.dx;
      if (!target) continue;
      this.backward.push(
        await prepareMatmul(
          ctx,
          scope,
          {
            a: this.dz[l],
            b: slotBinding(params, layout.weights[l]),
            out: target,
            M: B,
            K: nOut,
            N: nIn,
            transposeB: true,
            epilogue: l > 0 ? maskEpilogueFor(activationOf(spec, l - 1)) : 'none',
            activationOutput: l > 0 ? this.input(l) : undefined,
          },
          l > 0 ? `${name}.layers.${l - 1}.dZ` : `${name}.dX`,
        ),
      );
    }
  }

  destroy(): void {
    this.scope.destroy();
  }
}
