// softmax_xent: loss[r] = logsumexp(Z[r,:]) − Σ_c Y[r,c]·Z[r,c];   dZ = (softmax(Z) − Y) / B   (seeds 000, 002, 004)
// z: [rows, cols] read   targets: labels [rows] or dense Y [rows, cols]   dZ: [rows, cols] write   loss: [rows] write
// With m = max_c Z[r,c] and s = Σ_c exp(Z[r,c] − m), logsumexp = m + log s, so
//   loss[r] = log s − Σ_c Y[r,c]·(Z[r,c] − m) + m·(1 − Σ_c Y[r,c])
// (the last term is 0 when the targets sum to 1: labels, one-hot, soft targets). log(softmax) is
// never evaluated, so an underflowed probability cannot turn into −∞ (seeds README).
// The gradient of exactly this loss is softmax(Z) − Y for any Y (seed 001: r − z); the 1/B is the batch mean (seed 000).
// With per-row weights w (loss_weights.ts): loss[r] = w_r·ℓ_r, dZ[r,:] = w_r·(softmax(Z_r) − Y_r)/B.

import { checkLength } from './check.js';
import { checkLossRef, weightRef } from './loss_weights.js';
import type { Targets } from './targets.js';

/**
 * Throws unless every label is an integer in 0..cols−1, naming the first bad one:
 * `labels[17] = 12 is outside 0..9`.
 */
export function validateLabelsRef(labels: ArrayLike<number>, rows: number, cols: number): void {
  checkLength('labels', labels, rows, '[rows]');
  for (let r = 0; r < rows; r++) {
    const label = labels[r];
    if (!Number.isInteger(label) || label < 0 || label >= cols) {
      throw new Error(
        `labels[${r}] = ${label} is outside 0..${cols - 1}: each label must be an integer class index below ${cols}`,
      );
    }
  }
}

/**
 * Fused softmax + cross-entropy, forward and backward.
 * gradOut = (softmax(z) − y) / batchSize; lossOut[r] = logsumexp(z_r) − Σ_c y_rc z_rc (not divided by batchSize:
 * the batch loss is Σ_r lossOut[r] / batchSize). With `weights` [rows], row r's gradient and loss are times w_r.
 */
export function softmaxXentRef(
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  targets: Targets,
  gradOut: Float64Array,
  lossOut: Float64Array,
  batchSize: number = rows,
  weights?: ArrayLike<number>,
): void {
  checkLossRef(z, rows, cols, gradOut, lossOut, batchSize, weights);
  if (targets.kind === 'labels') validateLabelsRef(targets.labels, rows, cols);
  else checkLength('targets.values', targets.values, rows * cols, '[rows, cols]');

  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    const w = weightRef(weights, r);
    // m = max_c z[r,c];  s = Σ_c exp(z[r,c] − m) ≥ 1
    let m = -Infinity;
    for (let c = 0; c < cols; c++) m = Math.max(m, z[row + c]);
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(z[row + c] - m);

    if (targets.kind === 'labels') {
      const label = targets.labels[r];
      lossOut[r] = w * (Math.log(s) - (z[row + label] - m));
      for (let c = 0; c < cols; c++) {
        const y = c === label ? 1 : 0;
        gradOut[row + c] = (w * (Math.exp(z[row + c] - m) / s - y)) / batchSize;
      }
    } else {
      let ySum = 0;
      let yDotShifted = 0; // Σ_c y_c (z_c − m); terms with y_c = 0 skipped so 0·(−∞) cannot appear
      for (let c = 0; c < cols; c++) {
        const y = targets.values[row + c];
        ySum += y;
        if (y !== 0) yDotShifted += y * (z[row + c] - m);
      }
      lossOut[r] = w * (Math.log(s) - yDotShifted + m * (1 - ySum));
      for (let c = 0; c < cols; c++) {
        gradOut[row + c] = (w * (Math.exp(z[row + c] - m) / s - targets.values[row + c])) / batchSize;
      }
    }
  }
}
