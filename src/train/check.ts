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
import { networkLayers, shapeOf } from '../model/layers/index.js';
import type { ParamLayout, TensorSlot } from '../model/layout.js';
import {
  cloneParamsRef,
  type MlpBackwardRef,
  mlpBackwardRef,
  type RefParams,
  type RefRunning,
} from '../model/reference.js';
import type { Targets } from '../model/spec.js';
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

/** The flat GPU layout as the reference's per-block Float64 tensors (every trained tensor, by its key). */
export function toRefParams(layout: ParamLayout, flat: Float32Array): RefParams {
  return toBlocks(layout.tensors, layout.weights.length, flat) as RefParams;
}

/** The running statistics' flat buffer as per-block Float64 records (see RefRunning). */
export function toRefRunning(layout: ParamLayout, flat: Float32Array | undefined): RefRunning {
  return flat ? toBlocks(layout.running.tensors, layout.weights.length, flat) : [];
}

function toBlocks(slots: readonly TensorSlot[], blocks: number, flat: Float32Array): Record<string, Float64Array>[] {
  const out: Record<string, Float64Array>[] = Array.from({ length: blocks }, () => ({}));
  for (const slot of slots) {
    (out[slot.block] as Record<string, Float64Array>)[slot.key] = Float64Array.from(
      flat.subarray(slot.offset, slot.offset + slot.count),
    );
  }
  return out;
}

/** The reference step's tensors: the network's forward and backward, and the update applied to given gradients. */
export interface ReferenceStep extends MlpBackwardRef {
  /** The parameters after the update from the GPU's gradients. */
  after: RefParams;
}

/**
 * The same step in Float64 as a GPU step: forward and backward from the same weights (`before`), running
 * statistics and random stream, and the optimizer's update from the same state (no buffers: a fresh
 * optimizer, all zeros) and the GPU's own gradients (`gpuGrads`, checked separately against `grads`).
 * Used by `checkStep` and by the benchmark's check of its timed step.
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
  stream: { running?: RefRunning; random?: { seed: number; step: number } } = {},
): ReferenceStep {
  const { spec, layout } = model;
  const ref = mlpBackwardRef(spec, before, x, targets, rows, { weights, ...stream });
  const state = new RefOptimizerState(spec, model.optimizerConfig);
  state.step = optimizerState.step;
  state.buffers.forEach((s, i) => {
    const saved = optimizerState.buffers[i];
    if (!saved) return; // none given: a fresh optimizer's zeros
    toRefParams(layout, saved).forEach((p, l) => {
      for (const [key, t] of Object.entries(p)) s[l]?.[key]?.set(t);
    });
  });
  const after = cloneParamsRef(before);
  optimizerUpdateRef(state, after, gpuGrads);
  return { ...ref, after };
}

/**
 * Runs one step on the GPU and in the Float64 reference and compares every tensor: the logits, the
 * loss, every trained tensor's gradient and its value after the update, and BatchNorm's running
 * statistics after the step (the dropout masks are the same draws on both sides: the model's random
 * stream at this step).
 */
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

  const paramsBefore = await model.readParams();
  const stateBefore = await model.readOptimizerState();
  const runningBefore = await model.readRunning();
  const randomBefore = model.randomStream;
  const statsBefore = await ctx.read(model.trainStats);

  const { logits, lossRows, dLogits, grads, paramsAfter, runningAfter } = await model.plans.with(
    [rows, kind, false, weights !== undefined],
    async (plan: StepPlan) => {
      model.uploadBatch(plan, x, targets, weights);
      model.submitStep(plan);
      const [logits, lossRows, dLogits, grads, paramsAfter, runningAfter] = await Promise.all([
        ctx.readF32(plan.logits),
        ctx.readF32(plan.lossRows),
        ctx.readF32(plan.dz.at(-1) as GPUBuffer),
        model.readGrads(),
        model.readParams(),
        model.readRunning(),
      ]);
      return { logits, lossRows, dLogits, grads, paramsAfter, runningAfter };
    },
  );

  const refBefore = toRefParams(layout, paramsBefore);
  const gpuGrads = toRefParams(layout, grads);
  const ref = referenceStep(model, refBefore, stateBefore, x, targets, rows, gpuGrads, weights, {
    running: toRefRunning(layout, runningBefore),
    random: randomBefore,
  });
  const refAfter = ref.after;
  const gpuAfter = toRefParams(layout, paramsAfter);
  let gpuLoss = 0;
  for (const v of lossRows) gpuLoss += v;
  const tensors: TensorDiff[] = [
    diff('logits', logits, ref.logits),
    diff('loss', [gpuLoss / rows], [ref.loss]),
    diff('logits.grad', dLogits, ref.dLogits),
  ];
  const at = (params: RefParams, slot: TensorSlot) => params[slot.block]?.[slot.key] as Float64Array;
  // A bias whose gradient a BatchNorm cancels (0 but for rounding) is measured against its block's weight gradient.
  const cancelled = new Set(
    networkLayers(spec)
      .filter((layer) => shapeOf(layer).cancelsBias)
      .map((layer) => layer.block),
  );
  const largest = (t: ArrayLike<number>) => Math.max(...Array.from(t, Math.abs));
  for (const slot of layout.tensors) {
    const scale =
      slot.key === 'b' && cancelled.has(slot.block)
        ? Math.max(largest(at(ref.grads, slot)), largest(ref.grads[slot.block]?.w as Float64Array))
        : undefined;
    tensors.push(diff(`${slot.name}.grad`, at(gpuGrads, slot), at(ref.grads, slot), scale));
  }
  for (const slot of layout.tensors) {
    const scale = updateScale(at(refAfter, slot), at(refBefore, slot));
    tensors.push(diff(slot.name, at(gpuAfter, slot), at(refAfter, slot), scale));
  }
  const gpuRunning = toRefRunning(layout, runningAfter);
  for (const slot of layout.running.tensors) {
    const refRunning = ref.running?.[slot.block]?.[slot.key] as Float64Array;
    tensors.push(diff(slot.name, gpuRunning[slot.block]?.[slot.key] as Float64Array, refRunning));
  }

  if (options.restore ?? true) {
    model.writeParams(paramsBefore);
    model.writeOptimizerState(stateBefore);
    model.writeRunning(runningBefore);
    model.writeRandom(randomBefore);
    ctx.device.queue.writeBuffer(model.trainStats, 0, statsBefore);
  }
  const worst = tensors.reduce((a, b) => (b.maxRel > a.maxRel ? b : a));
  return { batch: rows, tensors, maxRel: worst.maxRel, worst: worst.tensor };
}
