/**
 * The Float64 twins of LayerNorm and BatchNorm1d (src/reference/layer_norm.ts, batch_norm.ts): by hand,
 * and their backward against finite differences of the forward, for the input and γ, β. The loss is
 * L = Σ y·R with a fixed random R, so that ∂L/∂y = R, what the backward is given.
 */
import { describe, expect, it } from 'vitest';
import { batchNormBackwardRef, batchNormEvalRef, batchNormForwardRef } from '../../src/reference/batch_norm.js';
import { layerNormBackwardRef, layerNormForwardRef } from '../../src/reference/layer_norm.js';
import { randomArray } from '../helpers/random.js';
import { centralDiff, FD_REL_TOL, relError } from './numeric.js';

const EPS = 1e-5;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
};

type Forward = (x: Float64Array, gamma: Float64Array, beta: Float64Array) => Float64Array;

/** The worst relative error of `analytic` against finite differences of L = Σ forward(...)·R, over every element of `which`. */
function fdWorst(
  forward: Forward,
  x: Float64Array,
  gamma: Float64Array,
  beta: Float64Array,
  R: Float64Array,
  which: 'x' | 'gamma' | 'beta',
  analytic: Float64Array,
): number {
  const target = { x, gamma, beta }[which];
  let worst = 0;
  for (let i = 0; i < target.length; i++) {
    const saved = target[i] as number;
    const numerical = centralDiff((t) => {
      target[i] = t;
      const loss = dot(forward(x, gamma, beta), R);
      target[i] = saved;
      return loss;
    }, saved);
    worst = Math.max(worst, relError(analytic[i] as number, numerical));
  }
  return worst;
}

describe('layerNormRef (torch.nn.LayerNorm)', () => {
  it('by hand: a row [1, 2, 3] has μ 2, σ² 2/3; y = γ·(x − μ)/√(σ² + ε) + β', () => {
    const y = new Float64Array(3);
    const { mean, rstd } = layerNormForwardRef([1, 2, 3], [1, 2, 1], [0, 0, 5], 1, 3, EPS, y);
    const rho = 1 / Math.sqrt(2 / 3 + EPS);
    expect(mean[0]).toBe(2);
    expect(rstd[0]).toBeCloseTo(rho, 15);
    expect(Array.from(y)).toEqual([-rho, 0, rho + 5]);
  });

  for (const [rows, cols] of [
    [1, 1],
    [4, 7],
    [3, 33],
  ] as const) {
    it(`backward against finite differences: x, γ and β, [${rows}, ${cols}]`, () => {
      const x = Float64Array.from(randomArray(rows * cols, 1 + cols, 2));
      const gamma = Float64Array.from(randomArray(cols, 2 + cols), (v) => v + 1.2);
      const beta = Float64Array.from(randomArray(cols, 3 + cols));
      const R = Float64Array.from(randomArray(rows * cols, 4 + cols));
      const forward: Forward = (xx, g, b) => {
        const y = new Float64Array(rows * cols);
        layerNormForwardRef(xx, g, b, rows, cols, EPS, y);
        return y;
      };
      const stats = layerNormForwardRef(x, gamma, beta, rows, cols, EPS, new Float64Array(rows * cols));
      const out = { dgamma: new Float64Array(cols), dbeta: new Float64Array(cols), dx: new Float64Array(rows * cols) };
      layerNormBackwardRef(x, gamma, stats, R, rows, cols, out);
      if (cols === 1) {
        // One column: x̂ = 0, y = β whatever x; so ∂L/∂x = 0 and ∂L/∂γ = 0 exactly.
        expect(Array.from(out.dx)).toEqual([0]);
        expect(Array.from(out.dgamma)).toEqual([0]);
      } else {
        expect(fdWorst(forward, x, gamma, beta, R, 'x', out.dx)).toBeLessThan(FD_REL_TOL);
        expect(fdWorst(forward, x, gamma, beta, R, 'gamma', out.dgamma)).toBeLessThan(FD_REL_TOL);
      }
      expect(fdWorst(forward, x, gamma, beta, R, 'beta', out.dbeta)).toBeLessThan(FD_REL_TOL);
    });
  }
});

describe('batchNormRef (torch.nn.BatchNorm1d)', () => {
  it('by hand: a column [1, 3] has μ 2, biased σ² 1 (unbiased 2); the running statistics move by momentum', () => {
    const y = new Float64Array(4);
    const running = { mean: Float64Array.of(0, 10), var: Float64Array.of(1, 1) };
    const f = batchNormForwardRef([1, 5, 3, 5], [1, 1], [0, 0], 2, 2, EPS, 0.1, running, y);
    const rho = 1 / Math.sqrt(1 + EPS);
    expect(Array.from(f.mean)).toEqual([2, 5]);
    expect(f.rstd[0]).toBeCloseTo(rho, 15);
    expect(y[0]).toBeCloseTo(-rho, 15);
    expect(y[2]).toBeCloseTo(rho, 15);
    expect(y[1]).toBe(0); // a constant column: x − μ = 0
    expect(f.running.mean[0]).toBeCloseTo(0.9 * 0 + 0.1 * 2, 15);
    expect(f.running.mean[1]).toBeCloseTo(0.9 * 10 + 0.1 * 5, 15);
    expect(f.running.var[0]).toBeCloseTo(0.9 * 1 + 0.1 * 2, 15); // unbiased: 1·2/(2 − 1)
    expect(f.running.var[1]).toBeCloseTo(0.9, 15);
    expect(Array.from(running.mean)).toEqual([0, 10]); // the given statistics are not modified
  });

  it('a batch of one row: y = β, the running mean moves, the running variance stays (PyTorch refuses such a batch)', () => {
    const y = new Float64Array(2);
    const f = batchNormForwardRef(
      [3, -1],
      [2, 2],
      [0.5, -0.5],
      1,
      2,
      EPS,
      0.1,
      { mean: new Float64Array(2), var: Float64Array.of(4, 4) },
      y,
    );
    expect(Array.from(y)).toEqual([0.5, -0.5]);
    expect(Array.from(f.running.var)).toEqual([4, 4]);
    expect(f.running.mean[0]).toBeCloseTo(0.3, 15);
  });

  it('evaluation uses the running statistics', () => {
    const y = new Float64Array(2);
    batchNormEvalRef([3, 3], [2, 1], [1, 0], 1, 2, EPS, { mean: Float64Array.of(1, 3), var: Float64Array.of(4, 1) }, y);
    expect(y[0]).toBeCloseTo((2 * 2) / Math.sqrt(4 + EPS) + 1, 14);
    expect(y[1]).toBe(0);
  });

  for (const [rows, cols] of [
    [2, 1],
    [7, 4],
    [33, 3],
  ] as const) {
    it(`backward against finite differences: x, γ and β, [${rows}, ${cols}]`, () => {
      const x = Float64Array.from(randomArray(rows * cols, 11 + rows, 2));
      const gamma = Float64Array.from(randomArray(cols, 12 + rows), (v) => v + 1.2);
      const beta = Float64Array.from(randomArray(cols, 13 + rows));
      const R = Float64Array.from(randomArray(rows * cols, 14 + rows));
      const running = { mean: new Float64Array(cols), var: Float64Array.from({ length: cols }, () => 1) };
      const forward: Forward = (xx, g, b) => {
        const y = new Float64Array(rows * cols);
        batchNormForwardRef(xx, g, b, rows, cols, EPS, 0.1, running, y);
        return y;
      };
      const stats = batchNormForwardRef(x, gamma, beta, rows, cols, EPS, 0.1, running, new Float64Array(rows * cols));
      const out = { dgamma: new Float64Array(cols), dbeta: new Float64Array(cols), dx: new Float64Array(rows * cols) };
      batchNormBackwardRef(x, gamma, stats, R, rows, cols, out);
      expect(fdWorst(forward, x, gamma, beta, R, 'x', out.dx)).toBeLessThan(FD_REL_TOL);
      expect(fdWorst(forward, x, gamma, beta, R, 'gamma', out.dgamma)).toBeLessThan(FD_REL_TOL);
      expect(fdWorst(forward, x, gamma, beta, R, 'beta', out.dbeta)).toBeLessThan(FD_REL_TOL);
    });
  }
});
