/**
 * Whether targets suit a network's head: the kinds it takes (labels, dense rows), labels in range,
 * and dense rows as the head's definition wants them (its `checkDense`). Used by the library's
 * inputs, steps, checks and evaluation.
 */
import type { MlpSpec, Targets } from '../spec.js';
import { headOf } from './index.js';

/**
 * Throws unless `targets` suit the network's head for `rows` rows: a kind the head takes, one label
 * per row in 0..C−1, or dense [rows, C] values the head accepts. `name` is used in the messages.
 */
export function checkTargets(spec: MlpSpec, targets: Targets, rows: number, name = 'targets'): void {
  const C = spec.layers[spec.layers.length - 1];
  const head = headOf(spec).definition;
  if (!head.targets.includes(targets.kind)) {
    throw new Error(
      targets.kind === 'labels'
        ? `${name}: class labels need the softmax head; the ${head.name} head takes dense targets [count, ${C}]`
        : `${name}: the ${head.name} head takes ${head.targets.join(' or ')} targets, not ${targets.kind}`,
    );
  }
  if (targets.kind === 'labels') {
    const { labels } = targets;
    if (labels.length !== rows) throw new Error(`labels has ${labels.length} entries, expected one per row (${rows})`);
    for (let i = 0; i < rows; i++) {
      if (labels[i] >= C) throw new Error(`labels[${i}] = ${labels[i]} is outside 0..${C - 1}`);
    }
    return;
  }
  if (targets.values.length !== rows * C) {
    throw new Error(`${name} has ${targets.values.length} values, expected rows × C = ${rows} × ${C} = ${rows * C}`);
  }
  const bad = head.checkDense(targets.values, rows, C);
  if (bad) throw new Error(`${name}${bad}`);
}
