// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/optimizers/momentum.wgsl?raw';
import { momentumRef } from '../reference/optimizer.js';
import { defineOptimizer, learningRate, weightDecay } from './definition.js';

/** SGD with momentum: v = μ·v + (g + wd·w); w −= lr·v (dampening 0, no Nesterov). */
export const momentum = defineOptimizer({
  name: 'momentum',
  title: 'SGD + momentum',
  torch: 'torch.optim.SGD(lr, momentum, dampening=0, nesterov=False, weight_decay)',
  hyper: {
    learningRate: learningRate(0.05),
    momentum: { default: 0.9, min: 0, max: 1, maxExclusive: true, doc: 'momentum coefficient μ' },
    weightDecay: weightDecay(0, 'L2 (added to the gradient)'),
  },
  state: ['velocity'],
  module: { name: 'optimizers/momentum', source },
  uniform: (h) => ({ lr: h.learningRate, momentum: h.momentum, weight_decay: h.weightDecay }),
  updateRef: (p, g, [velocity], h, _step, decayCount) =>
    momentumRef(p, g, velocity as Float64Array, {
      lr: h.learningRate,
      momentum: h.momentum,
      weightDecay: h.weightDecay,
      decayCount,
    }),
});
