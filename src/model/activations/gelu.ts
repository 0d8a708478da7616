// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import wgsl from '../../../shaders/activations/gelu.wgsl?raw';
import { type ActivationDefinition, heNormal } from './definition.js';

// √(2/π) and the cubic's coefficient: the WGSL's GELU_K and GELU_C, and the ONNX export's (src/io/onnx_export.ts).
const K = Math.sqrt(2 / Math.PI);
const C = 0.044715;

export { C as GELU_C, K as GELU_K };

/**
 * GELU in its tanh approximation, torch.nn.GELU(approximate='tanh'):
 * ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Its derivative needs the input (it is not monotonic), so
 * layers with it keep Z. He initialisation, as for ReLU.
 */
export const gelu: ActivationDefinition<never> = {
  name: 'gelu',
  title: 'GELU',
  formula: '½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))',
  torch: "torch.nn.GELU(approximate='tanh')",
  params: {},
  wgsl,
  gradFrom: 'input',
  constants: () => ({}),
  forward: (x) => 0.5 * x * (1 + Math.tanh(K * (x + C * x * x * x))),
  grad: (x) => {
    const t = Math.tanh(K * (x + C * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * C * x * x);
  },
  init: (fanIn) => heNormal(fanIn),
};
