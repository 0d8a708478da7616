// gradcheck: the analytic gradient (mlpBackwardRef) against central finite differences of the loss (mlpLossRef),
// for every trained tensor of every layer (dense W, b; a norm's γ, β) and the input. A dropout mask is a
// function of the step's random stream, held fixed: the loss is then a smooth function of the parameters.
//   n_i = [8·(L(θ + h·e_i) − L(θ − h·e_i)) − (L(θ + 2h·e_i) − L(θ − 2h·e_i))] / (12h)
// This is the fourth-order central difference (five-point stencil): its truncation error is O(h⁴), so a
// large step h = 1e-4 keeps it near 1e-16 while the rounding error, about ε·|L|/h ≈ 1e-12, stays small.
// (The plain two-point (L(θ+h) − L(θ−h))/2h with h = 1e-6 leaves ~1e-10 absolute error, too coarse for a
// relative error below 1e-6 on gradient entries of 1e-4.)
//   relError_i = |a_i − n_i| / max(|a_i| + |n_i|, 1e-8)
// The floor keeps entries where both are (near) zero — a dead ReLU unit gives exactly 0 for both — from
// dividing 0 by 0; maxAbsError is reported beside it for entries near that floor.
// Caveat: ReLU has a kink at 0; keep pre-activations further than 2h·max|input| from it or the check is meaningless.
import { cloneParamsRef, mlpBackwardRef, mlpLossRef, type RefParams, type RefRunning } from './reference.js';
import type { MlpSpec, Targets } from './spec.js';

export interface GradCheckEntry {
  /** `params[l].w`, `params[l].b`, `params[l].gamma`, … or `x`. */
  tensor: string;
  /** max_i |a_i − n_i| / max(|a_i| + |n_i|, 1e-8). */
  maxRelError: number;
  /** max_i |a_i − n_i|. */
  maxAbsError: number;
  /** The element where the relative error is largest. */
  worstIndex: number;
}

export interface GradCheckOptions {
  /** The finite-difference step h; default 1e-4 (see the header). */
  eps?: number;
  /** Per-row loss weights [batch]: check the gradient of the weighted loss (1/B)·Σ_r w_r·ℓ_r. */
  weights?: ArrayLike<number>;
  /** The running statistics (networks with BatchNorm; they do not enter the training loss). */
  running?: RefRunning;
  /** The random stream of the step (networks with dropout): the mask is held fixed, as a step's is. */
  random?: { seed: number; step: number };
}

/** Relative errors below this floor of |a| + |n| are measured against the floor instead. */
export const GRADCHECK_REL_FLOOR = 1e-8;

/** Checks ∂L/∂W_l, ∂L/∂b_l for every layer, then ∂L/∂X, against finite differences. Inputs are not modified. */
export function gradCheckRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  options: GradCheckOptions = {},
): GradCheckEntry[] {
  const { eps = 1e-4, weights, running, random } = options;
  const analytic = mlpBackwardRef(spec, params, x, targets, batch, { inputGrad: true, weights, running, random });
  const theta = cloneParamsRef(params);
  const x64 = Float64Array.from(x);
  const loss = (): number => mlpLossRef(spec, theta, x64, targets, batch, weights, { mode: 'train', running, random });

  const report: GradCheckEntry[] = [];
  for (let l = 0; l < theta.length; l++) {
    for (const [key, values] of Object.entries(theta[l] as Record<string, Float64Array>)) {
      report.push(compare(`params[${l}].${key}`, values, analytic.grads[l]?.[key] as Float64Array, loss, eps));
    }
  }
  if (analytic.dX === undefined) throw new Error('mlpBackwardRef returned no dX although inputGrad was asked');
  report.push(compare('x', x64, analytic.dX, loss, eps));
  return report;
}

/** Perturbs each element of `values` in turn (restoring it) and compares the numerical slope to `analytic`. */
function compare(
  tensor: string,
  values: Float64Array,
  analytic: Float64Array,
  loss: () => number,
  h: number,
): GradCheckEntry {
  let maxRelError = 0;
  let maxAbsError = 0;
  let worstIndex = 0;
  for (let i = 0; i < values.length; i++) {
    const saved = values[i];
    const at = (offset: number): number => {
      values[i] = saved + offset;
      return loss();
    };
    const numerical = (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);
    values[i] = saved;

    const a = analytic[i];
    const absError = Math.abs(a - numerical);
    const ratio = absError / Math.max(Math.abs(a) + Math.abs(numerical), GRADCHECK_REL_FLOOR);
    const relError = Number.isNaN(ratio) ? Infinity : ratio; // a NaN anywhere must fail, not hide
    maxAbsError = Math.max(maxAbsError, Number.isNaN(absError) ? Infinity : absError);
    if (relError > maxRelError) {
      maxRelError = relError;
      worstIndex = i;
    }
  }
  return { tensor, maxRelError, maxAbsError, worstIndex };
}
