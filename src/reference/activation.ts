// activation: A = act(Z) elementwise, and its backward dZ = dA ⊙ act'(V)              (seed 001; ReLU at 0: seed 004)
// The activation is given as its Float64 pair (forward, grad), from its definition in
// src/model/activations/. The derivative is written in terms of V, the activation's OUTPUT A for
// ReLU, sigmoid, tanh, linear and leaky ReLU (as the GPU backward mask reads it), or its INPUT Z for
// GELU, whose output does not determine its input.
import { checkLength } from './check.js';

/** An activation's Float64 functions: act(x), and act'(x) from v (its output or its input, as it declares). */
export interface ScalarActivation {
  forward(x: number): number;
  grad(v: number): number;
}

/** out = act(z), elementwise. z, out: same length (any shape). */
export function activationForwardRef(act: ScalarActivation, z: ArrayLike<number>, out: Float64Array): void {
  checkLength('out', out, z.length, 'z.length');
  for (let i = 0; i < z.length; i++) {
    out[i] = act.forward(z[i]);
  }
}

/** out = g ⊙ act'(v), elementwise, where v is what the activation's derivative reads. v, g, out: same length. */
export function activationBackwardRef(
  act: ScalarActivation,
  v: ArrayLike<number>,
  g: ArrayLike<number>,
  out: Float64Array,
): void {
  checkLength('g', g, v.length, 'v.length');
  checkLength('out', out, v.length, 'v.length');
  for (let i = 0; i < v.length; i++) {
    out[i] = g[i] * act.grad(v[i]);
  }
}
