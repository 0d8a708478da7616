// layer_norm: each row normalised over its columns, then scaled and shifted     (docs/maths.md §10)
//   μ_r = (1/C)·Σ_c x[r,c],   σ²_r = (1/C)·Σ_c (x[r,c] − μ_r)²   (biased, as torch.nn.LayerNorm)
//   x̂[r,c] = (x[r,c] − μ_r)·ρ_r,   ρ_r = 1/√(σ²_r + ε)
//   y[r,c] = γ_c·x̂[r,c] + β_c
// backward, with g = dy·γ (per element):
//   dγ_c = Σ_r dy[r,c]·x̂[r,c],   dβ_c = Σ_r dy[r,c]
//   dx[r,c] = ρ_r·(g[r,c] − mean_c(g[r,:]) − x̂[r,c]·mean_c(g[r,:]·x̂[r,:]))
// x, y, dy, dx: [R, C] row-major; γ, β, dγ, dβ: [C]; μ, ρ: [R] (kept by the forward for the backward).
import { checkLength } from './check.js';
import { type NormStats, normalizeRef } from './norm.js';

export type { NormStats };

/** y = γ·x̂ + β with each row's statistics; returns μ and ρ per row. */
export function layerNormForwardRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
  y: Float64Array,
): NormStats {
  const { mean, rstd } = normalizeRef(x, gamma, beta, rows, cols, eps, 'row', y);
  return { mean, rstd };
}

/** dγ, dβ and dx (when given) from dy and the forward's statistics. */
export function layerNormBackwardRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  stats: NormStats,
  dy: ArrayLike<number>,
  rows: number,
  cols: number,
  out: { dgamma: Float64Array; dbeta: Float64Array; dx?: Float64Array },
): void {
  checkLength('dy', dy, rows * cols, '[R, C]');
  const { dgamma, dbeta, dx } = out;
  dgamma.fill(0);
  dbeta.fill(0);
  for (let r = 0; r < rows; r++) {
    const mu = stats.mean[r];
    const rho = stats.rstd[r];
    let g1 = 0; // Σ_c g
    let g2 = 0; // Σ_c g·x̂
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const xh = (x[i] - mu) * rho;
      dgamma[c] += dy[i] * xh;
      dbeta[c] += dy[i];
      g1 += dy[i] * gamma[c];
      g2 += dy[i] * gamma[c] * xh;
    }
    if (!dx) continue;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const xh = (x[i] - mu) * rho;
      dx[i] = rho * (dy[i] * gamma[c] - g1 / cols - (xh * g2) / cols);
    }
  }
}
