// regression: the mean-squared-error and Huber heads (shaders/regression.wgsl)
//   d = z − y;   mse: ℓ(d) = d², ℓ'(d) = 2d;   huber: ℓ(d) = ½d² for |d| ≤ δ, δ(|d| − ½δ) beyond, ℓ'(d) = clamp(d, −δ, δ)
//   loss[r] = (1/C)·Σ_c ℓ(d_rc)      dZ = ℓ'(d)/(B·C)
// The batch loss Σ_r loss[r]/B is then the mean over all B·C elements, as torch.nn.MSELoss() and
// torch.nn.HuberLoss(delta) with reduction 'mean' compute it.
// With per-row weights w (loss_weights.ts): loss[r] = w_r·(1/C)·Σ_c ℓ(d_rc), dZ = w_r·ℓ'(d)/(B·C).
// z, y: [rows, cols] read   gradOut: [rows, cols] write   lossOut: [rows] write
import { checkLength } from './check.js';
import { checkLossRef, weightRef } from './loss_weights.js';

/** ℓ and ℓ' of one difference d. */
type Pointwise = (d: number) => { loss: number; grad: number };

function regressionRef(
  pointwise: Pointwise,
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  y: ArrayLike<number>,
  gradOut: Float64Array,
  lossOut: Float64Array,
  batchSize: number,
  weights: ArrayLike<number> | undefined,
): void {
  checkLossRef(z, rows, cols, gradOut, lossOut, batchSize, weights);
  checkLength('targets', y, rows * cols, '[rows, cols]');
  for (let r = 0; r < rows; r++) {
    const w = weightRef(weights, r);
    let sum = 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const { loss, grad } = pointwise(z[i] - y[i]);
      sum += loss;
      gradOut[i] = (w * grad) / (batchSize * cols);
    }
    lossOut[r] = (w * sum) / cols;
  }
}

/** Mean squared error: loss rows (1/C)·Σ d², gradient 2d/(B·C); with `weights`, each row's times w_r. */
export function mseRef(
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  y: ArrayLike<number>,
  gradOut: Float64Array,
  lossOut: Float64Array,
  batchSize: number = rows,
  weights?: ArrayLike<number>,
): void {
  regressionRef((d) => ({ loss: d * d, grad: 2 * d }), z, rows, cols, y, gradOut, lossOut, batchSize, weights);
}

/** Huber loss with threshold δ: loss rows (1/C)·Σ h(d), gradient clamp(d, −δ, δ)/(B·C); with `weights`, each row's times w_r. */
export function huberRef(
  z: ArrayLike<number>,
  rows: number,
  cols: number,
  y: ArrayLike<number>,
  gradOut: Float64Array,
  lossOut: Float64Array,
  batchSize: number = rows,
  delta = 1,
  weights?: ArrayLike<number>,
): void {
  if (!(delta > 0 && Number.isFinite(delta))) throw new Error(`huber delta = ${delta} must be a finite number > 0`);
  const pointwise: Pointwise = (d) =>
    Math.abs(d) <= delta
      ? { loss: 0.5 * d * d, grad: d }
      : { loss: delta * (Math.abs(d) - 0.5 * delta), grad: delta * Math.sign(d) };
  regressionRef(pointwise, z, rows, cols, y, gradOut, lossOut, batchSize, weights);
}
