// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/optimizers/adam.wgsl?raw';
import { adamRef } from '../reference/optimizer.js';
import { ADAM_MOMENTS, defineOptimizer, learningRate, weightDecay } from './definition.js';

/**
 * The Adam family over one kernel (shaders/optimizers/adam.wgsl): `decoupled` false is Adam with L2
 * weight decay added to the gradient, true is AdamW's decay w ← w·(1 − lr·wd) before the update.
 */
export function adamFamily(options: {
  name: string;
  title: string;
  torch: string;
  decoupled: boolean;
  defaultWeightDecay: number;
}) {
  const { decoupled } = options;
  return defineOptimizer({
    name: options.name,
    title: options.title,
    torch: options.torch,
    hyper: {
      learningRate: learningRate(1e-3),
      ...ADAM_MOMENTS,
      weightDecay: weightDecay(
        options.defaultWeightDecay,
        decoupled ? 'decoupled: w ← w·(1 − lr·wd) before each update' : 'L2 (added to the gradient)',
      ),
    },
    state: ['m', 'v'],
    module: { name: 'optimizers/adam', source },
    uniform: (h, step) => ({
      lr: h.learningRate,
      beta1: h.beta1,
      beta2: h.beta2,
      one_minus_beta1: 1 - h.beta1,
      one_minus_beta2: 1 - h.beta2,
      eps: h.eps,
      weight_decay: decoupled ? 0 : h.weightDecay,
      decay: decoupled ? 1 - h.learningRate * h.weightDecay : 1,
      k1: 1 / (1 - h.beta1 ** step),
      k2: 1 / (1 - h.beta2 ** step),
    }),
    updateRef: (p, g, [m, v], h, step, decayCount) =>
      adamRef(p, g, m as Float64Array, v as Float64Array, {
        lr: h.learningRate,
        beta1: h.beta1,
        beta2: h.beta2,
        eps: h.eps,
        weightDecay: h.weightDecay,
        decoupled,
        decayCount,
        step,
      }),
  });
}

/** Adam with L2 weight decay (torch.optim.Adam). */
export const adam = adamFamily({
  name: 'adam',
  title: 'Adam',
  torch: 'torch.optim.Adam(lr, betas=(β1, β2), eps, weight_decay, amsgrad=False)',
  decoupled: false,
  defaultWeightDecay: 0,
});
