import { describe, expect, it } from 'vitest';
import {
  cloneParamsRef,
  type MlpBackwardRef,
  mlpBackwardRef,
  mlpForwardRef,
  mlpLossRef,
  type RefParams,
  zeroParamsRef,
} from '../../src/model/reference.js';
import type { MlpSpec, Targets } from '../../src/model/spec.js';
import { type OptimizerConfig, resolveOptimizer } from '../../src/optim/index.js';
import { optimizerUpdateRef, RefOptimizerState } from '../../src/optim/reference.js';
import { mlpStepRef } from '../../src/train/cpu.js';
import { mulberry32, randomArray } from '../helpers/random.js';
import { maxAbsDiff } from './numeric.js';

// A [2, 2, 2] ReLU net small enough to do by hand:
//   x = [1, −1], W0 = [[1, 2], [3, 4]], b0 = [0.5, 3]  →  Z0 = [−1.5, 1], A1 = [0, 1]
//   W1 = [[1, 0], [0, 2]], b1 = [0, 0]                  →  logits = [0, 2]
const tiny: MlpSpec = { layers: [2, 2, 2], activations: ['relu'], head: 'softmax' };
function tinyParams(b0: number[]): RefParams {
  return [
    { w: Float64Array.from([1, 2, 3, 4]), b: Float64Array.from(b0) },
    { w: Float64Array.from([1, 0, 0, 2]), b: Float64Array.from([0, 0]) },
  ];
}
const tinyX = Float64Array.from([1, -1]);
const label1: Targets = { kind: 'labels', labels: Uint32Array.from([1]) };

describe('mlp reference on a network small enough to do by hand', () => {
  it('forward', () => {
    const { acts, logits } = mlpForwardRef(tiny, tinyParams([0.5, 3]), tinyX, 1);
    expect(acts.map((a) => Array.from(a))).toEqual([
      [1, -1],
      [0, 1],
    ]);
    expect(Array.from(logits)).toEqual([0, 2]);
    expect(mlpLossRef(tiny, tinyParams([0.5, 3]), tinyX, label1, 1)).toBeCloseTo(Math.log(1 + Math.exp(-2)), 15);
  });

  it('backward: G = P − Y, dW1 = A1ᵀG, G1 = (G·W1ᵀ) ⊙ [A1 > 0], dW0 = xᵀG1, dX = G1·W0ᵀ', () => {
    const out = mlpBackwardRef(tiny, tinyParams([0.5, 3]), tinyX, label1, 1, { inputGrad: true });
    const p1 = Math.exp(2) / (1 + Math.exp(2));
    const g0 = 1 - p1; // P − Y = [p0, p1 − 1]
    const g1 = p1 - 1;
    const close = (a: ArrayLike<number>, b: number[]) => expect(maxAbsDiff(a, b)).toBeLessThan(1e-15);
    close(out.probs, [1 - p1, p1]);
    close(out.dLogits, [g0, g1]);
    close(out.grads[1].w, [0, 0, g0, g1]);
    close(out.grads[1].b, [g0, g1]);
    // G·W1ᵀ = [g0, 2·g1], masked by [A1 > 0] = [0, 1]
    close(out.grads[0].w, [0, 2 * g1, 0, -2 * g1]);
    close(out.grads[0].b, [0, 2 * g1]);
    close(out.dX ?? [], [4 * g1, 8 * g1]);
    expect(out.loss).toBeCloseTo(Math.log(1 + Math.exp(-2)), 15);
    expect(out.lossRows.length).toBe(1);
  });

  it('ReLU exactly at 0 passes no gradient (seed 004: [s1 > 0])', () => {
    // b0 = [2, 3] puts Z0[0] = −2 + 2 at exactly 0: A1 = [0, 1] as before, and unit 0 gets no gradient
    // although G·W1ᵀ is non-zero there.
    const out = mlpBackwardRef(tiny, tinyParams([2, 3]), tinyX, label1, 1);
    expect(out.acts[1][0]).toBe(0);
    expect(out.grads[0].w[0]).toBe(0);
    expect(out.grads[0].w[2]).toBe(0);
    expect(out.grads[0].b[0]).toBe(0);
    expect(out.grads[1].b[0]).not.toBe(0);
    expect(out.dX).toBeUndefined();
  });
});

describe('mlpStepRef', () => {
  const spec: MlpSpec = { layers: [4, 8, 3], activations: ['tanh'], head: 'softmax' };
  const batch = 16;
  const x = randomArray(batch * 4, 101);
  // Learnable labels: the argmax of a fixed linear map of x.
  const teacher = randomArray(4 * 3, 102);
  const labels = new Uint32Array(batch);
  for (let r = 0; r < batch; r++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < 3; c++) {
      let score = 0;
      for (let d = 0; d < 4; d++) score += x[r * 4 + d] * teacher[d * 3 + c];
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    labels[r] = best;
  }
  const targets: Targets = { kind: 'labels', labels };
  function initParams(): RefParams {
    const params = zeroParamsRef(spec);
    params.forEach((p, l) => {
      p.w.set(randomArray(p.w.length, 200 + l, 0.5));
      p.b.set(randomArray(p.b.length, 300 + l, 0.1));
    });
    return params;
  }

  it('sgd: params −= lr·grads, and the returned loss is the loss before the update', () => {
    const params = initParams();
    const { loss, grads } = mlpBackwardRef(spec, params, x, targets, batch);
    const before = cloneParamsRef(params);
    const state = new RefOptimizerState(spec, resolveOptimizer({ kind: 'sgd', learningRate: 0.3 }));
    expect(mlpStepRef(spec, params, x, targets, batch, state)).toBe(loss);
    expect(state.step).toBe(1);
    for (let l = 0; l < params.length; l++) {
      const expectedW = before[l].w.map((w, i) => w - 0.3 * grads[l].w[i]);
      const expectedB = before[l].b.map((b, i) => b - 0.3 * grads[l].b[i]);
      expect(maxAbsDiff(params[l].w, expectedW)).toBe(0);
      expect(maxAbsDiff(params[l].b, expectedB)).toBe(0);
    }
  });

  const configs: OptimizerConfig[] = [
    { kind: 'sgd', learningRate: 0.5 },
    { kind: 'momentum', learningRate: 0.1, momentum: 0.9 },
    { kind: 'adam', learningRate: 0.02 },
    { kind: 'adam', learningRate: 0.02, weightDecay: 1e-3 },
    { kind: 'adamw', learningRate: 0.02, weightDecay: 1e-2 },
    { kind: 'rmsprop', learningRate: 0.01, centered: true, momentum: 0.5 },
  ];
  for (const config of configs) {
    it(`${config.kind}${config.weightDecay ? ' with weight decay' : ''} drives the loss down`, () => {
      const params = initParams();
      const state = new RefOptimizerState(spec, resolveOptimizer(config));
      const first = mlpStepRef(spec, params, x, targets, batch, state);
      let last = first;
      for (let i = 0; i < 100; i++) last = mlpStepRef(spec, params, x, targets, batch, state);
      expect(state.step).toBe(101);
      expect(last).toBeLessThan(0.5 * first);
    });
  }

  it('weight decay shrinks every W and leaves every b alone', () => {
    const params = initParams();
    const before = cloneParamsRef(params);
    const state = new RefOptimizerState(spec, resolveOptimizer({ kind: 'sgd', learningRate: 0.1, weightDecay: 0.5 }));
    optimizerUpdateRef(state, params, zeroParamsRef(spec));
    for (let l = 0; l < params.length; l++) {
      const shrunk = before[l].w.map((w) => w * (1 - 0.05)); // w −= lr·wd·w
      expect(maxAbsDiff(params[l].w, shrunk)).toBeLessThan(1e-16);
      expect(Array.from(params[l].b)).toEqual(Array.from(before[l].b));
    }
  });
});

describe('mlp reference with per-row loss weights', () => {
  // Every head, on a small network: labels, soft rows, 0/1 outputs, values.
  const next = mulberry32(5);
  const B = 5;
  const heads: { spec: MlpSpec; targets: Targets }[] = [
    {
      spec: { layers: [3, 4, 3], activations: ['tanh'], head: 'softmax' },
      targets: { kind: 'labels', labels: Uint32Array.from([0, 2, 1, 1, 0]) },
    },
    {
      spec: { layers: [3, 4, 2], activations: ['relu'], head: 'sigmoid' },
      targets: { kind: 'dense', values: Float64Array.from({ length: B * 2 }, () => (next() < 0.5 ? 0 : 1)) },
    },
    {
      spec: { layers: [3, 4, 2], activations: ['gelu'], head: 'mse' },
      targets: { kind: 'dense', values: Float64Array.from({ length: B * 2 }, () => next() * 4 - 2) },
    },
    {
      spec: { layers: [3, 4, 2], activations: ['tanh'], head: { name: 'huber', delta: 0.3 } },
      targets: { kind: 'dense', values: Float64Array.from({ length: B * 2 }, () => next() * 4 - 2) },
    },
  ];
  const headName = (spec: MlpSpec) => (typeof spec.head === 'string' ? spec.head : spec.head.name);
  /** The same loss and gradients, bit for bit. */
  const expectSameLossAndGrads = (a: MlpBackwardRef, b: MlpBackwardRef) => {
    expect(a.loss).toBe(b.loss);
    a.grads.forEach((g, l) => {
      expect(Array.from(g.w)).toEqual(Array.from(b.grads[l].w));
      expect(Array.from(g.b)).toEqual(Array.from(b.grads[l].b));
    });
  };

  for (const { spec, targets } of heads) {
    it(`${headName(spec)}: the loss is (1/B)·Σ_r w_r·ℓ_r, all-ones weights change nothing, a zero weight removes the row`, () => {
      const params = zeroParamsRef(spec);
      params.forEach((p, l) => {
        p.w.set(randomArray(p.w.length, 10 + l));
        p.b.set(randomArray(p.b.length, 20 + l, 0.5));
      });
      const x = randomArray(B * 3, 30);
      const plain = mlpBackwardRef(spec, params, x, targets, B);
      const ones = mlpBackwardRef(spec, params, x, targets, B, { weights: new Float64Array(B).fill(1) });
      expectSameLossAndGrads(ones, plain);

      const weights = Float64Array.from([2, 0, 0.5, 1, 3]);
      const got = mlpBackwardRef(spec, params, x, targets, B, { weights });
      let expected = 0;
      for (let r = 0; r < B; r++) expected += (weights[r] * plain.lossRows[r]) / B;
      expect(got.loss).toBeCloseTo(expected, 14);
      const C = spec.layers[spec.layers.length - 1];
      for (let i = 0; i < B * C; i++) {
        expect(got.dLogits[i]).toBeCloseTo(weights[Math.floor(i / C)] * plain.dLogits[i], 15);
      }
      // Row 1 (weight 0) has no influence: other inputs there give the very same gradients.
      const moved = Float64Array.from(x);
      moved.set([9, -9, 9], 3);
      expectSameLossAndGrads(mlpBackwardRef(spec, params, moved, targets, B, { weights }), got);
    });
  }

  it('refuses weights of the wrong length', () => {
    const { spec, targets } = heads[0];
    expect(() => mlpLossRef(spec, zeroParamsRef(spec), new Float64Array(B * 3), targets, B, [1, 2])).toThrow(
      'weights has length 2, expected 5 for shape [rows]',
    );
  });
});

describe('mlp reference validation', () => {
  const spec: MlpSpec = { layers: [3, 4, 2], activations: ['relu'], head: 'sigmoid' };
  const params = zeroParamsRef(spec);

  it('refuses labels for the sigmoid head', () => {
    const labels: Targets = { kind: 'labels', labels: Uint32Array.from([0, 1]) };
    expect(() => mlpLossRef(spec, params, new Float64Array(6), labels, 2)).toThrow(
      'the sigmoid head needs dense targets',
    );
  });

  it('names what is wrong with a spec, the params or x', () => {
    const next = mulberry32(1);
    const dense: Targets = { kind: 'dense', values: Float64Array.from({ length: 4 }, () => next()) };
    expect(() => mlpLossRef({ ...spec, activations: [] }, params, new Float64Array(6), dense, 2)).toThrow(
      'spec has 1 hidden layers but 0 activations',
    );
    expect(() => mlpLossRef(spec, params.slice(0, 1), new Float64Array(6), dense, 2)).toThrow(
      'params has 1 layers, expected 2',
    );
    expect(() => mlpLossRef(spec, params, new Float64Array(5), dense, 2)).toThrow('x has length 5, expected 6');
  });
});
