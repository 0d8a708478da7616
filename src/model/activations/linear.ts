// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import wgsl from '../../../shaders/activations/linear.wgsl?raw';
import { type ActivationDefinition, glorotUniform } from './definition.js';

/** The identity: a hidden layer with no activation, and every output layer (the head follows). */
export const linear: ActivationDefinition<never> = {
  name: 'linear',
  title: 'linear',
  formula: 'x; derivative 1',
  torch: 'torch.nn.Identity()',
  params: {},
  wgsl,
  gradFrom: 'output',
  constants: () => ({}),
  forward: (x) => x,
  grad: () => 1,
  init: glorotUniform,
};
