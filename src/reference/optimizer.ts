// optimizer: in-place parameter updates with PyTorch semantics (torch.optim.SGD / Adam, dampening 0, no Nesterov)
//   L2 weight decay is added to the gradient:  g' = g + wd·w   for i < decayCount, g' = g otherwise
//   sgd:       w −= lr·g'
//   momentum:  v = μ·v + g';  w −= lr·v
//   adam:      m = β1·m + (1 − β1)·g';  v = β2·v + (1 − β2)·g'²
//              w −= lr · (m / (1 − β1^t)) / (sqrt(v / (1 − β2^t)) + eps)     t = step, 1-based
//   adamw:     the same with the decay decoupled (torch.optim.AdamW): w ← w·(1 − lr·wd) first, g' = g
// params, velocity, m, v: [n] Float64 updated in place   grads: [n] read
// The flat layout stores all weights first and all biases after, so decayCount = number of weights
// decays the weights and not the biases. decayCount defaults to n (everything decayed).
import { checkLength } from './check.js';

export interface SgdRefConfig {
  readonly lr: number;
  /** L2 coefficient added to the gradient; default 0. */
  readonly weightDecay?: number;
  /** Elements [0, decayCount) get weight decay, the rest not; default all. */
  readonly decayCount?: number;
}

export interface MomentumRefConfig extends SgdRefConfig {
  /** μ, the velocity's decay. */
  readonly momentum: number;
}

export interface AdamRefConfig extends SgdRefConfig {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** AdamW: weight decay multiplies w by (1 − lr·wd) before the update instead of adding wd·w to g. */
  readonly decoupled?: boolean;
  /** t, the number of this update, 1-based (the first update is step 1). */
  readonly step: number;
}

/** w −= lr·(g + wd·w). */
export function sgdRef(params: Float64Array, grads: ArrayLike<number>, config: SgdRefConfig): void {
  checkLength('grads', grads, params.length, '[params.length]');
  const decayCount = resolveDecayCount(config, params.length);
  const { lr, weightDecay = 0 } = config;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] + (i < decayCount ? weightDecay * params[i] : 0);
    params[i] -= lr * g;
  }
}

/** v = μ·v + (g + wd·w);  w −= lr·v. */
export function momentumRef(
  params: Float64Array,
  grads: ArrayLike<number>,
  velocity: Float64Array,
  config: MomentumRefConfig,
): void {
  checkLength('grads', grads, params.length, '[params.length]');
  checkLength('velocity', velocity, params.length, '[params.length]');
  const decayCount = resolveDecayCount(config, params.length);
  const { lr, momentum, weightDecay = 0 } = config;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] + (i < decayCount ? weightDecay * params[i] : 0);
    velocity[i] = momentum * velocity[i] + g;
    params[i] -= lr * velocity[i];
  }
}

/** One Adam (or AdamW: `decoupled`) update at step t = config.step (1-based), with bias-corrected moments. */
export function adamRef(
  params: Float64Array,
  grads: ArrayLike<number>,
  m: Float64Array,
  v: Float64Array,
  config: AdamRefConfig,
): void {
  checkLength('grads', grads, params.length, '[params.length]');
  checkLength('m', m, params.length, '[params.length]');
  checkLength('v', v, params.length, '[params.length]');
  const { lr, beta1, beta2, eps, step, weightDecay = 0, decoupled = false } = config;
  if (!Number.isInteger(step) || step < 1) {
    throw new Error(`adam step = ${step} must be an integer ≥ 1 (the first update is step 1)`);
  }
  const decayCount = resolveDecayCount(config, params.length);
  const correction1 = 1 - beta1 ** step; // 1 − β1^t
  const correction2 = 1 - beta2 ** step; // 1 − β2^t
  for (let i = 0; i < params.length; i++) {
    const decays = i < decayCount && weightDecay !== 0;
    const g = grads[i] + (decays && !decoupled ? weightDecay * params[i] : 0);
    if (decays && decoupled) params[i] *= 1 - lr * weightDecay;
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    const mHat = m[i] / correction1;
    const vHat = v[i] / correction2;
    params[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
  }
}

function resolveDecayCount(config: SgdRefConfig, n: number): number {
  const { decayCount = n } = config;
  if (!Number.isInteger(decayCount) || decayCount < 0 || decayCount > n) {
    throw new Error(`decayCount = ${decayCount} must be an integer in 0..${n} (the number of decayed elements)`);
  }
  return decayCount;
}
