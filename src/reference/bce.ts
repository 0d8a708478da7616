// bce: sigmoid + binary cross-entropy per output, summed over outputs                          (seed 003)
//   loss[r] = Σ_c −[y log σ(z) + (1 − y) log(1 − σ(z))] = Σ_c max(z, 0) − z·y + log1p(exp(−|z|))
//   dZ = (σ(Z) − Y) / B
// z: [rows, cols] read   targets Y: [rows, cols] in [0, 1]   dZ: [rows, cols] write   loss: [rows] write
// The right-hand form never takes the log of an underflowed σ: exp(−|z|) ≤ 1, so it is finite for any finite z.
// With per-row weights w (loss_weights.ts): loss[r] = w_r·ℓ_r, dZ[r,:] = w_r·(σ(Z_r) − Y_r)/B.
import { checkLength } from './check.js';
import { checkLossRef, weightRef } from './loss_weights.js';

/**
 * The logistic sigmoid 1 / (1 + e^(−z)), stable for any finite z: e^(−|z|) never overflows,
 * so ±1e4 give exactly 1 and 0 rather than NaN.
 */
export function sigmoidRef(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Fused sigmoid + binary cross-entropy, forward and backward.
 * gradOut = (σ(z) − y) / batchSize; lossOut[r] is the row's sum over outputs (not divided by batchSize).
 * With `weights` [rows], row r's gradient and loss are times w_r.
 */
export function sigmoidBceRef(
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  targets: ArrayLike<number>,
  gradOut: Float64Array,
  lossOut: Float64Array,
  batchSize: number = rows,
  weights?: ArrayLike<number>,
): void {
  checkLossRef(z, rows, cols, gradOut, lossOut, batchSize, weights);
  checkLength('targets', targets, rows * cols, '[rows, cols]');
  for (let r = 0; r < rows; r++) {
    const w = weightRef(weights, r);
    let loss = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const zi = z[i];
      const y = targets[i];
      loss += Math.max(zi, 0) - zi * y + Math.log1p(Math.exp(-Math.abs(zi)));
      gradOut[i] = (w * (sigmoidRef(zi) - y)) / batchSize;
    }
    lossOut[r] = w * loss;
  }
}
