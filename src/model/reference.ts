// The whole network in Float64: forward, the head's loss, backward   (seeds 002, 004; heads: 000, 003)
// The same walk over the list of layers (layers/network.ts) as the GPU plan, with each layer's Float64
// twin from its definition (layers/), and the same head definition:
//   acts[0] = X: [B, D];   acts[i + 1] = layer_i(acts[i])   (the last layer's output is the logits [B, C]),
//   followed by the head (its loss and G = ∂L/∂Z, e.g. (P − Y)/B).
// Backward, the forward pass reversed: each layer takes dZ (the gradient at its output before its
// activation) and gives its tensors' gradients and dZ of the layer below, that layer's act' fused:
//   dense:     dW = Aᵀ·dZ,  db = Σ_rows dZ,  dZ_below = (dZ·Wᵀ) ⊙ act'_below(V)
//   dropout:   dZ_below = dZ·mask/(1 − p) ⊙ act'_below(V)
//   norms:     dγ, dβ, and dZ_below = their input gradient ⊙ act'_below(V)
//   dX = the first layer's input gradient (no act': X has none), only when asked
// V is the activation's output (ReLU' = [A > 0]) or, for GELU, its input. Training draws dropout masks
// from `random` (seed, step) as the GPU does, and BatchNorm uses the batch's statistics (the running
// statistics after the step are returned); evaluation skips dropout and uses the running statistics.
// Per-row loss weights w (imbalanced data) enter only the head: ℓ_r and G's row r times w_r, so
// L = (1/B)·Σ_r w_r·ℓ_r and every gradient below is that of the weighted loss (src/reference/loss_weights.ts).
import { checkDim, checkLength } from '../reference/check.js';
import { headOf } from './heads/index.js';
import { definitionOf, derivativeInput, type ForwardMode, networkLayers } from './layers/index.js';
import { paramLayout } from './layout.js';
import type { MlpSpec, Targets } from './spec.js';

/**
 * One record of Float64 tensors per block (dense layer l and what follows it), by the layers' keys:
 * `w` [fanIn, fanOut] row-major and `b` [fanOut] for the dense layer, `gamma` and `beta` for a norm.
 */
export type RefParams = RefBlock[];

export interface RefBlock {
  w: Float64Array;
  b: Float64Array;
  [key: string]: Float64Array;
}

/** The running statistics (BatchNorm's `runningMean`, `runningVar`) per block; empty records elsewhere. */
export type RefRunning = Record<string, Float64Array>[];

export interface RefForwardOptions {
  /** Training (dropout masks, batch statistics) or evaluation; default evaluation. */
  mode?: ForwardMode;
  /** The running statistics (required when the network has BatchNorm). */
  running?: RefRunning;
  /** The model's random stream for this step: its seed and step (training with dropout). */
  random?: { seed: number; step: number };
}

export interface MlpForwardRef {
  /** acts[0] = X (as Float64), acts[i] = output of layer i − 1 (the input of layer i). Each [B, width]. */
  acts: Float64Array[];
  /** Each layer's output before its activation when it keeps it (GELU), else undefined; index i is layer i's. */
  pre: (Float64Array | undefined)[];
  /** What each layer's backward needs (a norm's statistics), by layer. */
  saved: (Readonly<Record<string, Float64Array>> | undefined)[];
  /** Z of the last layer: [B, C]. */
  logits: Float64Array;
  /** Training: the running statistics after the step (when the network has any). */
  running?: RefRunning;
}

export interface MlpBackwardRef extends MlpForwardRef {
  /** Mean loss over the batch: Σ_r lossRows[r] / B (with weights, (1/B)·Σ_r w_r·ℓ_r). */
  loss: number;
  /** Per-row loss (not divided by B; with weights, w_r·ℓ_r): [B]. */
  lossRows: Float64Array;
  /** The head's outputs (softmax(Z), σ(Z), or Z for regression): [B, C]. */
  probs: Float64Array;
  /** ∂L/∂ of every trained tensor, shaped like the params. */
  grads: RefParams;
  /** ∂L/∂Z of the last layer, e.g. (P − Y)/B: [B, C]. */
  dLogits: Float64Array;
  /** ∂L/∂X: [B, D], present when `inputGrad` was asked. */
  dX?: Float64Array;
}

/** Zero-filled parameters (or optimizer state) shaped for `spec`. */
export function zeroParamsRef(spec: MlpSpec): RefParams {
  checkSpecRef(spec);
  return blocksOf(spec, (slots) => slots.tensors) as RefParams;
}

/** The running statistics at their start (mean 0, variance 1), shaped for `spec`: one record per block. */
export function initRunningRef(spec: MlpSpec): RefRunning {
  return blocksOf(spec, (slots) => slots.running.tensors, true);
}

function blocksOf(
  spec: MlpSpec,
  which: (layout: ReturnType<typeof paramLayout>) => ReturnType<typeof paramLayout>['tensors'],
  initial = false,
): Record<string, Float64Array>[] {
  const blocks: Record<string, Float64Array>[] = Array.from({ length: spec.layers.length - 1 }, () => ({}));
  for (const slot of which(paramLayout(spec))) {
    const t = new Float64Array(slot.count);
    if (initial) t.fill(slot.tensor.init as number);
    (blocks[slot.block] as Record<string, Float64Array>)[slot.key] = t;
  }
  return blocks;
}

/** A deep copy of `params` (or of running statistics). */
export function cloneParamsRef<T extends Record<string, Float64Array>>(params: readonly T[]): T[] {
  return params.map((p) => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.slice()])) as T);
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

/** Throws unless `params` has every tensor of `spec`'s layers, each of its size, block by block. */
export function checkParamsRef(spec: MlpSpec, params: RefParams): void {
  checkSpecRef(spec);
  const L = spec.layers.length - 1;
  if (params.length !== L) {
    throw new Error(`params has ${params.length} layers, expected ${L} for layers [${spec.layers.join(', ')}]`);
  }
  for (const slot of paramLayout(spec).tensors) {
    const t = params[slot.block]?.[slot.key];
    if (!t) throw new Error(`params[${slot.block}].${slot.key} is missing (${slot.name} [${slot.shape.join(', ')}])`);
    checkLength(`params[${slot.block}].${slot.key}`, t, slot.count, `[${slot.shape.join(', ')}]`);
  }
}

/** Forward pass. x: [batch, D]. */
export function mlpForwardRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  batch: number,
  options: RefForwardOptions = {},
): MlpForwardRef {
  checkParamsRef(spec, params);
  checkDim('batch', batch);
  checkLength('x', x, batch * spec.layers[0], '[B, D]');
  const mode = options.mode ?? 'eval';
  const running = options.running ?? (paramLayout(spec).running.totalFloats ? undefined : []);
  if (!running) throw new Error('this network has running statistics (BatchNorm): give options.running');
  const layers = networkLayers(spec);
  const acts: Float64Array[] = [Float64Array.from(x)]; // acts[0] = X: [B, D]
  const pre: (Float64Array | undefined)[] = [];
  const saved: MlpForwardRef['saved'] = [];
  const next = cloneParamsRef(running);
  let logits: Float64Array = new Float64Array(0);
  for (const layer of layers) {
    const out = definitionOf(layer).forwardRef({
      layer,
      batch,
      mode,
      input: acts[layer.index] as Float64Array,
      tensors: params[layer.block] as RefBlock,
      running: running[layer.block] ?? {},
      random: options.random,
    });
    pre.push(out.pre);
    saved.push(out.saved);
    if (out.running) Object.assign(next[layer.block] as Record<string, Float64Array>, out.running);
    if (layer.index < layers.length - 1) acts.push(out.output);
    else logits = out.output;
  }
  const result: MlpForwardRef = { acts, pre, saved, logits };
  if (mode === 'train' && running.length) result.running = next;
  return result;
}

/** Mean loss over the batch: Σ_r loss_r / batch, or (1/batch)·Σ_r w_r·loss_r with per-row `weights`. */
export function mlpLossRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  weights?: ArrayLike<number>,
  forward: RefForwardOptions = { mode: 'train' },
): number {
  const { logits } = mlpForwardRef(spec, params, x, batch, forward);
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
  /** The running statistics before the step (networks with BatchNorm). */
  running?: RefRunning;
  /** The model's random stream for this step (networks with dropout). */
  random?: { seed: number; step: number };
}

/** Forward (in training) and backward: the loss, the head's outputs and every gradient. */
export function mlpBackwardRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  options: MlpBackwardOptions = {},
): MlpBackwardRef {
  const { running, random } = options;
  const forward = mlpForwardRef(spec, params, x, batch, { mode: 'train', running, random });
  const { acts, pre, saved, logits } = forward;
  const layers = networkLayers(spec);
  const C = spec.layers[spec.layers.length - 1];

  // G = ∂L/∂Z of the last layer: [B, C];  lossRows: [B]
  const dLogits = new Float64Array(batch * C);
  const lossRows = new Float64Array(batch);
  headLossRef(spec, logits, batch, C, targets, dLogits, lossRows, options.weights);
  const probs = headOutputsRef(spec, logits, batch, C);

  const grads = zeroParamsRef(spec);
  let dX: Float64Array | undefined;
  let g: Float64Array = dLogits; // dZ of layer i
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i] as (typeof layers)[number];
    const below = layers[i - 1];
    const out = definitionOf(layer).backwardRef({
      layer,
      batch,
      mode: 'train',
      input: acts[i] as Float64Array,
      output: i < layers.length - 1 ? (acts[i + 1] as Float64Array) : logits,
      pre: pre[i],
      saved: saved[i],
      tensors: params[layer.block] as RefBlock,
      running: running?.[layer.block] ?? {},
      random,
      grad: g,
      inputGrad: i > 0 || options.inputGrad === true,
      below: below && {
        activation: below.activation,
        values: derivativeInput(below, acts[i] as Float64Array, pre[i - 1]),
      },
    });
    Object.assign(grads[layer.block] as RefBlock, out.grads);
    if (i > 0) g = out.inputGrad as Float64Array;
    else dX = out.inputGrad;
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
