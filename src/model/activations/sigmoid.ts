// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import wgsl from '../../../shaders/activations/sigmoid.wgsl?raw';
import { sigmoidRef } from '../../reference/bce.js';
import { type ActivationDefinition, glorotUniform } from './definition.js';

/** Sigmoid: 1/(1 + e^(−x)), derivative a(1 − a) from the output a (seed 001). Glorot initialisation. */
export const sigmoid: ActivationDefinition<never> = {
  name: 'sigmoid',
  title: 'sigmoid',
  formula: '1/(1 + e^(−x)); derivative a·(1 − a)',
  torch: 'torch.nn.Sigmoid()',
  params: {},
  wgsl,
  gradFrom: 'output',
  constants: () => ({}),
  forward: sigmoidRef,
  grad: (a) => a * (1 - a),
  init: glorotUniform,
};
