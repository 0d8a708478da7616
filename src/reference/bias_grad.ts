// bias_grad: db[c] = Σ_r G[r,c], the gradient of a bias broadcast over the batch            (seeds 001, 002, 003)
// g: [rows, cols] read   out: [cols] write
import { checkDim, checkLength } from './check.js';

/** out = column sums of g. g: [rows, cols], out: [cols]. */
export function biasGradRef(g: ArrayLike<number>, rows: number, cols: number, out: Float64Array): void {
  checkDim('rows', rows);
  checkDim('cols', cols);
  checkLength('g', g, rows * cols, '[rows, cols]');
  checkLength('out', out, cols, '[cols]');
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum += g[r * cols + c];
    out[c] = sum;
  }
}
