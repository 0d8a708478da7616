/**
 * Seeded initialisation, as each tensor's layer declares (LayerTensor.init): dense weights as their
 * block's activation asks — He normal (std √(2/fanIn)) before ReLU and GELU, with the leaky-ReLU gain
 * before a leaky ReLU, Glorot uniform (±√(6/(fanIn+fanOut))) otherwise — and constants for the rest:
 * biases and β 0, γ 1; running statistics: mean 0, variance 1 (PyTorch's). Same seed, same weights,
 * everywhere.
 */
import { type ParamLayout, paramLayout, type TensorSlot } from './layout.js';
import { mulberry32, normalSource } from './random.js';
import { activationOf, layerShape, type MlpSpec } from './spec.js';

/** The flat parameter vector (see ParamLayout) for a seed. */
export function initParams(spec: MlpSpec, seed: number, layout: ParamLayout = paramLayout(spec)): Float32Array {
  const flat = new Float32Array(layout.totalFloats);
  for (const slot of layout.tensors) {
    const { init } = slot.tensor;
    if (init !== 'weights') {
      constant(flat, slot, init);
      continue;
    }
    const l = slot.block;
    const { fanIn, fanOut } = layerShape(spec, l);
    // One stream per layer: adding a layer does not change the weights of the ones before it.
    const uniform = mulberry32((seed >>> 0) * 1000003 + l * 7919 + 1);
    const { definition, params } = activationOf(spec, l);
    const dist = definition.init(fanIn, fanOut, params);
    if (dist.kind === 'normal') {
      const normal = normalSource(uniform);
      for (let i = 0; i < slot.count; i++) flat[slot.offset + i] = normal() * dist.std;
    } else {
      for (let i = 0; i < slot.count; i++) flat[slot.offset + i] = (uniform() * 2 - 1) * dist.limit;
    }
  }
  return flat;
}

/** The running statistics' flat buffer at the start (see ParamLayout.running), or undefined when there are none. */
export function initRunning(layout: ParamLayout): Float32Array | undefined {
  const { tensors, totalFloats } = layout.running;
  if (totalFloats === 0) return undefined;
  const flat = new Float32Array(totalFloats);
  for (const slot of tensors) constant(flat, slot, slot.tensor.init as number);
  return flat;
}

function constant(flat: Float32Array, slot: TensorSlot, value: number): void {
  if (value !== 0) flat.fill(value, slot.offset, slot.offset + slot.count);
}
