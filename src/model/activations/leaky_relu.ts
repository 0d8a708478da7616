// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import wgsl from '../../../shaders/activations/leaky_relu.wgsl?raw';
import { type ActivationDefinition, heNormal } from './definition.js';

/**
 * Leaky ReLU, torch.nn.LeakyReLU(negative_slope): x for x > 0, slope·x otherwise; derivative 1 or
 * slope (slope at exactly 0, as torch). Read from the output: with slope ≥ 0 the output is > 0
 * exactly when the input is. Initialisation: He with torch's leaky-ReLU gain, gain² = 2/(1 + slope²)
 * (torch.nn.init.kaiming_normal_(a=slope)).
 */
export const leakyRelu: ActivationDefinition<'slope'> = {
  name: 'leakyRelu',
  title: 'leaky ReLU',
  formula: 'x for x > 0, slope·x otherwise; derivative 1 or slope',
  torch: 'torch.nn.LeakyReLU(negative_slope=slope)',
  params: {
    slope: { default: 0.01, min: 0, max: 1, doc: 'the slope for x ≤ 0 (torch negative_slope)' },
  },
  wgsl,
  gradFrom: 'output',
  constants: (p) => ({ SLOPE: p.slope }),
  forward: (x, p) => (x > 0 ? x : p.slope * x),
  grad: (a, p) => (a > 0 ? 1 : p.slope),
  init: (fanIn, _fanOut, p) => heNormal(fanIn, 2 / (1 + p.slope * p.slope)),
};
