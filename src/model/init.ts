/**
 * Seeded weight initialisation, as each layer's activation asks (its definition's `init`): He normal
 * (std √(2/fanIn)) before ReLU and GELU, with the leaky-ReLU gain before a leaky ReLU, Glorot uniform
 * (±√(6/(fanIn+fanOut))) otherwise; biases zero. Same seed, same weights, everywhere.
 */
import { type ParamLayout, paramLayout } from './layout.js';
import { mulberry32, normalSource } from './random.js';
import { activationOf, layerCount, layerShape, type MlpSpec } from './spec.js';

/** The flat parameter vector (see ParamLayout) for a seed. */
export function initParams(spec: MlpSpec, seed: number, layout: ParamLayout = paramLayout(spec)): Float32Array {
  const flat = new Float32Array(layout.totalFloats);
  for (let l = 0; l < layerCount(spec); l++) {
    const { fanIn, fanOut } = layerShape(spec, l);
    const slot = layout.weights[l];
    // One stream per layer: adding a layer does not change the weights of the ones before it.
    const uniform = mulberry32((seed >>> 0) * 1000003 + l * 7919 + 1);
    const { definition, params } = activationOf(spec, l);
    const init = definition.init(fanIn, fanOut, params);
    if (init.kind === 'normal') {
      const normal = normalSource(uniform);
      for (let i = 0; i < slot.count; i++) flat[slot.offset + i] = normal() * init.std;
    } else {
      for (let i = 0; i < slot.count; i++) flat[slot.offset + i] = (uniform() * 2 - 1) * init.limit;
    }
  }
  return flat;
}
