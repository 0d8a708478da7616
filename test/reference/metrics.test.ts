import { describe, expect, it } from 'vitest';
import { accumulateStatsRef, emptyStatsRef } from '../../src/reference/metrics.js';

describe('accumulateStatsRef', () => {
  it('sums losses and corrects, counts rows and steps, keeps the last batch-mean loss', () => {
    const stats = emptyStatsRef();
    accumulateStatsRef(stats, [1, 2, 3], [1, 0, 1], 4);
    accumulateStatsRef(stats, [0.5, 0.5], [1, 1], 2);
    expect(stats).toEqual({ lossSum: 7, correct: 4, count: 5, lastLoss: 0.5, steps: 2, nonFinite: 0 });
  });

  it('counts non-finite steps and lets them show in lossSum', () => {
    const stats = emptyStatsRef();
    accumulateStatsRef(stats, [1, Number.NaN], [0, 0], 2);
    accumulateStatsRef(stats, [Number.POSITIVE_INFINITY], [0], 1);
    expect(stats.nonFinite).toBe(2);
    expect(Number.isNaN(stats.lossSum)).toBe(true);
    expect(() => accumulateStatsRef(stats, [1, 2], [1], 2)).toThrow('correct has length 1, expected 2');
  });
});
