/**
 * What the LayerNorm and BatchNorm backward kernels share (src/kernels/layer_norm.ts, batch_norm.ts):
 * their arguments — the forward's input and statistics, dy, and the layer below's activation whose
 * derivative they fuse — and the bindings those take in both shaders.
 */
import type { KernelActivation } from './act.js';
import type { BufferRef } from './op.js';

export interface NormBackwardArgs {
  rows: number;
  cols: number;
  /** X: f32 [rows, cols], the forward's input, read. */
  input: BufferRef;
  /** γ: f32 [cols], read. */
  gamma: BufferRef;
  /** The forward's statistics (μ and ρ: LayerNorm's per row, BatchNorm's per column), read. */
  stats: BufferRef;
  /** dy = ∂L/∂y: f32 [rows, cols], read. */
  grad: BufferRef;
  /** The layer below's activation and what its derivative reads (V: f32 [rows, cols]). */
  below: KernelActivation;
  values: BufferRef;
  /** dZ of the layer below: f32 [rows, cols], written. */
  inputGrad: BufferRef;
  /** dγ, dβ: f32 [cols], written. */
  gammaGrad: BufferRef;
  betaGrad: BufferRef;
}

/** The bindings of the input gradient's dispatch, by the names both shaders give them. */
export function normBackwardBindings(args: NormBackwardArgs): Record<string, BufferRef> {
  return { X: args.input, gamma: args.gamma, stats: args.stats, dY: args.grad, V: args.values, dX: args.inputGrad };
}
