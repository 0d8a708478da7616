/**
 * The seeded, stratified split (src/table/split.ts): each class keeps its share, the same seed gives
 * the same rows, and a file sorted by class still gives a test part of every class — unlike fit's
 * Keras-style validationSplit, which takes the last rows.
 */
import { describe, expect, it } from 'vitest';
import { encodeTable } from '../../src/table/encode.js';
import { parseCsv } from '../../src/table/read.js';
import { splitIndices, trainTestSplit } from '../../src/table/split.js';

const count = (labels: ArrayLike<number>, rows: ArrayLike<number>, k: number) =>
  Array.from(rows).filter((r) => labels[r] === k).length;

describe('splitIndices', () => {
  // Sorted by class, as many files are: 50 of class 0, 30 of class 1, 20 of class 2.
  const labels = Uint32Array.from({ length: 100 }, (_, i) => (i < 50 ? 0 : i < 80 ? 1 : 2));

  it('keeps every class in proportion, parts disjoint, covering all rows, in ascending order', () => {
    const { train, test } = splitIndices(100, labels, { testSize: 0.2, seed: 1 });
    expect([train.length, test.length]).toEqual([80, 20]);
    expect([0, 1, 2].map((k) => count(labels, test, k))).toEqual([10, 6, 4]);
    expect(new Set([...train, ...test]).size).toBe(100);
    expect([...test]).toEqual([...test].sort((a, b) => a - b));
  });

  it('gives the same rows for the same seed, other rows for another', () => {
    const a = splitIndices(100, labels, { seed: 7 });
    expect(splitIndices(100, labels, { seed: 7 })).toEqual(a);
    expect(splitIndices(100, labels, { seed: 8 }).test).not.toEqual(a.test);
  });

  it('shares the remainder by largest fraction, and never takes the last row of a class', () => {
    const few = Uint32Array.of(0, 0, 0, 1, 1, 2); // ⌈6 × 0.5⌉ = 3: 1.5, 1, 0.5 → 2, 1, 0 (class 2 has one row)
    const { test } = splitIndices(6, few, { testSize: 0.5, seed: 3 });
    expect([0, 1, 2].map((k) => count(few, test, k))).toEqual([2, 1, 0]);
  });

  it('without labels (or stratify: false) draws the rows at random', () => {
    const { train, test } = splitIndices(10, undefined, { testSize: 0.3, seed: 2 });
    expect([train.length, test.length]).toEqual([7, 3]);
    expect(splitIndices(100, labels, { stratify: false, seed: 1 }).test.length).toBe(20);
  });

  it('refuses a bad fraction, too few rows, and labels of another length', () => {
    expect(() => splitIndices(10, undefined, { testSize: 1 })).toThrow(
      'options.testSize = 1 is invalid: expected a fraction in (0, 1), e.g. 0.2',
    );
    expect(() => splitIndices(1, undefined)).toThrow(
      'testSize 0.2 of 1 row leaves 0 to train on and 1 to test: both need at least one row',
    );
    expect(() => splitIndices(3, [0, 1])).toThrow('labels has 2 entries, expected one per row (3)');
    expect(() => splitIndices(3, undefined, { stratify: true })).toThrow('options.stratify needs class labels');
    expect(() => splitIndices(3, undefined, { seed: -1 })).toThrow('options.seed = -1 is invalid');
  });
});

describe('trainTestSplit', () => {
  it('splits encoded rows, keeping where each came from', () => {
    const lines = ['x,y', ...Array.from({ length: 20 }, (_, i) => `${i},${i < 10 ? 'a' : 'b'}`)];
    const data = encodeTable(parseCsv(lines.join('\n'), { name: 's.csv' }), { target: 'y' });
    const { train, test } = trainTestSplit(data, { testSize: 0.25, seed: 4 });
    expect([train.rows, test.rows]).toEqual([15, 5]);
    expect([
      count(test.labels as Uint32Array, [0, 1, 2, 3, 4], 0),
      count(test.labels as Uint32Array, [0, 1, 2, 3, 4], 1),
    ]).toEqual([3, 2]);
    for (let i = 0; i < test.rows; i++) {
      const x = test.inputs[i];
      expect(test.where(i)).toBe(`s.csv line ${x + 2}`);
      expect(test.labels?.[i]).toBe(x < 10 ? 0 : 1);
    }
    expect(test.columns).toBe(data.columns);
  });
});
