/**
 * Saliency (seed 004): the gradient of the loss with respect to the inputs, dX = ∂L/∂X, on the GPU.
 *
 *   forward    Z = f(X; W)                        the model's forward ops
 *   loss       dZ_{L−1} = ∂L/∂Z, e.g. (softmax(Z) − Y)/B   the fused head
 *   backward   each layer's backward, last first,  down to dX = dZ_0·W_0ᵀ   [B, D]
 *
 * One submit, no optimizer update: the parameters, the optimizer state and the training statistics
 * are left as they were. The backward pass does write the model's gradient buffer (`readGrads`).
 * Float64 twin: `mlpBackwardRef(spec, params, x, targets, B, { inputGrad: true })`.
 */
import { evaluationDiffers } from '../model/layers/index.js';
import type { Targets } from '../model/spec.js';
import { checkBatch, checkFinite } from './batch.js';
import type { Model } from './model.js';
import type { StepPlan } from './plan.js';

export interface InputGradient {
  /** The head's outputs (probabilities, or a regression head's values): [B, C]. */
  probs: Float32Array;
  /** ∂L/∂X: [B, D]. Negative where more input would lower the loss of the given targets. */
  dx: Float32Array;
}

/**
 * Probabilities and ∂L/∂X for inputs x: [rows, D] and their targets (for a saliency map, the
 * predicted class as the label). The plan for `rows` is made once per model and cached.
 */
export async function inputGradient(model: Model, x: Float32Array, targets: Targets): Promise<InputGradient> {
  model.assertAlive();
  const { spec, ctx } = model;
  const D = spec.layers[0];
  const C = spec.layers[spec.layers.length - 1];
  const rows = x.length / D;
  checkBatch(spec, x, targets, rows);
  checkFinite('x', x, D);
  const kind = model.targetKindOf(targets);
  if (evaluationDiffers(spec)) {
    // The plan's backward is training's (dropout masks, BatchNorm's batch statistics), not the
    // gradient of what predict computes: refused rather than a saliency map of another function.
    throw new Error(
      'inputGradient: this network has dropout or BatchNorm, whose evaluation differs from training; the gradient with respect to the inputs is computed for networks without them (LayerNorm is fine)',
    );
  }
  const [probs, grad] = await model.plans.with([rows, kind, true, false], async (plan: StepPlan) => {
    const dx = plan.dx;
    if (!dx) throw new Error('internal: a plan made with inputGrad has no dX buffer');
    model.uploadBatch(plan, x, targets);
    // Inside a validation error scope, as every submit of ours (src/gpu/app_buffer.ts): refused, it rejects.
    const refused = ctx.submitChecked(() => {
      const encoder = ctx.device.createCommandEncoder({ label: `${model.label}.inputGradient` });
      const pass = encoder.beginComputePass({ label: `${model.label}.inputGradient` });
      for (const op of plan.forward) op.encode(pass);
      for (const op of plan.loss) op.encode(pass);
      for (const op of plan.probabilities) op.encode(pass);
      for (const op of plan.backward) op.encode(pass);
      pass.end();
      ctx.device.queue.submit([encoder.finish()]);
    });
    const read = Promise.all([ctx.readF32(plan.probs, 0, rows * C), ctx.readF32(dx, 0, rows * D)]);
    const error = await refused;
    if (error) {
      read.catch(() => {});
      throw new Error(`inputGradient failed: the GPU refused its commands (${error.message})`);
    }
    return read;
  });
  return { probs, dx: grad };
}
