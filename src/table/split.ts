/**
 * A seeded, shuffled split into training and test (or validation) rows, stratified by class: each
 * class keeps its share in both parts (a file sorted by class still gives a test set of every class).
 *
 * This is not fit's `validationSplit`, which takes the last rows as Keras does (`validation_split`,
 * before any shuffling): right for data already in random order, wrong for a file sorted by class or
 * time. scikit-learn's `train_test_split(..., stratify=y, random_state=seed)` is this helper's model
 * (its rows differ: another generator).
 */
import { checkSeed, permutation } from '../model/random.js';
import { checkOptions, fail } from '../params.js';
import type { TableData } from './encode.js';

export interface SplitOptions {
  /** The fraction of rows in the test part, in (0, 1): ⌈rows × testSize⌉ rows. Default 0.2. */
  testSize?: number;
  /** Seed of the shuffle: the same seed and rows give the same split. Default 0. */
  seed?: number;
  /**
   * Keep each class's share in both parts (each class with at least two rows has one in training).
   * Default: true when class labels are given (classification), false otherwise.
   */
  stratify?: boolean;
}

/** Row indices of the two parts, each in ascending order. */
export interface SplitIndices {
  train: Uint32Array;
  test: Uint32Array;
}

/**
 * The split of `rows` rows (see SplitOptions); `labels` (class indices, one per row) stratify it.
 * For typed arrays: take the rows of each part yourself, or use trainTestSplit for TableData.
 */
export function splitIndices(rows: number, labels?: ArrayLike<number>, options: SplitOptions = {}): SplitIndices {
  checkOptions(options, ['testSize', 'seed', 'stratify'], '{ testSize?, seed?, stratify? }, or nothing');
  const testSize = options.testSize ?? 0.2;
  if (typeof testSize !== 'number' || !(testSize > 0 && testSize < 1)) {
    fail('options.testSize', testSize, 'a fraction in (0, 1), e.g. 0.2');
  }
  const seed = checkSeed('options.seed', options.seed ?? 0);
  const stratify = options.stratify ?? labels !== undefined;
  if (typeof stratify !== 'boolean') fail('options.stratify', stratify, 'true or false');
  if (stratify && labels === undefined) throw new Error('options.stratify needs class labels, one per row');
  if (labels !== undefined && labels.length !== rows) {
    throw new Error(`labels has ${labels.length} entries, expected one per row (${rows})`);
  }
  const nTest = Math.ceil(rows * testSize);
  if (rows < 2 || nTest >= rows) {
    throw new Error(
      `testSize ${testSize} of ${rows} row${rows === 1 ? '' : 's'} leaves ${rows - nTest} to train on and ${nTest} to test: both need at least one row`,
    );
  }
  const order = permutation(rows, seed);
  const isTest = new Uint8Array(rows);
  if (!stratify) {
    for (let i = 0; i < nTest; i++) isTest[order[i]] = 1;
  } else {
    const perClass = quotas(labels as ArrayLike<number>, nTest);
    for (const r of order) {
      const k = (labels as ArrayLike<number>)[r];
      const left = perClass.get(k) ?? 0;
      if (left > 0) {
        isTest[r] = 1;
        perClass.set(k, left - 1);
      }
    }
  }
  const train: number[] = [];
  const test: number[] = [];
  for (let r = 0; r < rows; r++) (isTest[r] ? test : train).push(r);
  return { train: Uint32Array.from(train), test: Uint32Array.from(test) };
}

/**
 * Test rows per class: each class's share of nTest (largest remainders first, then by class), at most
 * all but one of its rows.
 */
function quotas(labels: ArrayLike<number>, nTest: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  const classes = [...counts.keys()].sort((a, b) => a - b);
  const n = labels.length;
  const exact = classes.map((k) => ((counts.get(k) as number) * nTest) / n);
  const take = exact.map(Math.floor);
  let left = nTest - take.reduce((s, v) => s + v, 0);
  const byRemainder = classes.map((_, i) => i).sort((a, b) => exact[b] - take[b] - (exact[a] - take[a]) || a - b);
  for (const i of byRemainder) {
    if (left === 0) break;
    take[i]++;
    left--;
  }
  return new Map(classes.map((k, i) => [k, Math.min(take[i], Math.max(0, (counts.get(k) as number) - 1))]));
}

/**
 * Splits encoded table rows into training and test parts (see SplitOptions): stratified by class for
 * classification unless `stratify: false`, shuffled with `seed`, each part in the table's row order.
 */
export function trainTestSplit(data: TableData, options: SplitOptions = {}): { train: TableData; test: TableData } {
  const { train, test } = splitIndices(data.rows, data.labels, {
    ...options,
    stratify: options.stratify ?? data.labels !== undefined,
  });
  return { train: data.subset(train), test: data.subset(test) };
}
