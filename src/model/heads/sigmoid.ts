import { prepareActivation } from '../../kernels/activation.js';
import { prepareSigmoidBce } from '../../kernels/sigmoid_bce.js';
import { correctRowsRef } from '../../reference/argmax.js';
import { sigmoidBceRef, sigmoidRef } from '../../reference/bce.js';
import { kernelActivation } from '../activations/definition.js';
import { sigmoid as sigmoidActivation } from '../activations/sigmoid.js';
import { firstNonFinite, type HeadDefinition, type HeadOutputs } from './definition.js';

/** The sigmoid head's outputs: σ(Z) per output, each an independent probability (seed 003). */
export const sigmoidOutputs: HeadOutputs<never> = {
  name: 'sigmoid',
  params: {},
  minOutputs: 1,
  prediction: 'multiLabel',
  targets: ['dense'],
  prepareOutputs: (ctx, scope, { logits, rows, cols, out }, label) =>
    prepareActivation(
      ctx,
      scope,
      {
        activation: kernelActivation({ definition: sigmoidActivation, params: {} }),
        direction: 'forward',
        count: rows * cols,
        input: logits,
        output: out,
      },
      label,
    ),
};

/**
 * Sigmoid + binary cross-entropy per output, summed over the outputs, mean over rows (seed 003):
 * ∂L/∂Z = (σ(Z) − Y)/B. Targets: dense [rows, C] in [0, 1] (binary or multi-label).
 */
export const sigmoid: HeadDefinition<never> = {
  ...sigmoidOutputs,
  outputs: sigmoidOutputs,
  formula: 'mean over rows of Σ_c BCE(σ(z_c), y_c); gradient (σ(z) − y)/B',
  torch: "torch.nn.BCEWithLogitsLoss(reduction='sum') / B",
  outputsRef: (logits, _rows, _cols, out) => {
    for (let i = 0; i < out.length; i++) out[i] = sigmoidRef(logits[i]);
  },
  chanceLoss: (C) => C * Math.LN2,
  checkDense(values, _rows, cols) {
    const bad = firstNonFinite(values, cols);
    if (bad) return bad;
    for (let i = 0; i < values.length; i++) {
      const y = values[i];
      if (y < 0 || y > 1) {
        return `[${Math.floor(i / cols)}, ${i % cols}] = ${y}: sigmoid targets are probabilities in [0, 1]`;
      }
    }
    return undefined;
  },
  prepareLoss: (ctx, scope, args, _params, label) => prepareSigmoidBce(ctx, scope, args, label),
  lossRef: (logits, rows, cols, targets, dLogits, lossRows, batchSize, _params, weights) => {
    if (targets.kind !== 'dense') throw new Error('the sigmoid head needs dense targets [B, C] in [0, 1], not labels');
    sigmoidBceRef(logits, rows, cols, targets.values, dLogits, lossRows, batchSize, weights);
  },
  correctRef: (logits, rows, cols, targets, out) => correctRowsRef(logits, rows, cols, targets, 'sigmoid', out),
};
