import { describe, expect, it } from 'vitest';
import { sigmoidBceRef, sigmoidRef } from '../../src/reference/bce.js';
import { mulberry32, randomArray } from '../helpers/random.js';
import { allFinite, centralDiff, FD_REL_TOL, relError } from './numeric.js';

function run(z: ArrayLike<number>, rows: number, cols: number, y: ArrayLike<number>, batchSize = rows) {
  const grad = new Float64Array(rows * cols);
  const loss = new Float64Array(rows);
  sigmoidBceRef(z, rows, cols, y, grad, loss, batchSize);
  return { grad, loss };
}

describe('sigmoidBceRef', () => {
  const [rows, cols] = [6, 3];
  const next = mulberry32(5);
  const soft = Float64Array.from({ length: rows * cols }, () => next());
  const hard = Float64Array.from(soft, (v) => (v > 0.5 ? 1 : 0));

  for (const [name, y] of [
    ['soft targets', soft],
    ['0/1 targets', hard],
  ] as const) {
    it(`gradient against finite differences of Σ_r loss[r] / B (${name})`, () => {
      const z = Float64Array.from(randomArray(rows * cols, 6, 4));
      const batchSize = 9;
      const { grad } = run(z, rows, cols, y, batchSize);
      let worst = 0;
      for (let i = 0; i < z.length; i++) {
        const numerical = centralDiff((t) => {
          const zz = z.slice();
          zz[i] = t;
          return run(zz, rows, cols, y, batchSize).loss.reduce((s, v) => s + v, 0) / batchSize;
        }, z[i]);
        worst = Math.max(worst, relError(grad[i], numerical));
      }
      expect(worst).toBeLessThan(FD_REL_TOL);
    });
  }

  it('equals −[y log σ + (1 − y) log(1 − σ)] summed per row, for moderate logits', () => {
    const z = randomArray(rows * cols, 8, 3);
    const { loss, grad } = run(z, rows, cols, soft);
    for (let r = 0; r < rows; r++) {
      let expected = 0;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        const s = sigmoidRef(z[i]);
        expected -= soft[i] * Math.log(s) + (1 - soft[i]) * Math.log(1 - s);
        expect(grad[i]).toBeCloseTo((s - soft[i]) / rows, 15);
      }
      expect(loss[r]).toBeCloseTo(expected, 13);
    }
  });

  it('is finite and exact for logits of ±1e4', () => {
    const z = Float64Array.from([1e4, 1e4, -1e4, -1e4]); // [4, 1]
    const y = Float64Array.from([1, 0, 1, 0]);
    const { loss, grad } = run(z, 4, 1, y);
    expect(Array.from(loss)).toEqual([0, 1e4, 1e4, 0]);
    expect(Array.from(grad)).toEqual([0, 0.25, -0.25, 0]);
    const big = run(Float64Array.from([1e30, -1e30]), 1, 2, Float64Array.from([0.5, 0.5]));
    expect(allFinite(big.loss) && allFinite(big.grad)).toBe(true);
  });

  it('gives log 2 per output at z = 0', () => {
    const { loss, grad } = run(new Float64Array(3), 1, 3, Float64Array.from([0, 1, 0.5]));
    expect(loss[0]).toBeCloseTo(3 * Math.log(2), 15);
    expect(Array.from(grad)).toEqual([0.5, -0.5, 0]);
  });

  it('rejects wrong target lengths', () => {
    expect(() => run(new Float64Array(4), 2, 2, new Float64Array(3))).toThrow('targets has length 3, expected 4');
  });
});
