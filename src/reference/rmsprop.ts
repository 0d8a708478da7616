// rmsprop: one in-place update with PyTorch semantics (torch.optim.RMSprop), in Float64
//   g' = g + wd·w   for i < decayCount (the weights), g' = g otherwise (L2, as sgdRef)
//   square_avg = α·square_avg + (1 − α)·g'²
//   grad_avg   = α·grad_avg + (1 − α)·g'                       centered only (else untouched: 0)
//   avg        = sqrt(max(square_avg − grad_avg², 0)) + eps
//   momentum_buffer = μ·momentum_buffer + g'/avg;   w −= lr·momentum_buffer
// With μ = 0 this is torch's w −= lr·g'/avg, and without centered avg = sqrt(square_avg) + eps.
// params, squareAvg, momentumBuffer, gradAvg: [n] Float64 updated in place   grads: [n] read
import { checkLength } from './check.js';

export interface RmspropRefConfig {
  readonly lr: number;
  /** α, the squared gradients' decay. */
  readonly alpha: number;
  readonly eps: number;
  /** μ; 0 for none. */
  readonly momentum: number;
  /** Normalise by the gradients' variance (square_avg − grad_avg²) instead of their second moment. */
  readonly centered: boolean;
  /** L2 coefficient added to the gradient; default 0. */
  readonly weightDecay?: number;
  /** Elements [0, decayCount) get weight decay, the rest not; default all. */
  readonly decayCount?: number;
}

/** One RMSprop update (torch.optim.RMSprop). */
export function rmspropRef(
  params: Float64Array,
  grads: ArrayLike<number>,
  squareAvg: Float64Array,
  momentumBuffer: Float64Array,
  gradAvg: Float64Array,
  config: RmspropRefConfig,
): void {
  const n = params.length;
  for (const [name, a] of [
    ['grads', grads],
    ['squareAvg', squareAvg],
    ['momentumBuffer', momentumBuffer],
    ['gradAvg', gradAvg],
  ] as const) {
    checkLength(name, a, n, '[params.length]');
  }
  const { lr, alpha, eps, momentum, centered, weightDecay = 0, decayCount = n } = config;
  if (!Number.isInteger(decayCount) || decayCount < 0 || decayCount > n) {
    throw new Error(`decayCount = ${decayCount} must be an integer in 0..${n} (the number of decayed elements)`);
  }
  for (let i = 0; i < n; i++) {
    const g = grads[i] + (i < decayCount ? weightDecay * params[i] : 0);
    squareAvg[i] = alpha * squareAvg[i] + (1 - alpha) * g * g;
    if (centered) gradAvg[i] = alpha * gradAvg[i] + (1 - alpha) * g;
    const avg = Math.sqrt(Math.max(squareAvg[i] - gradAvg[i] * gradAvg[i], 0)) + eps;
    momentumBuffer[i] = momentum * momentumBuffer[i] + g / avg;
    params[i] -= lr * momentumBuffer[i];
  }
}
