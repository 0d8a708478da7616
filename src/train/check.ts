/**
 * Checking the GPU against the Float64 reference, from the API: run one training step on the GPU
 * and the same step in the reference from the same weights, optimizer state and batch, and report
 * the largest differences per tensor. By default the model is put back as it was afterwards.
 *
 * Each stage is checked against its twin from the same inputs: the forward values, the loss and every
 * gradient against the reference network's; the update against the reference optimizer applied to the
 * GPU's own gradients, and measured relative to the update's size (Δθ), not the weights' — so an error
 * in the optimizer (a 1 − β rounded to f32, say) is not hidden under the weights' magnitude, and an fp32
 * rounding of a near-zero gradient cannot flip Adam's sign and pass for a bug.
 */
import type { ParamLayout } from '../model/layout.js';
import { cloneParamsRef, type MlpBackwardRef, mlpBackwardRef, type RefParams } from '../model/reference.js';
import { layerCount, type Targets } from '../model/spec.js';
import { optimizerUpdateRef, RefOptimizerState } from '../optim/reference.js';
import { checkBatch } from './batch.js';
import type { Model } from './model.js';
import type { StepPlan } from './plan.js';
import { checkRowWeights } from './weights.js';

export interface TensorDiff {
  /** e.g. `logits`, `loss`, `layers.0.weight.grad`, `layers.0.weight` (after the update). */
  tensor: string;
  /** max_i |gpu_i − ref_i| */
  maxAbs: number;
  /**
   * max_i |gpu_i − ref_i| / scale: the largest error relative to the tensor's scale, max_j |ref_j| —
   * for the updated weights, the scale of the update, max_j |Δref_j|. (Element-wise relative error is
   * meaningless where a sum cancels to nearly zero.)
   */
  maxRel: number;
  /** Index of the element with the largest error. */
  worstIndex: number;
}

export interface CheckReport {
  /** Rows in the checked batch. */
  batch: number;
  tensors: TensorDiff[];
  /** Largest maxRel over all tensors. */
  maxRel: number;
  /** The tensor with the largest maxRel. */
  worst: string;
}

export interface CheckOptions {
  /** Put parameters, optimizer state and statistics back as they were. Default true. */
  restore?: boolean;
  /** The rows' loss weights [rows] (finite, ≥ 0): check a weighted step, (1/B)·Σ_r w_r·ℓ_r. */
  weights?: Float32Array;
}

/** The difference of two tensors, relative to `scale` (default: the reference's largest magnitude). */
export function diff(tensor: string, gpu: ArrayLike<number>, ref: ArrayLike<number>, scale?: number): TensorDiff {
  if (gpu.length !== ref.length) throw new Error(`${tensor}: GPU has ${gpu.length} values, reference ${ref.length}`);
  let size = scale ?? 0;
  if (scale === undefined) for (let i = 0; i < ref.length; i++) size = Math.max(size, Math.abs(ref[i]));
  let maxAbs = 0;
  let worstIndex = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(gpu[i] - ref[i]);
    if (Number.isNaN(d) || d > maxAbs) {
      maxAbs = Number.isNaN(d) ? Infinity : d;
      worstIndex = i;
      if (maxAbs === Infinity) break;
    }
  }
  const maxRel = maxAbs === 0 ? 0 : maxAbs / Math.max(size, Number.MIN_VALUE);
  return { tensor, maxAbs, maxRel, worstIndex };
}

/**
 * The scale of an update: the largest |after − before| over the tensor, but no less than 2⁻²⁰ of the
 * largest |after| — f32 stores `after` only to within 2⁻²⁴ of it, so a smaller update is not measurable.
 */
function updateScale(after: ArrayLike<number>, before: ArrayLike<number>): number {
  let update = 0;
  let size = 0;
  for (let i = 0; i < after.length; i++) {
    update = Math.max(update, Math.abs(after[i] - before[i]));
    size = Math.max(size, Math.abs(after[i]));
  }
  return Math.max(update, size * 2 ** -20);
}

/** The flat GPU layout as the reference's per-layer Float64 tensors. */
export function toRefParams(layout: ParamLayout, flat: Float32Array): RefParams {
  return layout.weights.map((w, l) => ({
    w: Float64Array.from(flat.subarray(w.offset, w.offset + w.count)),
    b: Float64Array.from(flat.subarray(layout.biases[l].offset, layout.biases[l].offset + layout.biases[l].count)),
  }));
}

/** The reference step's tensors: the network's forward and backward, and the update applied to given gradients. */
export interface ReferenceStep extends MlpBackwardRef {
  /** The parameters after the update from the GPU's gradients. */
  after: RefParams;
}

/**
 * The same step in Float64 as a GPU step: forward and backward from the same weights (`before`), and
 * the optimizer's update from the same state (no buffers: a fresh optimizer, all zeros) and the GPU's
 * own gradients (`gpuGrads`, checked separately against `grads`). Used by `checkStep` and by the benchmark's check of its timed step.
 */
export function referenceStep(
  model: Pick<Model, 'spec' | 'layout' | 'optimizerConfig'>,
  before: RefParams,
  optimizerState: { step: number; buffers: readonly Float32Array[] },
  x: ArrayLike<number>,
  targets: Targets,
  rows: number,
  gpuGrads: RefParams,
  weights?: ArrayLike<number>,
): ReferenceStep {
  const { spec, layout } = model;
  const ref = mlpBackwardRef(spec, before, x, targets, rows, { weights });
  const state = new RefOptimizerState(spec, model.optimizerConfig);
  state.step = optimizerState.step;
  state.buffers.forEach((s, i) => {
    const saved = optimizerState.buffers[i];
    if (!saved) return; // none given: a fresh optimizer's zeros
    toRefParams(layout, saved).forEach((p, l) => {
      s[l].w.set(p.w);
      s[l].b.set(p.b);
    });
  });
  const after = cloneParamsRef(before);
  optimizerUpdateRef(state, after, gpuGrads);
  return { ...ref, after };
}

/** Runs one step on the GPU and in the Float64 reference and compares every tensor. */
export async function checkStep(
  model: Model,
  x: Float32Array,
  targets: Targets,
  options: CheckOptions = {},
): Promise<CheckReport> {
  const { spec, layout, ctx } = model;
  const rows = x.length / spec.layers[0];
  checkBatch(spec, x, targets, rows);
  const kind = model.targetKindOf(targets);
  const { weights } = options;
  if (weights) checkRowWeights('weights', weights, rows);
  const L = layerCount(spec);

  const paramsBefore = await model.readParams();
  const stateBefore = await model.readOptimizerState();
  const statsBefore = await ctx.read(model.trainStats);

  const { logits, lossRows, dLogits, grads, paramsAfter } = await model.plans.with(
    [rows, kind, false, weights !== undefined],
    async (plan: StepPlan) => {
      model.uploadBatch(plan, x, targets, weights);
      model.submitStep(plan);
      const [logits, lossRows, dLogits, grads, paramsAfter] = await Promise.all([
        ctx.readF32(plan.outputs[L - 1]),
        ctx.readF32(plan.lossRows),
        ctx.readF32(plan.dz[L - 1]),
        model.readGrads(),
        model.readParams(),
      ]);
      return { logits, lossRows, dLogits, grads, paramsAfter };
    },
  );

  const refBefore = toRefParams(layout, paramsBefore);
  const gpuGrads = toRefParams(layout, grads);
  const ref = referenceStep(model, refBefore, stateBefore, x, targets, rows, gpuGrads, weights);
  const refAfter = ref.after;
  const gpuAfter = toRefParams(layout, paramsAfter);
  let gpuLoss = 0;
  for (const v of lossRows) gpuLoss += v;
  const tensors: TensorDiff[] = [
    diff('logits', logits, ref.logits),
    diff('loss', [gpuLoss / rows], [ref.loss]),
    diff('logits.grad', dLogits, ref.dLogits),
  ];
  for (let l = 0; l < L; l++) {
    tensors.push(diff(`layers.${l}.weight.grad`, gpuGrads[l].w, ref.grads[l].w));
    tensors.push(diff(`layers.${l}.bias.grad`, gpuGrads[l].b, ref.grads[l].b));
  }
  for (let l = 0; l < L; l++) {
    tensors.push(diff(`layers.${l}.weight`, gpuAfter[l].w, refAfter[l].w, updateScale(refAfter[l].w, refBefore[l].w)));
    tensors.push(diff(`layers.${l}.bias`, gpuAfter[l].b, refAfter[l].b, updateScale(refAfter[l].b, refBefore[l].b)));
  }

  if (options.restore ?? true) {
    model.writeParams(paramsBefore);
    model.writeOptimizerState(stateBefore);
    ctx.device.queue.writeBuffer(model.trainStats, 0, statsBefore);
  }
  const worst = tensors.reduce((a, b) => (b.maxRel > a.maxRel ? b : a));
  return { batch: rows, tensors, maxRel: worst.maxRel, worst: worst.tensor };
}
