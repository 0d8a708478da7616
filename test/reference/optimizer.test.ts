import { describe, expect, it } from 'vitest';
import { adamRef, momentumRef, sgdRef } from '../../src/reference/optimizer.js';

describe('sgdRef', () => {
  it('w −= lr·(g + wd·w), decay only on [0, decayCount)', () => {
    const w = Float64Array.from([1, 2, -3]);
    sgdRef(w, Float32Array.from([0.5, -1, 0.25]), { lr: 0.1, weightDecay: 0.01, decayCount: 2 });
    expect(w[0]).toBeCloseTo(1 - 0.1 * (0.5 + 0.01 * 1), 15); // 0.949
    expect(w[1]).toBeCloseTo(2 - 0.1 * (-1 + 0.01 * 2), 15); // 2.098
    expect(w[2]).toBeCloseTo(-3 - 0.1 * 0.25, 15); // −3.025, not decayed
  });

  it('decays everything by default and nothing with weightDecay 0', () => {
    const w = Float64Array.from([2, 4]);
    sgdRef(w, [0, 0], { lr: 0.5, weightDecay: 0.1 });
    expect(Array.from(w)).toEqual([2 * (1 - 0.05), 4 * (1 - 0.05)]);
    sgdRef(w, [0, 0], { lr: 0.5 });
    expect(Array.from(w)).toEqual([1.9, 3.8]);
  });

  it('rejects a decayCount outside 0..n', () => {
    expect(() => sgdRef(new Float64Array(3), [0, 0, 0], { lr: 1, decayCount: 4 })).toThrow(
      'decayCount = 4 must be an integer in 0..3',
    );
  });
});

describe('momentumRef', () => {
  it('v = μv + g; w −= lr·v, two steps by hand', () => {
    const w = Float64Array.from([1]);
    const v = new Float64Array(1);
    const config = { lr: 0.1, momentum: 0.9 };
    momentumRef(w, [1], v, config); // v = 1, w = 1 − 0.1
    expect(v[0]).toBe(1);
    expect(w[0]).toBeCloseTo(0.9, 15);
    momentumRef(w, [1], v, config); // v = 0.9 + 1 = 1.9, w = 0.9 − 0.19
    expect(v[0]).toBeCloseTo(1.9, 15);
    expect(w[0]).toBeCloseTo(0.71, 15);
  });

  it('adds weight decay to the gradient before the velocity (PyTorch)', () => {
    const w = Float64Array.from([1]);
    const v = new Float64Array(1);
    const config = { lr: 0.1, momentum: 0.9, weightDecay: 0.1 };
    momentumRef(w, [1], v, config); // g' = 1.1, v = 1.1, w = 0.89
    expect(w[0]).toBeCloseTo(0.89, 15);
    momentumRef(w, [1], v, config); // g' = 1 + 0.089, v = 0.99 + 1.089 = 2.079, w = 0.89 − 0.2079
    expect(v[0]).toBeCloseTo(2.079, 15);
    expect(w[0]).toBeCloseTo(0.6821, 15);
  });
});

describe('adamRef', () => {
  const base = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 };

  it('one step from zero state moves each weight by lr·g/(|g| + eps) ≈ lr·sign(g)', () => {
    const g = [0.5, -3, 1e-3, 0];
    const w = Float64Array.from([1, 1, 1, 1]);
    const m = new Float64Array(4);
    const v = new Float64Array(4);
    adamRef(w, g, m, v, { ...base, step: 1 });
    for (let i = 0; i < 4; i++) {
      // m̂ = g, v̂ = g²: the step is lr·g / (|g| + eps)
      expect(w[i]).toBeCloseTo(1 - (base.lr * g[i]) / (Math.abs(g[i]) + base.eps), 15);
      expect(Math.abs(1 - w[i] - base.lr * Math.sign(g[i]))).toBeLessThan(1e-8);
      expect(m[i]).toBeCloseTo(0.1 * g[i], 15);
      expect(v[i]).toBeCloseTo(0.001 * g[i] * g[i], 15);
    }
  });

  it('two steps with bias correction, by hand', () => {
    const w = Float64Array.from([0]);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    const config = { ...base, lr: 0.1 };
    adamRef(w, [1], m, v, { ...config, step: 1 }); // m̂ = 1, v̂ = 1
    expect(w[0]).toBeCloseTo(-0.1 / (1 + 1e-8), 15);
    adamRef(w, [-1], m, v, { ...config, step: 2 });
    // m = 0.09 − 0.1 = −0.01, m̂ = −0.01 / 0.19;  v = 0.000999 + 0.001 = 0.001999, v̂ = 0.001999 / 0.001999 = 1
    expect(m[0]).toBeCloseTo(-0.01, 15);
    expect(v[0]).toBeCloseTo(0.001999, 15);
    expect(w[0]).toBeCloseTo(-0.1 / (1 + 1e-8) + (0.1 * (0.01 / 0.19)) / (1 + 1e-8), 14);
  });

  it('decays only [0, decayCount) through the gradient', () => {
    const w = Float64Array.from([2, 2]);
    adamRef(w, [0, 0], new Float64Array(2), new Float64Array(2), {
      ...base,
      weightDecay: 0.5,
      decayCount: 1,
      step: 1,
    });
    expect(w[0]).toBeCloseTo(2 - base.lr / (1 + base.eps), 15); // g' = 0.5·2 = 1
    expect(w[1]).toBe(2);
  });

  it('requires a 1-based integer step', () => {
    const z = () => new Float64Array(1);
    expect(() => adamRef(z(), [1], z(), z(), { ...base, step: 0 })).toThrow('adam step = 0 must be an integer ≥ 1');
  });
});
