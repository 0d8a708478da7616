import { describe, expect, it } from 'vitest';
import { biasGradRef } from '../../src/reference/bias_grad.js';

describe('biasGradRef', () => {
  it('sums columns', () => {
    const g = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]); // [3, 3]
    const out = new Float64Array(3).fill(-1);
    biasGradRef(g, 3, 3, out);
    expect(Array.from(out)).toEqual([12, 15, 18]);
  });

  it('handles one row, one column and zero rows', () => {
    const row = new Float64Array(4);
    biasGradRef(Float32Array.from([1, -2, 3, 0.5]), 1, 4, row);
    expect(Array.from(row)).toEqual([1, -2, 3, 0.5]);
    const col = new Float64Array(1);
    biasGradRef(Float64Array.from([1, 2, 3, 4, 5]), 5, 1, col);
    expect(col[0]).toBe(15);
    const empty = new Float64Array(2).fill(7);
    biasGradRef(new Float64Array(0), 0, 2, empty);
    expect(Array.from(empty)).toEqual([0, 0]);
  });
});
