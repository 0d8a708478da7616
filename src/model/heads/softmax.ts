import { prepareSoftmax } from '../../kernels/softmax.js';
import { prepareSoftmaxXent } from '../../kernels/softmax_xent.js';
import { correctRowsRef } from '../../reference/argmax.js';
import { softmaxRef } from '../../reference/softmax.js';
import { softmaxXentRef } from '../../reference/softmax_xent.js';
import { firstNonFinite, type HeadDefinition, type HeadOutputs } from './definition.js';

/** How far a dense softmax target row may sum from 1 (f32 soft targets carry rounding). */
export const SOFTMAX_TARGET_SUM_TOL = 1e-3;

/** The softmax head's outputs: class probabilities softmax(Z) (seeds 000, 001, 004). */
export const softmaxOutputs: HeadOutputs<never> = {
  name: 'softmax',
  params: {},
  minOutputs: 2,
  prediction: 'class',
  targets: ['labels', 'dense'],
  prepareOutputs: (ctx, scope, { logits, rows, cols, out }, label) =>
    prepareSoftmax(ctx, scope, { logits, rows, cols, probs: out }, label),
};

/**
 * Softmax + cross-entropy (seeds 000, 001, 002, 004): L = mean_r(logsumexp(Z_r) − Σ_c Y_rc Z_rc),
 * ∂L/∂Z = (softmax(Z) − Y)/B. Targets: class indices, or probability rows (one-hot or soft).
 */
export const softmax: HeadDefinition<never> = {
  ...softmaxOutputs,
  outputs: softmaxOutputs,
  formula: 'mean over rows of logsumexp(z) − Σ_c y_c·z_c; gradient (softmax(z) − y)/B',
  torch: 'torch.nn.CrossEntropyLoss() (class indices or probabilities)',
  outputsRef: (logits, rows, cols, out) => softmaxRef(logits, rows, cols, out),
  chanceLoss: (C) => Math.log(C),
  checkDense(values, rows, cols) {
    const bad = firstNonFinite(values, cols);
    if (bad) return bad;
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        const y = values[r * cols + c];
        if (y < 0) return `[${r}, ${c}] = ${y}: softmax targets are probabilities (≥ 0, each row summing to 1)`;
        sum += y;
      }
      if (Math.abs(sum - 1) > SOFTMAX_TARGET_SUM_TOL) {
        return `[${r}, :] sums to ${sum}: softmax targets are probabilities, each row summing to 1`;
      }
    }
    return undefined;
  },
  prepareLoss: (ctx, scope, args, _params, label) =>
    prepareSoftmaxXent(
      ctx,
      scope,
      args.targetKind === 'labels' ? { ...args, labels: args.targets, targets: undefined } : args,
      label,
    ),
  lossRef: (logits, rows, cols, targets, dLogits, lossRows, batchSize, _params, weights) =>
    softmaxXentRef(logits, rows, cols, targets, dLogits, lossRows, batchSize, weights),
  correctRef: (logits, rows, cols, targets, out) => correctRowsRef(logits, rows, cols, targets, 'softmax', out),
};
