// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/optimizers/rmsprop.wgsl?raw';
import { rmspropRef } from '../reference/rmsprop.js';
import { defineOptimizer, learningRate, weightDecay } from './definition.js';

/**
 * RMSprop (torch.optim.RMSprop): each weight's step divided by the root of a running mean of its
 * squared gradients (centered: of their variance), with optional momentum. The state is PyTorch's:
 * `square_avg`, `momentum_buffer` and `grad_avg` (the last two stay zero without momentum and centered).
 */
export const rmsprop = defineOptimizer({
  name: 'rmsprop',
  title: 'RMSprop',
  torch: 'torch.optim.RMSprop(lr, alpha, eps, weight_decay, momentum, centered)',
  hyper: {
    learningRate: learningRate(0.01),
    alpha: { default: 0.99, min: 0, max: 1, maxExclusive: true, doc: "RMSprop's α: the squared gradients' decay" },
    eps: { default: 1e-8, min: 0, max: 1, minExclusive: true, doc: "RMSprop's ε, added to the root" },
    momentum: { default: 0, min: 0, max: 1, maxExclusive: true, doc: 'momentum coefficient μ' },
    centered: { default: false, switch: true, doc: "divide by the gradients' variance, not their second moment" },
    weightDecay: weightDecay(0, 'L2 (added to the gradient)'),
  },
  state: ['square_avg', 'momentum_buffer', 'grad_avg'],
  module: { name: 'optimizers/rmsprop', source },
  uniform: (h) => ({
    lr: h.learningRate,
    alpha: h.alpha,
    one_minus_alpha: 1 - h.alpha,
    eps: h.eps,
    momentum: h.momentum,
    weight_decay: h.weightDecay,
    centered: h.centered ? 1 : 0,
  }),
  updateRef: (p, g, [squareAvg, momentumBuffer, gradAvg], h, _step, decayCount) =>
    rmspropRef(p, g, squareAvg as Float64Array, momentumBuffer as Float64Array, gradAvg as Float64Array, {
      lr: h.learningRate,
      alpha: h.alpha,
      eps: h.eps,
      momentum: h.momentum,
      centered: h.centered,
      weightDecay: h.weightDecay,
      decayCount,
    }),
});
