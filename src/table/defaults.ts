/**
 * How a table is trained when nobody says otherwise: one home for the defaults that `webgpu-mlp train`
 * (src/cli/table_train.ts), the demo's table page (demo/tables.ts) and `npm run bench -- --tables`
 * read, so that the command, the page and the benchmark train a file the same way.
 *
 * The network: one hidden layer of 64 ReLU units, Adam at its default rate, batches of 32. The rows:
 * numeric inputs standardised on the training rows, 20% held out for validation (stratified by class,
 * seeded), early stopping after 20 epochs without a better validation loss with the best epoch
 * restored, and at most `epochsFor(rows, batchSize)` epochs: about TARGET_STEPS steps, 10 to 300 epochs.
 */
import type { ActivationName } from '../model/spec.js';
import type { Scaling } from './preprocessing.js';

export interface TableDefaults {
  /** Hidden layer widths: the network is `[data.features.length, ...hidden, data.outputs.length]`. */
  readonly hidden: readonly number[];
  readonly activation: ActivationName;
  readonly batchSize: number;
  /** fit's optimizer (its learning rate: the optimizer's default, 0.001 for Adam). */
  readonly optimizer: 'adam';
  /** The share of the rows held out for validation (trainTestSplit's testSize): early stopping watches them. */
  readonly validation: number;
  /** Early stopping's patience in epochs (fit's `earlyStopping: { patience }`, best epoch restored). */
  readonly patience: number;
  /** fit's `scaling` of numeric inputs (and regression targets). */
  readonly scaling: Scaling;
  /** The seed of the split, the initial weights and the shuffles. */
  readonly seed: number;
}

export const TABLE_DEFAULTS: TableDefaults = Object.freeze({
  hidden: Object.freeze([64]),
  activation: 'relu',
  batchSize: 32,
  optimizer: 'adam',
  validation: 0.2,
  patience: 20,
  scaling: 'standardize',
  seed: 1,
});

/** Optimizer steps a run aims at when the number of epochs is not given (see epochsFor). */
export const TARGET_STEPS = 3000;
/** The fewest and the most epochs epochsFor gives. */
export const EPOCH_RANGE: readonly [number, number] = Object.freeze([10, 300]) as readonly [number, number];

/**
 * The number of epochs when not given: about TARGET_STEPS steps of `batchSize` rows over `rows` training
 * rows, at least 10 epochs and at most 300 (early stopping usually ends small tables sooner).
 */
export function epochsFor(rows: number, batchSize: number): number {
  const stepsPerEpoch = Math.ceil(rows / Math.max(1, Math.min(batchSize, rows)));
  return Math.max(EPOCH_RANGE[0], Math.min(EPOCH_RANGE[1], Math.ceil(TARGET_STEPS / Math.max(1, stepsPerEpoch))));
}
