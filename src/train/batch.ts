/**
 * Checks of a batch (inputs and targets) against a network, before any GPU work: shapes, finite
 * inputs, labels in range, and dense targets as the head wants them (probabilities for softmax and
 * sigmoid, finite values for regression: model/heads/targets.ts). Used by steps, checks, evaluation and data sets.
 */

import { checkTargets } from '../model/heads/targets.js';
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

/** Checks a batch's shapes, labels and targets before any GPU work. */
export function checkBatch(spec: MlpSpec, x: Float32Array, targets: Targets, rows: number): void {
  const D = spec.layers[0];
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`batch size = ${formatValue(rows)} is invalid: expected an integer ≥ 1`);
  if (x.length !== rows * D)
    throw new Error(`x has ${x.length} values, expected rows × D = ${rows} × ${D} = ${rows * D}`);
  checkTargets(spec, targets, rows);
}
