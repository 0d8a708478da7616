import { describe, expect, it } from 'vitest';
import { ACTIVATIONS } from '../../src/model/spec.js';
import { activationBackwardRef, activationForwardRef } from '../../src/reference/activation.js';
import { sigmoidRef } from '../../src/reference/bce.js';
import { gradFromInput, refAct } from '../helpers/activations.js';
import { randomArray } from '../helpers/random.js';
import { allFinite, centralDiff, FD_REL_TOL, relError } from './numeric.js';

describe('activation backward against finite differences of the forward', () => {
  for (const kind of ACTIVATIONS) {
    it(kind, () => {
      // z in [−4, 4), away from ReLU's kink: finite differences step at most 2h = 2e-4.
      const z = Float64Array.from(randomArray(200, 7, 4)).map((v) => (Math.abs(v) < 1e-2 ? v + 0.1 : v));
      const g = randomArray(200, 8);
      const a = new Float64Array(z.length);
      activationForwardRef(refAct(kind), z, a);
      const dz = new Float64Array(z.length);
      activationBackwardRef(refAct(kind), gradFromInput(kind) ? z : a, g, dz);
      let worst = 0;
      for (let i = 0; i < z.length; i++) {
        // d/dz (g · act(z)) = g · act'(z)
        const numerical = centralDiff((t) => g[i] * refAct(kind).forward(t), z[i]);
        worst = Math.max(worst, relError(dz[i], numerical));
      }
      expect(worst).toBeLessThan(FD_REL_TOL);
    });
  }
});

describe('activation edge cases', () => {
  it('relu: derivative at exactly 0 is 0 (seed 004 convention [s > 0]), and 1 just above', () => {
    const z = Float64Array.from([0, -0, 1e-300, -1e-300]);
    const a = new Float64Array(4);
    activationForwardRef(refAct('relu'), z, a);
    expect(Array.from(a)).toEqual([0, 0, 1e-300, 0]);
    const dz = new Float64Array(4);
    activationBackwardRef(refAct('relu'), a, Float64Array.from([5, 5, 5, 5]), dz);
    expect(Array.from(dz)).toEqual([0, 0, 5, 0]);
  });

  it('sigmoid is finite and saturates exactly at ±1e4 (no exp overflow to NaN)', () => {
    expect(sigmoidRef(1e4)).toBe(1);
    expect(sigmoidRef(-1e4)).toBe(0);
    expect(sigmoidRef(-800)).toBe(0);
    expect(sigmoidRef(0)).toBe(0.5);
    const z = Float64Array.from([1e4, -1e4, 1e30, -1e30, 800, -800]);
    const a = new Float64Array(z.length);
    activationForwardRef(refAct('sigmoid'), z, a);
    expect(allFinite(a)).toBe(true);
    const dz = new Float64Array(z.length);
    activationBackwardRef(refAct('sigmoid'), a, new Float64Array(z.length).fill(1), dz);
    expect(Array.from(dz)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('sigmoid is symmetric: σ(−z) = 1 − σ(z)', () => {
    for (const z of [0.1, 1, 5, 20]) expect(sigmoidRef(-z)).toBeCloseTo(1 - sigmoidRef(z), 15);
  });

  it('tanh saturates at ±1e4; linear is the identity with derivative 1', () => {
    expect(refAct('tanh').forward(1e4)).toBe(1);
    expect(refAct('tanh').forward(-1e4)).toBe(-1);
    const z = Float64Array.from([-3, 0, 2.5]);
    const a = new Float64Array(3);
    activationForwardRef(refAct('linear'), z, a);
    expect(Array.from(a)).toEqual([-3, 0, 2.5]);
    const dz = new Float64Array(3);
    activationBackwardRef(refAct('linear'), a, Float64Array.from([1, 2, 3]), dz);
    expect(Array.from(dz)).toEqual([1, 2, 3]);
  });

  it('rejects mismatched lengths', () => {
    expect(() => activationForwardRef(refAct('relu'), new Float64Array(3), new Float64Array(2))).toThrow(
      'out has length 2, expected 3',
    );
  });
});
