import { describe, expect, it } from 'vitest';
import type { Targets } from '../../src/model/spec.js';
import { softmaxRef } from '../../src/reference/softmax.js';
import { softmaxXentRef } from '../../src/reference/softmax_xent.js';
import { mulberry32, randomArray } from '../helpers/random.js';
import { allFinite, centralDiff, FD_REL_TOL, maxAbsDiff, relError } from './numeric.js';

function run(z: ArrayLike<number>, rows: number, cols: number, targets: Targets, batchSize = rows) {
  const grad = new Float64Array(rows * cols);
  const loss = new Float64Array(rows);
  softmaxXentRef(z, rows, cols, targets, grad, loss, batchSize);
  return { grad, loss };
}

function labels(...values: number[]): Targets {
  return { kind: 'labels', labels: Uint32Array.from(values) };
}

/** Random rows on the simplex: soft targets that sum to 1 (up to rounding). */
function softTargets(rows: number, cols: number, seed: number): Float64Array {
  const next = mulberry32(seed);
  const y = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += y[r * cols + c] = next();
    for (let c = 0; c < cols; c++) y[r * cols + c] /= sum;
  }
  return y;
}

describe('softmaxXentRef gradient against finite differences of Σ_r loss[r] / batchSize', () => {
  const [rows, cols] = [5, 7];
  const oneHot = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) oneHot[r * cols + ((3 * r) % cols)] = 1;
  const cases: [string, Targets, number][] = [
    ['labels', labels(0, 6, 3, 3, 1), rows],
    ['one-hot', { kind: 'dense', values: oneHot }, rows],
    ['soft targets', { kind: 'dense', values: softTargets(rows, cols, 4) }, rows],
    ['labels, batchSize 8 ≠ rows', labels(2, 2, 0, 5, 6), 8],
  ];
  for (const [name, targets, batchSize] of cases) {
    it(name, () => {
      const z = Float64Array.from(randomArray(rows * cols, 9, 3));
      const { grad } = run(z, rows, cols, targets, batchSize);
      const meanLoss = (zz: Float64Array): number => {
        const { loss } = run(zz, rows, cols, targets, batchSize);
        return loss.reduce((s, v) => s + v, 0) / batchSize;
      };
      let worst = 0;
      for (let i = 0; i < z.length; i++) {
        const numerical = centralDiff((t) => {
          const zz = z.slice();
          zz[i] = t;
          return meanLoss(zz);
        }, z[i]);
        worst = Math.max(worst, relError(grad[i], numerical));
      }
      expect(worst).toBeLessThan(FD_REL_TOL);
    });
  }
});

describe('softmaxXentRef values', () => {
  it('equals −log softmax(z)[label] for moderate logits, and grad = (p − y)/B', () => {
    const [rows, cols] = [4, 5];
    const z = randomArray(rows * cols, 17, 2);
    const t = labels(4, 0, 2, 2);
    const { grad, loss } = run(z, rows, cols, t);
    const p = new Float64Array(rows * cols);
    softmaxRef(z, rows, cols, p);
    for (let r = 0; r < rows; r++) {
      const label = [4, 0, 2, 2][r];
      expect(loss[r]).toBeCloseTo(-Math.log(p[r * cols + label]), 13);
      for (let c = 0; c < cols; c++) {
        expect(grad[r * cols + c]).toBeCloseTo((p[r * cols + c] - (c === label ? 1 : 0)) / rows, 15);
      }
    }
  });

  it('is finite and exact for logits of ±1e4', () => {
    const z = Float64Array.from([1e4, -1e4, 0, 1e4, -1e4, 0]); // [2, 3]
    const { grad, loss } = run(z, 2, 3, labels(0, 1));
    expect(Array.from(loss)).toEqual([0, 2e4]);
    expect(allFinite(grad)).toBe(true);
    expect(maxAbsDiff(grad, [0, 0, 0, 0.5, -0.5, 0])).toBe(0);
  });

  it('is finite and exact for logits of ±1e30, with labels, one-hot and soft targets', () => {
    const z = Float64Array.from([1e30, -1e30, 1e30, -1e30]); // [2, 2]
    expect(Array.from(run(z, 2, 2, labels(0, 1)).loss)).toEqual([0, 2e30]);
    const oneHot = run(z, 2, 2, { kind: 'dense', values: Float64Array.from([1, 0, 0, 1]) });
    expect(Array.from(oneHot.loss)).toEqual([0, 2e30]);
    expect(Array.from(oneHot.grad)).toEqual([0, 0, 0.5, -0.5]);
    // y = [0.5, 0.5]: logsumexp − Σ y z = 1e30 − 0 = 1e30
    const soft = run(z, 2, 2, { kind: 'dense', values: Float64Array.from([0.5, 0.5, 0.25, 0.75]) });
    expect(soft.loss[0]).toBe(1e30);
    expect(soft.loss[1] / 1.5e30).toBeCloseTo(1, 15); // 0.75·(2·1e30) is one rounding away from 1.5e30
    expect(Array.from(soft.grad)).toEqual([0.25, -0.25, 0.375, -0.375]);
  });

  it('gives log C on all-equal rows, whatever the common value', () => {
    const C = 10;
    for (const v of [0, 3.5, -1e4, 1e4, 1e30, -1e30]) {
      const z = new Float64Array(2 * C).fill(v);
      const { grad, loss } = run(z, 2, C, labels(0, 9));
      expect(loss[0]).toBe(Math.log(C));
      expect(loss[1]).toBe(Math.log(C));
      expect(grad[0]).toBeCloseTo((1 / C - 1) / 2, 16);
      expect(grad[1]).toBeCloseTo(1 / C / 2, 16);
      expect(allFinite(grad)).toBe(true);
    }
  });

  it('handles zero rows: loss log C, grad (1/C − y)/B', () => {
    const C = 4;
    const y = Float64Array.from([0.25, 0.25, 0.25, 0.25, 0, 0, 1, 0]);
    const { grad, loss } = run(new Float64Array(2 * C), 2, C, { kind: 'dense', values: y });
    expect(loss[0]).toBeCloseTo(Math.log(C), 15);
    expect(loss[1]).toBeCloseTo(Math.log(C), 15);
    expect(maxAbsDiff(grad, [0, 0, 0, 0, 0.125, 0.125, -0.375, 0.125])).toBeLessThan(1e-16);
  });

  it('never takes the log of an underflowed probability', () => {
    // softmax(z)[1] underflows to 0 here; log(0) would be −∞, the true loss is 800.
    const { loss, grad } = run(Float64Array.from([400, -400]), 1, 2, labels(1));
    expect(loss[0]).toBe(800);
    expect(Array.from(grad)).toEqual([1, -1]);
  });
});

describe('softmaxXentRef validation', () => {
  it('names the row and value of a label out of range', () => {
    const z = new Float64Array(20 * 10);
    const bad = new Uint32Array(20).fill(3);
    bad[17] = 12;
    expect(() => run(z, 20, 10, { kind: 'labels', labels: bad })).toThrow('labels[17] = 12 is outside 0..9');
    bad[17] = 10;
    expect(() => run(z, 20, 10, { kind: 'labels', labels: bad })).toThrow('labels[17] = 10 is outside 0..9');
    bad[17] = 9;
    expect(() => run(z, 20, 10, { kind: 'labels', labels: bad })).not.toThrow();
  });

  it('rejects labels that are not integers (when the array is not a Uint32Array)', () => {
    const labelsLike = Float64Array.from([0, 1.5]) as unknown as Uint32Array;
    expect(() => run(new Float64Array(6), 2, 3, { kind: 'labels', labels: labelsLike })).toThrow(
      'labels[1] = 1.5 is outside 0..2',
    );
  });

  it('rejects wrong lengths and a non-positive batch size', () => {
    expect(() => run(new Float64Array(6), 2, 3, labels(0))).toThrow('labels has length 1, expected 2');
    expect(() => run(new Float64Array(6), 2, 3, { kind: 'dense', values: new Float64Array(5) })).toThrow(
      'targets.values has length 5, expected 6',
    );
    expect(() => run(new Float64Array(6), 2, 3, labels(0, 0), 0)).toThrow('batchSize = 0 must be a positive number');
  });
});
