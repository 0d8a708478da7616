// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/optimizers/sgd.wgsl?raw';
import { sgdRef } from '../reference/optimizer.js';
import { defineOptimizer, learningRate, weightDecay } from './definition.js';

/** Plain SGD: w −= lr·(g + wd·w). */
export const sgd = defineOptimizer({
  name: 'sgd',
  title: 'SGD',
  torch: 'torch.optim.SGD(lr, momentum=0, weight_decay)',
  hyper: { learningRate: learningRate(0.1), weightDecay: weightDecay(0, 'L2 (added to the gradient)') },
  state: [],
  module: { name: 'optimizers/sgd', source },
  uniform: (h) => ({ lr: h.learningRate, weight_decay: h.weightDecay }),
  updateRef: (p, g, _state, h, _step, decayCount) =>
    sgdRef(p, g, { lr: h.learningRate, weightDecay: h.weightDecay, decayCount }),
});
