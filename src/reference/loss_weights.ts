// loss_weights: the per-row weights of the loss heads (shaders/loss_weights.wgsl), for imbalanced data
//   loss[r] = w_r·ℓ_r      dZ[r,:] = w_r·∂ℓ_r/∂Z[r,:] / B      (no weights: w_r = 1)
// so the batch loss Σ_r loss[r] / B = (1/B)·Σ_r w_r·ℓ_r, Keras' "sum over batch size" reduction.
// weights: [rows], finite and ≥ 0 (checked where the user gives them: src/train/weights.ts)
import { checkLength } from './check.js';

/** Throws unless `weights` is absent or holds one weight per row. */
export function checkWeightsRef(weights: ArrayLike<number> | undefined, rows: number): void {
  if (weights !== undefined) checkLength('weights', weights, rows, '[rows]');
}

/** w_r: the row's weight, 1 without weights. */
export function weightRef(weights: ArrayLike<number> | undefined, r: number): number {
  return weights === undefined ? 1 : weights[r];
}
