// batch_norm: each column normalised over the batch, then scaled and shifted   (docs/maths.md §10)
// training (torch.nn.BatchNorm1d in train mode):
//   μ_c = (1/B)·Σ_r x[r,c],   σ²_c = (1/B)·Σ_r (x[r,c] − μ_c)²   (biased: the batch's own variance)
//   x̂[r,c] = (x[r,c] − μ_c)·ρ_c,   ρ_c = 1/√(σ²_c + ε),   y = γ_c·x̂ + β_c
//   running_mean ← (1 − m)·running_mean + m·μ_c
//   running_var  ← (1 − m)·running_var + m·σ²_c·B/(B − 1)   (unbiased, as PyTorch; a batch of one row
//                                                           leaves running_var as it was: see maths.md)
// evaluation: x̂ = (x − running_mean)·1/√(running_var + ε)
// backward (training), with Σ over the batch:
//   dγ_c = Σ_r dy·x̂,   dβ_c = Σ_r dy
//   dx[r,c] = (γ_c·ρ_c/B)·(B·dy[r,c] − Σ_r dy[r,c] − x̂[r,c]·Σ_r dy[r,c]·x̂[r,c])
// x, y, dy, dx: [B, C]; γ, β, running statistics, μ, ρ: [C].
import { checkLength } from './check.js';
import { affineRef, type NormStats, normalizeRef, rstdOf } from './norm.js';

export interface RunningStats {
  mean: Float64Array;
  var: Float64Array;
}

/** Training: y from the batch's statistics; returns μ, ρ per column and the running statistics after. */
export function batchNormForwardRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
  momentum: number,
  running: RunningStats,
  y: Float64Array,
): NormStats & { running: RunningStats } {
  const { mean, rstd, variance } = normalizeRef(x, gamma, beta, rows, cols, eps, 'column', y);
  const stats = { mean, rstd };
  const next = {
    mean: mean.map((mu, c) => (1 - momentum) * (running.mean[c] as number) + momentum * mu),
    // the unbiased variance σ²·B/(B − 1); a batch of one row has none, and leaves running_var as it was
    var: variance.map((v, c) =>
      rows > 1
        ? (1 - momentum) * (running.var[c] as number) + momentum * ((v * rows) / (rows - 1))
        : (running.var[c] as number),
    ),
  };
  return { ...stats, running: next };
}

/** Evaluation: y from the running statistics. */
export function batchNormEvalRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
  running: RunningStats,
  y: Float64Array,
): void {
  checkLength('x', x, rows * cols, '[B, C]');
  affineRef(
    x,
    gamma,
    beta,
    { mean: Float64Array.from(running.mean), rstd: rstdOf(running.var, eps) },
    rows,
    cols,
    'column',
    y,
  );
}

/** dγ, dβ and dx (training) from dy and the forward's batch statistics. */
export function batchNormBackwardRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  stats: NormStats,
  dy: ArrayLike<number>,
  rows: number,
  cols: number,
  out: { dgamma: Float64Array; dbeta: Float64Array; dx?: Float64Array },
): void {
  checkLength('dy', dy, rows * cols, '[B, C]');
  const { dgamma, dbeta, dx } = out;
  for (let c = 0; c < cols; c++) {
    const mu = stats.mean[c];
    const rho = stats.rstd[c];
    let sumDy = 0;
    let sumDyXh = 0;
    for (let r = 0; r < rows; r++) {
      const i = r * cols + c;
      sumDy += dy[i];
      sumDyXh += dy[i] * (x[i] - mu) * rho;
    }
    dgamma[c] = sumDyXh;
    dbeta[c] = sumDy;
    if (!dx) continue;
    const k = (gamma[c] * rho) / rows;
    for (let r = 0; r < rows; r++) {
      const i = r * cols + c;
      dx[i] = k * (rows * dy[i] - sumDy - (x[i] - mu) * rho * sumDyXh);
    }
  }
}
