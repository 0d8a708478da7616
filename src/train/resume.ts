/**
 * Which optimizer settings a run continues with — one rule for `fit` and `npm run train`: the settings
 * so far (a checkpoint's, or the model's) with the hyperparameters given replacing theirs (e.g. a
 * smaller learning rate after a divergence). Naming another optimizer starts it afresh with its
 * defaults, except when resuming a checkpoint, whose optimizer state belongs to its own kind.
 */

import { type OptimizerConfig, type ResolvedOptimizer, resolveOptimizer } from '../optim/index.js';
import { formatValue } from '../params.js';

/** The settings to train with: `given` (undefined entries ignored) over `base`. */
export function resumeOptimizer(
  base: ResolvedOptimizer,
  given: Readonly<OptimizerConfig>,
  from: 'resume' | 'model',
): ResolvedOptimizer {
  const set = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as OptimizerConfig;
  if (set.kind !== undefined && set.kind !== base.kind) {
    if (from === 'resume') {
      throw new Error(
        `options.optimizer = ${formatValue(set.kind)} is invalid: the checkpoint being resumed was trained with ${formatValue(base.kind)}; leave optimizer out or pass that`,
      );
    }
    return resolveOptimizer(set);
  }
  return resolveOptimizer({ ...base, ...set });
}
