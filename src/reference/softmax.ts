// softmax: P[r,c] = exp(Z[r,c] − m_r) / Σ_k exp(Z[r,k] − m_r),  m_r = max_k Z[r,k]       (seeds 000, 001, 004)
// z: [rows, cols] read   out: [rows, cols] write
// Subtracting the row maximum leaves P unchanged and keeps every exp() in (0, 1]: no overflow.
import { checkDim, checkLength } from './check.js';

/** out = softmax(z) row-wise. z, out: [rows, cols]. */
export function softmaxRef(z: ArrayLike<number>, rows: number, cols: number, out: Float64Array): void {
  checkDim('rows', rows);
  checkDim('cols', cols);
  checkLength('z', z, rows * cols, '[rows, cols]');
  checkLength('out', out, rows * cols, '[rows, cols]');
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, z[row + c]);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      out[row + c] = Math.exp(z[row + c] - max);
      sum += out[row + c];
    }
    for (let c = 0; c < cols; c++) out[row + c] /= sum;
  }
}
