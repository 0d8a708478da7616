/**
 * Checks of a batch (inputs and targets) against a network, before any GPU work: shapes, finite
 * inputs, labels in range, and dense targets as the head wants them (probabilities for softmax and
 * sigmoid, finite values for regression). One place, used by steps, checks, evaluation and data sets.
 */

import { headOf } from '../model/heads/index.js';
import type { MlpSpec, Targets } from '../model/spec.js';
import { formatValue } from '../params.js';

/** Rows in a batch of inputs x: [rows, D]. */
export function inferRows(x: Float32Array, D: number): number {
  if (x.length % D !== 0 || x.length === 0) {
    throw new Error(
      `x has ${x.length} values, expected a positive multiple of the input width ${D} (x is [rows, ${D}])`,
    );
  }
  return x.length / D;
}

/** Throws on the first NaN or ±Infinity, naming its row and column. */
export function checkFinite(name: string, values: ArrayLike<number>, cols = 1): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      throw new Error(`${name}[${Math.floor(i / cols)}, ${i % cols}] = ${values[i]}: inputs must be finite numbers`);
    }
  }
}

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

/** Checks a batch's shapes, labels and targets before any GPU work. */
export function checkBatch(spec: MlpSpec, x: Float32Array, targets: Targets, rows: number): void {
  const D = spec.layers[0];
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`batch size = ${formatValue(rows)} is invalid: expected an integer ≥ 1`);
  if (x.length !== rows * D)
    throw new Error(`x has ${x.length} values, expected rows × D = ${rows} × ${D} = ${rows * D}`);
  checkTargets(spec, targets, rows);
}
