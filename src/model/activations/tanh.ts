// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import wgsl from '../../../shaders/activations/tanh.wgsl?raw';
import { type ActivationDefinition, glorotUniform } from './definition.js';

/** tanh, derivative 1 − a² from the output a (seed 001). Glorot initialisation. */
export const tanh: ActivationDefinition<never> = {
  name: 'tanh',
  title: 'tanh',
  formula: 'tanh(x); derivative 1 − a²',
  torch: 'torch.nn.Tanh()',
  params: {},
  wgsl,
  gradFrom: 'output',
  constants: () => ({}),
  forward: Math.tanh,
  grad: (a) => 1 - a * a,
  init: glorotUniform,
};
