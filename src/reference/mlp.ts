// mlp: the whole network, forward, loss, backward and one optimizer step        (seeds 002, 004; heads: 000, 003)
// Layer l (0-based) maps acts[l] to acts[l + 1]:
//   Z_l = acts[l]·W_l + b_l,   acts[l + 1] = act_l(Z_l)       acts[0] = X: [B, D]; W_l: [n_l, n_{l+1}]
// The last layer has no activation: its Z is the logits [B, C], followed by the head:
//   softmax: loss = mean_r(logsumexp(Z_r) − Σ_c Y_rc Z_rc)    sigmoid: loss = mean_r Σ_c BCE(Z_rc, Y_rc)
// Backward (seed 004 in matrix form, seed 002 for the chain), the forward pass reversed:
//   G = ∂L/∂Z_last = (P − Y)/B
//   for l = last … 0:   dW_l = acts[l]ᵀ·G                       [n_l, n_{l+1}]
//                       db_l = Σ_rows G                         [n_{l+1}]
//                       G    = (G·W_lᵀ) ⊙ act'_{l−1}(acts[l])    for l > 0, act' from the output (ReLU' = [A > 0])
//   dX = G·W_0ᵀ   (no mask: X has no activation), only when asked
import { activationOf, layerCount, layerShape, type MlpSpec, type Targets } from '../model/spec.js';
import { activationForwardRef } from './activation.js';
import { sigmoidBceRef } from './bce.js';
import { biasGradRef } from './bias_grad.js';
import { checkDim, checkLength } from './check.js';
import { biasEpilogueFor, maskEpilogueFor, matmulRef } from './matmul.js';
import { adamRef, momentumRef, sgdRef } from './optimizer.js';
import { softmaxRef } from './softmax.js';
import { softmaxXentRef } from './softmax_xent.js';

/** One `{ w, b }` per dense layer: w: [fanIn, fanOut] row-major, b: [fanOut]. */
export type RefParams = { w: Float64Array; b: Float64Array }[];

export interface MlpForwardRef {
  /** acts[0] = X (as Float64), acts[l] = output of hidden layer l − 1, for l = 1 … L − 1. Each [B, n_l]. */
  acts: Float64Array[];
  /** Z of the last layer: [B, C]. */
  logits: Float64Array;
}

export interface MlpBackwardRef extends MlpForwardRef {
  /** Mean loss over the batch: Σ_r lossRows[r] / B. */
  loss: number;
  /** Per-row loss (not divided by B): [B]. */
  lossRows: Float64Array;
  /** softmax(Z) or σ(Z), the head's outputs: [B, C]. */
  probs: Float64Array;
  /** ∂L/∂W_l and ∂L/∂b_l, shaped like the params. */
  grads: RefParams;
  /** ∂L/∂Z of the last layer, (P − Y)/B: [B, C]. */
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
  const L = layerCount(spec);
  const acts: Float64Array[] = [Float64Array.from(x)]; // acts[0] = X: [B, D]
  let logits = new Float64Array(0);
  for (let l = 0; l < L; l++) {
    const { fanIn, fanOut } = layerShape(spec, l);
    const out = new Float64Array(batch * fanOut); // [B, n_{l+1}]
    const epilogue = l < L - 1 ? biasEpilogueFor(activationOf(spec, l)) : 'bias';
    // Z_l = acts[l]·W_l + b_l, then act_l(Z_l) for hidden layers
    matmulRef(acts[l], params[l].w, out, { M: batch, N: fanOut, K: fanIn, epilogue, bias: params[l].b });
    if (l < L - 1) acts.push(out);
    else logits = out;
  }
  return { acts, logits };
}

/** Mean loss over the batch: Σ_r loss_r / batch. */
export function mlpLossRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
): number {
  const { logits } = mlpForwardRef(spec, params, x, batch);
  const C = spec.layers[spec.layers.length - 1];
  const lossRows = new Float64Array(batch);
  headLossRef(spec, logits, batch, C, targets, new Float64Array(batch * C), lossRows);
  return meanOf(lossRows, batch);
}

/** Forward and backward: the loss, the head's outputs and every gradient. */
export function mlpBackwardRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  options: { inputGrad?: boolean } = {},
): MlpBackwardRef {
  const { acts, logits } = mlpForwardRef(spec, params, x, batch);
  const L = layerCount(spec);
  const C = spec.layers[L];

  // G = (P − Y)/B: [B, C];  lossRows: [B]
  const dLogits = new Float64Array(batch * C);
  const lossRows = new Float64Array(batch);
  headLossRef(spec, logits, batch, C, targets, dLogits, lossRows);
  const probs = new Float64Array(batch * C);
  if (spec.head === 'softmax') softmaxRef(logits, batch, C, probs);
  else activationForwardRef('sigmoid', logits, probs);

  const grads = zeroParamsRef(spec);
  let dX: Float64Array | undefined;
  let g = dLogits; // ∂L/∂Z_l: [B, n_{l+1}]
  for (let l = L - 1; l >= 0; l--) {
    const { fanIn, fanOut } = layerShape(spec, l);
    // dW_l = acts[l]ᵀ·G: [n_l, n_{l+1}]
    matmulRef(acts[l], g, grads[l].w, { M: fanIn, N: fanOut, K: batch, transposeA: true });
    // db_l = Σ_rows G: [n_{l+1}]
    biasGradRef(g, batch, fanOut, grads[l].b);
    if (l > 0) {
      // G = (G·W_lᵀ) ⊙ act'_{l−1}(acts[l]): [B, n_l]
      const next = new Float64Array(batch * fanIn);
      const epilogue = maskEpilogueFor(activationOf(spec, l - 1));
      matmulRef(g, params[l].w, next, { M: batch, N: fanIn, K: fanOut, transposeB: true, epilogue, act: acts[l] });
      g = next;
    } else if (options.inputGrad) {
      // dX = G·W_0ᵀ: [B, D]
      dX = new Float64Array(batch * fanIn);
      matmulRef(g, params[0].w, dX, { M: batch, N: fanIn, K: fanOut, transposeB: true });
    }
  }

  const result: MlpBackwardRef = { loss: meanOf(lossRows, batch), lossRows, probs, grads, dLogits, acts, logits };
  if (dX !== undefined) result.dX = dX;
  return result;
}

/** Optimizer settings for `mlpStepRef`. Weight decay applies to every W and no b. */
export interface RefOptimizerConfig {
  readonly kind: 'sgd' | 'momentum' | 'adam';
  readonly lr: number;
  /** μ for `momentum`; default 0.9. */
  readonly momentum?: number;
  /** Adam β1; default 0.9. */
  readonly beta1?: number;
  /** Adam β2; default 0.999. */
  readonly beta2?: number;
  /** Adam ε; default 1e-8. */
  readonly eps?: number;
  /** L2 coefficient added to the weight gradients (not the biases); default 0. */
  readonly weightDecay?: number;
}

/** The optimizer's configuration and its state across steps, shaped like the params (zeros at start). */
export class RefOptimizerState {
  readonly config: RefOptimizerConfig;
  /** Updates applied so far; the next Adam update uses t = step + 1. */
  step = 0;
  /** Momentum's velocity (empty unless kind is `momentum`). */
  readonly velocity: RefParams;
  /** Adam's first moment m (empty unless kind is `adam`). */
  readonly m: RefParams;
  /** Adam's second moment v (empty unless kind is `adam`). */
  readonly v: RefParams;

  constructor(spec: MlpSpec, config: RefOptimizerConfig) {
    this.config = config;
    this.velocity = config.kind === 'momentum' ? zeroParamsRef(spec) : [];
    this.m = config.kind === 'adam' ? zeroParamsRef(spec) : [];
    this.v = config.kind === 'adam' ? zeroParamsRef(spec) : [];
  }
}

/** Applies one update of `state`'s optimizer to `params` in place; W tensors are decayed, b tensors not. */
export function optimizerUpdateRef(state: RefOptimizerState, params: RefParams, grads: RefParams): void {
  const { kind, lr, momentum = 0.9, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = state.config;
  state.step++;
  for (let l = 0; l < params.length; l++) {
    for (const key of ['w', 'b'] as const) {
      const decayCount = key === 'w' ? params[l][key].length : 0;
      const p = params[l][key];
      const g = grads[l][key];
      if (kind === 'sgd') {
        sgdRef(p, g, { lr, weightDecay, decayCount });
      } else if (kind === 'momentum') {
        momentumRef(p, g, state.velocity[l][key], { lr, momentum, weightDecay, decayCount });
      } else {
        adamRef(p, g, state.m[l][key], state.v[l][key], {
          lr,
          beta1,
          beta2,
          eps,
          weightDecay,
          decayCount,
          step: state.step,
        });
      }
    }
  }
}

/** One training step in place: forward, backward, optimizer update. Returns the batch's mean loss before the update. */
export function mlpStepRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  optimizer: RefOptimizerState,
): number {
  const { loss, grads } = mlpBackwardRef(spec, params, x, targets, batch);
  optimizerUpdateRef(optimizer, params, grads);
  return loss;
}

/** The head's fused loss and gradient: (P − Y)/B into dLogits, per-row loss into lossRows. */
function headLossRef(
  spec: MlpSpec,
  logits: Float64Array,
  batch: number,
  C: number,
  targets: Targets,
  dLogits: Float64Array,
  lossRows: Float64Array,
): void {
  if (spec.head === 'softmax') {
    softmaxXentRef(logits, batch, C, targets, dLogits, lossRows, batch);
  } else {
    if (targets.kind !== 'dense') {
      throw new Error('the sigmoid head needs dense targets [B, C] in [0, 1], not labels');
    }
    sigmoidBceRef(logits, batch, C, targets.values, dLogits, lossRows, batch);
  }
}

function meanOf(rows: Float64Array, batch: number): number {
  let sum = 0;
  for (let r = 0; r < rows.length; r++) sum += rows[r];
  return sum / batch;
}
