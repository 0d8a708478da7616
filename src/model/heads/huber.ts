import { prepareRegression } from '../../kernels/regression.js';
import { huberRef } from '../../reference/regression.js';
import { firstNonFinite, type HeadDefinition } from './definition.js';
import { valueOutputs } from './values.js';

/** The huber head's outputs: the raw values; δ, its parameter, is part of the head's identity in files. */
export const huberOutputs = valueOutputs<'delta'>('huber', {
  delta: { default: 1, min: 0, max: 1e6, minExclusive: true, doc: 'where the loss turns linear (δ)' },
});

/**
 * Huber loss on a linear output, torch.nn.HuberLoss(delta) (reduction 'mean'): per element ½d² within
 * δ and δ(|d| − ½δ) beyond, d = z − y, averaged over all B·C elements; gradient clamp(d, −δ, δ)/(B·C).
 * torch.nn.SmoothL1Loss(beta) is this with δ = β, divided by β.
 */
export const huber: HeadDefinition<'delta'> = {
  ...huberOutputs,
  outputs: huberOutputs,
  formula: 'mean over all outputs of ½d² (|d| ≤ δ) or δ(|d| − ½δ), d = z − y; gradient clamp(d, ±δ)/(B·C)',
  torch: 'torch.nn.HuberLoss(delta=δ)',
  checkDense: (values, _rows, cols) => firstNonFinite(values, cols),
  prepareLoss: (ctx, scope, args, params, label) =>
    prepareRegression(ctx, scope, { ...args, loss: 'huber', delta: params.delta }, label),
  lossRef: (logits, rows, cols, targets, dLogits, lossRows, batchSize, params, weights) => {
    if (targets.kind !== 'dense') throw new Error('the huber head needs dense targets [B, C], not labels');
    huberRef(logits, rows, cols, targets.values, dLogits, lossRows, batchSize, params.delta, weights);
  },
  correctRef: (_logits, _rows, _cols, _targets, out) => out.fill(0),
};
