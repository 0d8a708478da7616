// activation: A = act(Z) elementwise, and its backward dZ = dA ⊙ act'(A)              (seed 001; ReLU at 0: seed 004)
//   relu:    A = max(Z, 0)           act'(A) = [A > 0]
//   sigmoid: A = 1 / (1 + e^(−Z))    act'(A) = A(1 − A)
//   tanh:    A = tanh(Z)             act'(A) = 1 − A²
//   linear:  A = Z                   act'(A) = 1
// The derivative is written in terms of the activation OUTPUT A, as the GPU backward mask reads it.
// ReLU convention: the derivative at exactly Z = 0 is 0 (seed 004's [s > 0]; seed 002 writes z ≥ 0).
// Since A = max(Z, 0), [A > 0] = [Z > 0], so the output carries everything the mask needs.
import type { Activation } from '../model/spec.js';
import { checkLength } from './check.js';

/**
 * The logistic sigmoid 1 / (1 + e^(−z)), stable for any finite z: e^(−|z|) never overflows,
 * so ±1e4 give exactly 1 and 0 rather than NaN.
 */
export function sigmoidRef(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** act(z) for one value. NaN propagates (relu uses Math.max). */
export function activateRef(kind: Activation, z: number): number {
  switch (kind) {
    case 'relu':
      return Math.max(z, 0);
    case 'sigmoid':
      return sigmoidRef(z);
    case 'tanh':
      return Math.tanh(z);
    case 'linear':
      return z;
    default:
      return unknownActivation(kind);
  }
}

/** act'(z) expressed through the output a = act(z). ReLU: 0 at a = 0 (z ≤ 0). */
export function activationGradFromOutputRef(kind: Activation, a: number): number {
  switch (kind) {
    case 'relu':
      return a > 0 ? 1 : 0;
    case 'sigmoid':
      return a * (1 - a);
    case 'tanh':
      return 1 - a * a;
    case 'linear':
      return 1;
    default:
      return unknownActivation(kind);
  }
}

/** out = act(z), elementwise. z, out: same length (any shape). */
export function activationForwardRef(kind: Activation, z: ArrayLike<number>, out: Float64Array): void {
  checkLength('out', out, z.length, 'z.length');
  for (let i = 0; i < z.length; i++) {
    out[i] = activateRef(kind, z[i]);
  }
}

/** out = g ⊙ act'(a), elementwise, where a is the activation output. a, g, out: same length. */
export function activationBackwardRef(
  kind: Activation,
  a: ArrayLike<number>,
  g: ArrayLike<number>,
  out: Float64Array,
): void {
  checkLength('g', g, a.length, 'a.length');
  checkLength('out', out, a.length, 'a.length');
  for (let i = 0; i < a.length; i++) {
    out[i] = g[i] * activationGradFromOutputRef(kind, a[i]);
  }
}

function unknownActivation(kind: never): never {
  throw new Error(`unknown activation '${String(kind)}': expected relu, sigmoid, tanh or linear`);
}
