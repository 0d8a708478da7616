// loss_weights: the per-row weights of the loss heads (shaders/loss_weights.wgsl), for imbalanced data
//   loss[r] = w_r·ℓ_r      dZ[r,:] = w_r·∂ℓ_r/∂Z[r,:] / B      (no weights: w_r = 1)
// so the batch loss Σ_r loss[r] / B = (1/B)·Σ_r w_r·ℓ_r, Keras' "sum over batch size" reduction.
// weights: [rows], finite and ≥ 0 (checked where the user gives them: src/train/weights.ts)
import { checkBatchSize, checkDim, checkLength } from './check.js';

/** Throws unless `weights` is absent or holds one weight per row. */
export function checkWeightsRef(weights: ArrayLike<number> | undefined, rows: number): void {
  if (weights !== undefined) checkLength('weights', weights, rows, '[rows]');
}

/** w_r: the row's weight, 1 without weights. */
export function weightRef(weights: ArrayLike<number> | undefined, r: number): number {
  return weights === undefined ? 1 : weights[r];
}

/**
 * The arguments every loss head's reference shares: Z [rows, cols] in, dZ [rows, cols] and the row
 * losses [rows] out, the batch size dividing the gradient, and the optional row weights.
 */
export function checkLossRef(
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  gradOut: Float64Array,
  lossOut: Float64Array,
  batchSize: number,
  weights: ArrayLike<number> | undefined,
): void {
  checkDim('rows', rows);
  checkDim('cols', cols);
  checkBatchSize(batchSize);
  checkLength('z', z, rows * cols, '[rows, cols]');
  checkLength('gradOut', gradOut, rows * cols, '[rows, cols]');
  checkLength('lossOut', lossOut, rows, '[rows]');
  checkWeightsRef(weights, rows);
}
