/**
 * The layer kinds in full: one definition each (see definition.ts), registered here once — `dense`,
 * `dropout`, `layerNorm`, `batchNorm`. The training plans and the Float64 network read these; the
 * inference entry reads only their shapes (shapes.ts).
 */
import { batchNorm } from './batch_norm.js';
import type { Layer, LayerDefinition, LayerKindName } from './definition.js';
import { dense } from './dense.js';
import { dropout } from './dropout.js';
import { layerNorm } from './layer_norm.js';

export const LAYER_REGISTRY = { dense, dropout, layerNorm, batchNorm } as const satisfies Record<
  LayerKindName,
  LayerDefinition
>;

/** The full definition of a layer's kind. */
export function definitionOf(layer: Layer): LayerDefinition {
  return LAYER_REGISTRY[layer.kind];
}

export type * from './definition.js';
export { denseLayers, derivativeInput, evaluationDiffers, networkLayers, shapeOf, usesRandom } from './network.js';
