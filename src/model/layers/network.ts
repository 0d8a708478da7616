/**
 * The walker's list: a spec as the list of layers every pass loops over (the GPU step and forward
 * plans, the Float64 network, the parameter layout, initialisation, files). Hidden block l is
 *
 *   dense l (linear when a norm follows) → [LayerNorm | BatchNorm1d] (the block's activation) → [dropout]
 *
 * and the last block is the output layer, a linear dense layer (the head follows). So
 * `[784, { units: 256, norm: 'layer', dropout: 0.2 }, 10]` with ReLU is, in PyTorch,
 * `nn.Sequential(nn.Linear(784, 256), nn.LayerNorm(256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, 10))`;
 * a plain `[784, 256, 10]` is the two dense layers it always was.
 */
import type { ParamValues } from '../../params.js';
import { type ResolvedActivation, resolveActivation } from '../activations/index.js';
import { linear } from '../activations/linear.js';
import { dropoutOf, type MlpSpec, normOf } from '../spec.js';
import type { Layer, LayerKindName, LayerShape } from './definition.js';
import { resolveNorm } from './norms.js';
import { LAYER_SHAPES } from './shapes.js';

const LINEAR: ResolvedActivation = { definition: linear, params: {} };

/** The layers of a network, in order. */
export function networkLayers(spec: MlpSpec): Layer[] {
  const list: Layer[] = [];
  const add = (
    kind: LayerKindName,
    block: number,
    width: [number, number],
    activation: ResolvedActivation,
    params: ParamValues = {},
  ) => {
    list.push({
      kind,
      index: list.length,
      block,
      fanIn: width[0],
      fanOut: width[1],
      activation,
      keepsPreActivation: activation.definition.gradFrom === 'input',
      params,
    });
  };
  const L = spec.layers.length - 1;
  for (let l = 0; l < L; l++) {
    const fanIn = spec.layers[l] as number;
    const units = spec.layers[l + 1] as number;
    const act = l < L - 1 ? resolveActivation(spec.activations[l]) : LINEAR;
    const norm = l < L - 1 ? normOf(spec, l) : null;
    add('dense', l, [fanIn, units], norm === null ? act : LINEAR);
    if (norm !== null) {
      const { name, params } = resolveNorm(norm);
      add(name === 'layer' ? 'layerNorm' : 'batchNorm', l, [units, units], act, params);
    }
    const p = l < L - 1 ? dropoutOf(spec, l) : 0;
    if (p > 0) add('dropout', l, [units, units], LINEAR, { p });
  }
  return list;
}

/** The shape (inference part) of a layer's kind. */
export function shapeOf(layer: Layer): LayerShape {
  return LAYER_SHAPES[layer.kind];
}

/** The dense layers alone, by block: the network's weight matrices. */
export function denseLayers(spec: MlpSpec): Layer[] {
  return networkLayers(spec).filter((layer) => layer.kind === 'dense');
}

/** Whether any layer of the network differs between training and evaluation (dropout, BatchNorm). */
export function evaluationDiffers(spec: MlpSpec): boolean {
  return networkLayers(spec).some((layer) => shapeOf(layer).evaluation !== 'same');
}

/** Whether the network draws random numbers in training (dropout): its model then keeps a random stream. */
export function usesRandom(spec: MlpSpec): boolean {
  return networkLayers(spec).some((layer) => layer.kind === 'dropout');
}

/**
 * The values act' of `layer` reads in a backward (its output, or its pre-activation output when it
 * keeps it) — what the layer above fuses into the gradient it writes.
 */
export function derivativeInput<T>(layer: Layer, output: T, pre: T | undefined): T {
  if (!layer.keepsPreActivation) return output;
  if (pre === undefined)
    throw new Error(`layers.${layer.block}: its pre-activation output was not kept, but act' reads it`);
  return pre;
}
