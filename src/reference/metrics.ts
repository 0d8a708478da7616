// metrics: running statistics of training steps, the Float64 twin of shaders/metrics.wgsl
//   lossSum += Σ_r loss[r];  correct += Σ_r correct[r];  count += R;  steps += 1
//   lastLoss = Σ_r loss[r] / B;  nonFinite += [Σ_r loss[r] is NaN or ±Inf]
// loss: [R] per-row losses   correct: [R] per-row correct counts
import { checkBatchSize, checkLength } from './check.js';

export interface StatsRef {
  lossSum: number;
  correct: number;
  count: number;
  lastLoss: number;
  steps: number;
  nonFinite: number;
}

export function emptyStatsRef(): StatsRef {
  return { lossSum: 0, correct: 0, count: 0, lastLoss: 0, steps: 0, nonFinite: 0 };
}

/** Folds one step's per-row results into `stats`, in place. */
export function accumulateStatsRef(
  stats: StatsRef,
  loss: ArrayLike<number>,
  correct: ArrayLike<number>,
  batchSize: number,
): void {
  checkLength('correct', correct, loss.length, '[rows] (as loss)');
  checkBatchSize(batchSize);
  let total = 0;
  let right = 0;
  for (let r = 0; r < loss.length; r++) {
    total += loss[r];
    right += correct[r];
  }
  stats.lossSum += total;
  stats.correct += right;
  stats.count += loss.length;
  stats.lastLoss = total / batchSize;
  stats.steps += 1;
  if (!Number.isFinite(total)) stats.nonFinite += 1;
}
