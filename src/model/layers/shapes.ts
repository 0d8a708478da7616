/**
 * The layer kinds as inference knows them (see LayerShape): tensors, running statistics and the
 * evaluation forward. The full definitions (index.ts) add training; a test keeps the two in step.
 */
import { batchNormShape } from './batch_norm.js';
import type { LayerKindName, LayerShape } from './definition.js';
import { denseShape } from './dense.js';
import { dropoutShape } from './dropout.js';
import { layerNormShape } from './layer_norm.js';

export const LAYER_SHAPES = {
  dense: denseShape,
  dropout: dropoutShape,
  layerNorm: layerNormShape,
  batchNorm: batchNormShape,
} as const satisfies Record<LayerKindName, LayerShape>;
