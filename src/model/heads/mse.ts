import { prepareRegression } from '../../kernels/regression.js';
import { mseRef } from '../../reference/regression.js';
import { firstNonFinite, type HeadDefinition } from './definition.js';
import { valueOutputs } from './values.js';

/** The mse head's outputs: the raw values. */
export const mseOutputs = valueOutputs<never>('mse', {});

/**
 * Mean squared error on a linear output, torch.nn.MSELoss() (reduction 'mean'): the mean over all
 * B·C elements of (z − y)², gradient 2(z − y)/(B·C). `predict` returns the outputs themselves.
 */
export const mse: HeadDefinition<never> = {
  ...mseOutputs,
  outputs: mseOutputs,
  formula: 'mean over all outputs of (z − y)²; gradient 2(z − y)/(B·C)',
  torch: 'torch.nn.MSELoss()',
  checkDense: (values, _rows, cols) => firstNonFinite(values, cols),
  prepareLoss: (ctx, scope, args, _params, label) => prepareRegression(ctx, scope, { ...args, loss: 'mse' }, label),
  lossRef: (logits, rows, cols, targets, dLogits, lossRows, batchSize, _params, weights) => {
    if (targets.kind !== 'dense') throw new Error('the mse head needs dense targets [B, C], not labels');
    mseRef(logits, rows, cols, targets.values, dLogits, lossRows, batchSize, weights);
  },
  correctRef: (_logits, _rows, _cols, _targets, out) => out.fill(0),
};
