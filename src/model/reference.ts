// The whole network in Float64: forward, the head's loss, backward   (seeds 002, 004; heads: 000, 003)
// The same loop over the layers (dense.ts) as the GPU plan, and the same head definition:
//   acts[0] = X: [B, D];   acts[l + 1] = act_l(acts[l]·W_l + b_l)   for hidden layers; the last layer's Z
//   is the logits [B, C], followed by the head (its loss and G = ∂L/∂Z, e.g. (P − Y)/B).
// Backward, the forward pass reversed:
//   for l = last … 0:   dW_l = acts[l]ᵀ·G,  db_l = Σ_rows G,  G = (G·W_lᵀ) ⊙ act'_{l−1}(V_{l−1})   (l > 0)
//   dX = G·W_0ᵀ   (no mask: X has no activation), only when asked
// V is the activation's output (ReLU' = [A > 0]) or, for GELU, its input Z.
// Per-row loss weights w (imbalanced data) enter only the head: ℓ_r and G's row r times w_r, so
// L = (1/B)·Σ_r w_r·ℓ_r and every gradient below is that of the weighted loss (src/reference/loss_weights.ts).
import { checkDim, checkLength } from '../reference/check.js';
import { type DenseLayer, denseBackwardRef, denseForwardRef, denseLayers, derivativeInput } from './dense.js';
import { headOf } from './heads/index.js';
import { layerCount, layerShape, type MlpSpec, type Targets } from './spec.js';

/** One `{ w, b }` per dense layer: w: [fanIn, fanOut] row-major, b: [fanOut]. */
export type RefParams = { w: Float64Array; b: Float64Array }[];

export interface MlpForwardRef {
  /** acts[0] = X (as Float64), acts[l] = output of hidden layer l − 1, for l = 1 … L − 1. Each [B, n_l]. */
  acts: Float64Array[];
  /** Z of each layer that keeps it (GELU), else undefined; index l is layer l's. */
  pre: (Float64Array | undefined)[];
  /** Z of the last layer: [B, C]. */
  logits: Float64Array;
}

export interface MlpBackwardRef extends MlpForwardRef {
  /** Mean loss over the batch: Σ_r lossRows[r] / B (with weights, (1/B)·Σ_r w_r·ℓ_r). */
  loss: number;
  /** Per-row loss (not divided by B; with weights, w_r·ℓ_r): [B]. */
  lossRows: Float64Array;
  /** The head's outputs (softmax(Z), σ(Z), or Z for regression): [B, C]. */
  probs: Float64Array;
  /** ∂L/∂W_l and ∂L/∂b_l, shaped like the params. */
  grads: RefParams;
  /** ∂L/∂Z of the last layer, e.g. (P − Y)/B: [B, C]. */
  dLogits: Float64Array;
  /** ∂L/∂X: [B, D], present when `inputGrad` was asked. */
  dX?: Float64Array;
}

/** Zero-filled parameters (or optimizer state) shaped for `spec`. */
export function zeroParamsRef(spec: MlpSpec): RefParams {
  checkSpecRef(spec);
  const params: RefParams = [];
  for (let l = 0; l < layerCount(spec); l++) {
    const { fanIn, fanOut } = layerShape(spec, l);
    params.push({ w: new Float64Array(fanIn * fanOut), b: new Float64Array(fanOut) });
  }
  return params;
}

/** A deep copy of `params`. */
export function cloneParamsRef(params: RefParams): RefParams {
  return params.map(({ w, b }) => ({ w: w.slice(), b: b.slice() }));
}

/** Throws unless `spec` is well formed: ≥ 2 positive integer widths, one activation per hidden layer. */
export function checkSpecRef(spec: MlpSpec): void {
  if (spec.layers.length < 2) {
    throw new Error(`spec.layers = [${spec.layers.join(', ')}] needs at least an input and an output width`);
  }
  for (const [i, width] of spec.layers.entries()) {
    if (!Number.isInteger(width) || width < 1)
      throw new Error(`spec.layers[${i}] = ${width} must be a positive integer`);
  }
  if (spec.activations.length !== spec.layers.length - 2) {
    throw new Error(
      `spec has ${spec.layers.length - 2} hidden layers but ${spec.activations.length} activations: give one per hidden layer`,
    );
  }
}

/** Throws unless `params` has one `{ w: [fanIn, fanOut], b: [fanOut] }` per layer of `spec`. */
export function checkParamsRef(spec: MlpSpec, params: RefParams): void {
  checkSpecRef(spec);
  if (params.length !== layerCount(spec)) {
    throw new Error(
      `params has ${params.length} layers, expected ${layerCount(spec)} for layers [${spec.layers.join(', ')}]`,
    );
  }
  for (let l = 0; l < params.length; l++) {
    const { fanIn, fanOut } = layerShape(spec, l);
    checkLength(`params[${l}].w`, params[l].w, fanIn * fanOut, `[${fanIn}, ${fanOut}]`);
    checkLength(`params[${l}].b`, params[l].b, fanOut, `[${fanOut}]`);
  }
}

/** Forward pass. x: [batch, D]. */
export function mlpForwardRef(spec: MlpSpec, params: RefParams, x: ArrayLike<number>, batch: number): MlpForwardRef {
  checkParamsRef(spec, params);
  checkDim('batch', batch);
  checkLength('x', x, batch * spec.layers[0], '[B, D]');
  const layers = denseLayers(spec);
  const acts: Float64Array[] = [Float64Array.from(x)]; // acts[0] = X: [B, D]
  const pre: (Float64Array | undefined)[] = [];
  let logits: Float64Array = new Float64Array(0);
  for (const layer of layers) {
    const l = layer.index;
    const out = denseForwardRef(layer, params[l].w, params[l].b, acts[l], batch);
    pre.push(out.pre);
    if (l < layers.length - 1) acts.push(out.output);
    else logits = out.output;
  }
  return { acts, pre, logits };
}

/** Mean loss over the batch: Σ_r loss_r / batch, or (1/batch)·Σ_r w_r·loss_r with per-row `weights`. */
export function mlpLossRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  weights?: ArrayLike<number>,
): number {
  const { logits } = mlpForwardRef(spec, params, x, batch);
  const C = spec.layers[spec.layers.length - 1];
  const lossRows = new Float64Array(batch);
  headLossRef(spec, logits, batch, C, targets, new Float64Array(batch * C), lossRows, weights);
  return meanOf(lossRows, batch);
}

export interface MlpBackwardOptions {
  /** Also compute dX = ∂L/∂X. */
  inputGrad?: boolean;
  /** Per-row loss weights [batch] (finite, ≥ 0): the loss and gradients are those of (1/B)·Σ_r w_r·ℓ_r. */
  weights?: ArrayLike<number>;
}

/** Forward and backward: the loss, the head's outputs and every gradient. */
export function mlpBackwardRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  options: MlpBackwardOptions = {},
): MlpBackwardRef {
  const forward = mlpForwardRef(spec, params, x, batch);
  const { acts, pre, logits } = forward;
  const layers = denseLayers(spec);
  const C = spec.layers[spec.layers.length - 1];

  // G = ∂L/∂Z of the last layer: [B, C];  lossRows: [B]
  const dLogits = new Float64Array(batch * C);
  const lossRows = new Float64Array(batch);
  headLossRef(spec, logits, batch, C, targets, dLogits, lossRows, options.weights);
  const probs = headOutputsRef(spec, logits, batch, C);

  const grads = zeroParamsRef(spec);
  let dX: Float64Array | undefined;
  let g: Float64Array = dLogits; // ∂L/∂Z_l: [B, n_{l+1}]
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l];
    const previous: DenseLayer | undefined = layers[l - 1];
    const wanted = l > 0 || options.inputGrad;
    const next = denseBackwardRef(
      layer,
      params[l].w,
      acts[l],
      g,
      batch,
      { weightGrad: grads[l].w, biasGrad: grads[l].b },
      wanted
        ? { previous: previous && { layer: previous, values: derivativeInput(previous, acts[l], pre[l - 1]) } }
        : undefined,
    );
    if (l > 0) g = next as Float64Array;
    else dX = next;
  }

  const result: MlpBackwardRef = { ...forward, loss: meanOf(lossRows, batch), lossRows, probs, grads, dLogits };
  if (dX !== undefined) result.dX = dX;
  return result;
}

/** The head's fused loss and gradient: ∂L/∂Z into dLogits, per-row loss into lossRows (weighted by `weights`). */
export function headLossRef(
  spec: MlpSpec,
  logits: ArrayLike<number>,
  batch: number,
  C: number,
  targets: Targets,
  dLogits: Float64Array,
  lossRows: Float64Array,
  weights?: ArrayLike<number>,
): void {
  const { definition, params } = headOf(spec);
  if (!definition.targets.includes(targets.kind)) {
    throw new Error(
      `the ${definition.name} head needs ${definition.targets.join(' or ')} targets, not ${targets.kind}`,
    );
  }
  definition.lossRef(logits, batch, C, targets, dLogits, lossRows, batch, params, weights);
}

/** The head's outputs (what predict returns): softmax(Z), σ(Z), or Z itself for regression. [B, C]. */
export function headOutputsRef(spec: MlpSpec, logits: ArrayLike<number>, batch: number, C: number): Float64Array {
  const out = new Float64Array(batch * C);
  const { definition } = headOf(spec);
  if (definition.outputsRef) definition.outputsRef(logits, batch, C, out);
  else out.set(logits);
  return out;
}

function meanOf(rows: Float64Array, batch: number): number {
  let sum = 0;
  for (let r = 0; r < rows.length; r++) sum += rows[r];
  return sum / batch;
}
