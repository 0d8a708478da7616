// norm: what LayerNorm and BatchNorm1d share in Float64 (src/reference/layer_norm.ts, batch_norm.ts):
// the mean and biased variance of each group (a row for LayerNorm, a column for BatchNorm) in two passes,
// and y = γ_c·(x − μ)·ρ + β_c with each group's μ and ρ = 1/√(σ² + ε).
// x, y: [R, C] row-major; γ, β: [C]; one μ, ρ per group.
import { checkLength } from './check.js';

/** A norm's groups: each row (`'row'`, LayerNorm) or each column (`'column'`, BatchNorm). */
export type NormAxis = 'row' | 'column';

export interface NormStats {
  /** μ per group. */
  mean: Float64Array;
  /** ρ = 1/√(σ² + ε) per group. */
  rstd: Float64Array;
}

/** Element k of group g, as an index into [R, C]. */
function at(axis: NormAxis, cols: number, g: number, k: number): number {
  return axis === 'row' ? g * cols + k : k * cols + g;
}

/** The mean and biased variance (1/n)·Σ(x − μ)² of each group, two passes. */
export function momentsRef(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  axis: NormAxis,
): { mean: Float64Array; variance: Float64Array } {
  checkLength('x', x, rows * cols, '[R, C]');
  const [groups, n] = axis === 'row' ? [rows, cols] : [cols, rows];
  const mean = new Float64Array(groups);
  const variance = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    let sum = 0;
    for (let k = 0; k < n; k++) sum += x[at(axis, cols, g, k)] as number;
    const mu = sum / n;
    let sq = 0;
    for (let k = 0; k < n; k++) sq += ((x[at(axis, cols, g, k)] as number) - mu) ** 2;
    mean[g] = mu;
    variance[g] = sq / n;
  }
  return { mean, variance };
}

/** ρ = 1/√(σ² + ε) of each variance. */
export function rstdOf(variance: ArrayLike<number>, eps: number): Float64Array {
  return Float64Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
}

/** y = γ_c·(x − μ_g)·ρ_g + β_c, each element with its group's statistics. */
export function affineRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  stats: NormStats,
  rows: number,
  cols: number,
  axis: NormAxis,
  y: Float64Array,
): void {
  checkLength('y', y, rows * cols, '[R, C]');
  checkLength('gamma', gamma, cols, '[C]');
  checkLength('beta', beta, cols, '[C]');
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const g = axis === 'row' ? r : c;
      const i = r * cols + c;
      y[i] =
        (gamma[c] as number) * ((x[i] as number) - (stats.mean[g] as number)) * (stats.rstd[g] as number) +
        (beta[c] as number);
    }
  }
}

/**
 * The whole normalisation of a forward pass from the input's own statistics: each group's moments,
 * ρ, and y = γ_c·(x − μ_g)·ρ_g + β_c. Returns μ and ρ (what a backward needs) and the biased variance.
 */
export function normalizeRef(
  x: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  rows: number,
  cols: number,
  eps: number,
  axis: NormAxis,
  y: Float64Array,
): NormStats & { variance: Float64Array } {
  const { mean, variance } = momentsRef(x, rows, cols, axis);
  const stats = { mean, rstd: rstdOf(variance, eps) };
  affineRef(x, gamma, beta, stats, rows, cols, axis, y);
  return { ...stats, variance };
}
