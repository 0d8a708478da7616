// gather: out[r,c] = S[j,c]·scale with j = indices[start + r], or `fill` when j ≥ n (the GPU reads nothing then)
// source S: [n, cols]   indices: [≥ start + rows]   out: [rows, cols] write
// Used for the inputs (u8 pixels with scale 1/255, or f32), the labels (cols 1) and dense targets.
import { checkDim, checkLength } from './check.js';

/** out[r·cols + c] = source[indices[start + r]·cols + c]·scale, or fill where that index is ≥ n. */
export function gatherRef(
  source: ArrayLike<number>,
  n: number,
  cols: number,
  indices: ArrayLike<number>,
  start: number,
  rows: number,
  out: Float64Array | Uint32Array,
  scale = 1,
  fill = 0,
): void {
  checkDim('n', n);
  checkDim('cols', cols);
  checkDim('rows', rows);
  checkDim('start', start);
  checkLength('source', source, n * cols, '[n, cols]');
  checkLength('out', out, rows * cols, '[rows, cols]');
  if (indices.length < start + rows) {
    throw new Error(`indices has length ${indices.length}, expected at least start + rows = ${start + rows}`);
  }
  for (let r = 0; r < rows; r++) {
    const j = indices[start + r];
    for (let c = 0; c < cols; c++) {
      out[r * cols + c] = j < n ? source[j * cols + c] * scale : fill;
    }
  }
}
