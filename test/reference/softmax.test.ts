import { describe, expect, it } from 'vitest';
import { softmaxRef } from '../../src/reference/softmax.js';
import { randomArray } from '../helpers/random.js';
import { allFinite, maxAbsDiff } from './numeric.js';

describe('softmaxRef', () => {
  it('matches exp(z)/Σexp(z) for moderate logits, rows sum to 1', () => {
    const [rows, cols] = [7, 13];
    const z = randomArray(rows * cols, 3, 5);
    const p = new Float64Array(rows * cols);
    softmaxRef(z, rows, cols, p);
    for (let r = 0; r < rows; r++) {
      let naiveSum = 0;
      for (let c = 0; c < cols; c++) naiveSum += Math.exp(z[r * cols + c]);
      let rowSum = 0;
      for (let c = 0; c < cols; c++) {
        expect(p[r * cols + c]).toBeCloseTo(Math.exp(z[r * cols + c]) / naiveSum, 14);
        rowSum += p[r * cols + c];
      }
      expect(rowSum).toBeCloseTo(1, 14);
    }
  });

  it('is finite for huge logits (max-subtracted) and uniform on equal rows', () => {
    const z = Float64Array.from([1e4, -1e4, 0, 1e30, -1e30, 1e30, 7, 7, 7, 0, 0, 0]); // [4, 3]
    const p = new Float64Array(12);
    softmaxRef(z, 4, 3, p);
    expect(allFinite(p)).toBe(true);
    expect(maxAbsDiff(p, [1, 0, 0, 0.5, 0, 0.5, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3])).toBeLessThan(1e-15);
  });

  it('handles a single column (p = 1) and rejects a wrong out length', () => {
    const p = new Float64Array(3);
    softmaxRef(Float64Array.from([-5, 0, 1e30]), 3, 1, p);
    expect(Array.from(p)).toEqual([1, 1, 1]);
    expect(() => softmaxRef(new Float64Array(6), 2, 3, new Float64Array(5))).toThrow('out has length 5');
  });
});
