// argmax: out[r] = the first c with Z[r,c] = max_k Z[r,k]; and the accuracy count built on it
// z: [rows, cols] read   out: [rows] write
// countCorrect, softmax head: Σ_r [argmax Z[r,:] = label_r]   (or the argmax of the dense target row)
//               sigmoid head: Σ_{r,c} [(Z[r,c] > 0) = (Y[r,c] > 0.5)]   (σ(z) > 0.5 ⇔ z > 0; seed 003)
import type { Targets } from './targets.js';

/** How a head counts what is right: a row per argmax ('softmax'), or every output thresholded ('sigmoid'). */
export type CorrectRule = 'softmax' | 'sigmoid';

import { checkDim, checkLength } from './check.js';
import { validateLabelsRef } from './softmax_xent.js';

/** out[r] = argmax_c z[r,c]; on ties the first (lowest) column wins. z: [rows, cols], out: [rows]. */
export function argmaxRef(z: ArrayLike<number>, rows: number, cols: number, out: Uint32Array): void {
  checkDim('rows', rows);
  checkDim('cols', cols);
  checkLength('z', z, rows * cols, '[rows, cols]');
  checkLength('out', out, rows, '[rows]');
  for (let r = 0; r < rows; r++) out[r] = argmaxRow(z, r * cols, cols);
}

/**
 * Number of correct predictions in a batch of logits z: [rows, cols].
 * softmax: one per row (argmax matches the label, or the argmax of the dense target row);
 * sigmoid: one per output element, z > 0 against y > 0.5 (dense targets only).
 */
export function countCorrectRef(
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  targets: Targets,
  head: CorrectRule,
): number {
  checkDim('rows', rows);
  checkDim('cols', cols);
  checkLength('z', z, rows * cols, '[rows, cols]');
  if (targets.kind === 'labels') validateLabelsRef(targets.labels, rows, cols);
  else checkLength('targets.values', targets.values, rows * cols, '[rows, cols]');

  let correct = 0;
  if (head === 'softmax') {
    for (let r = 0; r < rows; r++) {
      const predicted = argmaxRow(z, r * cols, cols);
      const expected = targets.kind === 'labels' ? targets.labels[r] : argmaxRow(targets.values, r * cols, cols);
      if (predicted === expected) correct++;
    }
  } else {
    if (targets.kind !== 'dense') {
      throw new Error('the sigmoid head needs dense targets [rows, cols] in [0, 1], not labels');
    }
    for (let i = 0; i < rows * cols; i++) {
      const predictedOn = z[i] > 0; // σ(z) > 0.5
      const expectedOn = targets.values[i] > 0.5;
      if (predictedOn === expectedOn) correct++;
    }
  }
  return correct;
}

/**
 * Per-row correctness, as the GPU heads write it; Σ_r out[r] = countCorrectRef(...).
 * softmax: out[r] = 1 when argmax Z[r,:] equals the label (or the argmax of the dense target row), else 0;
 * sigmoid: out[r] = the number of c with (Z[r,c] > 0) = (Y[r,c] > 0.5). out: [rows].
 */
export function correctRowsRef(
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  targets: Targets,
  head: CorrectRule,
  out: Uint32Array,
): void {
  checkLength('out', out, rows, '[rows]');
  countCorrectRef(z, rows, cols, targets, head); // validates shapes, labels and the head/targets pairing
  for (let r = 0; r < rows; r++) {
    if (head === 'softmax') {
      const predicted = argmaxRow(z, r * cols, cols);
      const expected = targets.kind === 'labels' ? targets.labels[r] : argmaxRow(targets.values, r * cols, cols);
      out[r] = predicted === expected ? 1 : 0;
    } else if (targets.kind === 'dense') {
      // sigmoid: σ(z) > 0.5 ⇔ z > 0 (labels were refused above)
      let k = 0;
      for (let c = 0; c < cols; c++) if (z[r * cols + c] > 0 === targets.values[r * cols + c] > 0.5) k++;
      out[r] = k;
    }
  }
}

function argmaxRow(z: ArrayLike<number>, start: number, cols: number): number {
  let best = 0;
  for (let c = 1; c < cols; c++) {
    if (z[start + c] > z[start + best]) best = c;
  }
  return best;
}
