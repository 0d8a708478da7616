/**
 * Checking the GPU against the Float64 reference, from the API: run one training step on the GPU
 * and the same step in the reference from the same weights, optimizer state and batch, and report
 * the largest differences per tensor. By default the model is put back as it was afterwards.
 */

import type { ParamLayout } from '../model/layout.js';
import { layerCount, type Targets } from '../model/spec.js';
import { cloneParamsRef, mlpBackwardRef, optimizerUpdateRef, type RefParams } from '../reference/mlp.js';
import { checkBatch, type Model } from './model.js';
import { refOptimizerState } from './options.js';

export interface TensorDiff {
  /** e.g. `logits`, `loss`, `layers.0.weight.grad`, `layers.0.weight` (after the update). */
  tensor: string;
  /** max_i |gpu_i − ref_i| */
  maxAbs: number;
  /**
   * max_i |gpu_i − ref_i| / max_j |ref_j|: the largest error relative to the tensor's scale.
   * (Element-wise relative error is meaningless where a sum cancels to nearly zero.)
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
}

export function diff(tensor: string, gpu: ArrayLike<number>, ref: ArrayLike<number>): TensorDiff {
  if (gpu.length !== ref.length) throw new Error(`${tensor}: GPU has ${gpu.length} values, reference ${ref.length}`);
  let scale = 0;
  for (let i = 0; i < ref.length; i++) scale = Math.max(scale, Math.abs(ref[i]));
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
  const maxRel = maxAbs === 0 ? 0 : maxAbs / Math.max(scale, Number.MIN_VALUE);
  return { tensor, maxAbs, maxRel, worstIndex };
}

/** The flat GPU layout as the reference's per-layer Float64 tensors. */
export function toRefParams(layout: ParamLayout, flat: Float32Array): RefParams {
  return layout.weights.map((w, l) => ({
    w: Float64Array.from(flat.subarray(w.offset, w.offset + w.count)),
    b: Float64Array.from(flat.subarray(layout.biases[l].offset, layout.biases[l].offset + layout.biases[l].count)),
  }));
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
  const L = layerCount(spec);

  const paramsBefore = await model.readParams();
  const stateBefore = await model.readOptimizerState();
  const statsBefore = await ctx.read(model.trainStats);

  const plan = await model.plan(rows, kind);
  model.uploadBatch(plan, x, targets);
  model.submitStep(plan);
  const [logits, lossRows, dLogits, grads, paramsAfter] = await Promise.all([
    ctx.readF32(plan.outputs[L - 1]),
    ctx.readF32(plan.lossRows),
    ctx.readF32(plan.dz[L - 1]),
    model.readGrads(),
    model.readParams(),
  ]);

  // The same step in Float64.
  const refParams = toRefParams(layout, paramsBefore);
  const ref = mlpBackwardRef(spec, refParams, x, targets, rows);
  const o = model.optimizerConfig;
  const state = refOptimizerState(spec, o);
  state.step = stateBefore.step;
  const slots = o.kind === 'momentum' ? [state.velocity] : o.kind === 'adam' ? [state.m, state.v] : [];
  slots.forEach((s, i) => {
    const loaded = toRefParams(layout, stateBefore.buffers[i]);
    loaded.forEach((p, l) => {
      s[l].w.set(p.w);
      s[l].b.set(p.b);
    });
  });
  const refAfter = cloneParamsRef(refParams);
  optimizerUpdateRef(state, refAfter, ref.grads);

  const gpuGrads = toRefParams(layout, grads);
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
    tensors.push(diff(`layers.${l}.weight`, gpuAfter[l].w, refAfter[l].w));
    tensors.push(diff(`layers.${l}.bias`, gpuAfter[l].b, refAfter[l].b));
  }

  if (options.restore ?? true) {
    model.writeParams(paramsBefore);
    model.writeOptimizerState(stateBefore);
    ctx.device.queue.writeBuffer(model.trainStats, 0, statsBefore);
  }
  const worst = tensors.reduce((a, b) => (b.maxRel > a.maxRel ? b : a));
  return { batch: rows, tensors, maxRel: worst.maxRel, worst: worst.tensor };
}
