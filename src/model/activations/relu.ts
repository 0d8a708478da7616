// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import wgsl from '../../../shaders/activations/relu.wgsl?raw';
import { type ActivationDefinition, heNormal } from './definition.js';

/** ReLU: max(x, 0), derivative [x > 0] (0 at exactly 0, seed 004's s > 0). He initialisation. */
export const relu: ActivationDefinition<never> = {
  name: 'relu',
  title: 'ReLU',
  formula: 'max(x, 0); derivative [x > 0], 0 at 0',
  torch: 'torch.nn.ReLU()',
  params: {},
  wgsl,
  gradFrom: 'output',
  constants: () => ({}),
  forward: (x) => Math.max(x, 0),
  grad: (a) => (a > 0 ? 1 : 0),
  init: (fanIn) => heNormal(fanIn),
};
