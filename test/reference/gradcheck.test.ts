import { describe, expect, it } from 'vitest';
import { gradCheckRef } from '../../src/model/gradcheck.js';
import { mlpForwardRef, type RefParams, zeroParamsRef } from '../../src/model/reference.js';
import type { MlpSpec, Targets } from '../../src/model/spec.js';
import { activationOf, layerCount, layerShape } from '../../src/model/spec.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { mulberry32, randomArray } from '../helpers/random.js';
import { FD_REL_TOL } from './numeric.js';

function randomParams(spec: MlpSpec, seed: number): RefParams {
  const params = zeroParamsRef(spec);
  params.forEach((p, l) => {
    p.w.set(randomArray(p.w.length, seed + 2 * l, 1));
    p.b.set(randomArray(p.b.length, seed + 2 * l + 1, 0.5));
  });
  return params;
}

/** Smallest |Z| feeding a ReLU: finite differences are only meaningful away from the kink. */
function minReluPreactivation(spec: MlpSpec, params: RefParams, x: Float32Array, batch: number): number {
  const { acts } = mlpForwardRef(spec, params, x, batch);
  let min = Infinity;
  for (let l = 0; l < layerCount(spec) - 1; l++) {
    if (!['relu', 'leakyRelu'].includes(activationOf(spec, l).definition.name)) continue;
    const { fanIn, fanOut } = layerShape(spec, l);
    const z = new Float64Array(batch * fanOut); // Z_l = acts[l]·W_l + b_l: [B, n_{l+1}]
    matmulRef(acts[l], params[l].w, z, { M: batch, N: fanOut, K: fanIn, bias: params[l].b });
    for (const v of z) min = Math.min(min, Math.abs(v));
  }
  return min;
}

function labelTargets(batch: number, C: number, seed: number): Targets {
  const next = mulberry32(seed);
  return { kind: 'labels', labels: Uint32Array.from({ length: batch }, () => Math.floor(next() * C)) };
}

/** Soft targets: rows on the simplex (softmax head), or independent probabilities (sigmoid head). */
function softTargets(batch: number, C: number, seed: number, normalise: boolean): Targets {
  const next = mulberry32(seed);
  const values = new Float64Array(batch * C);
  for (let r = 0; r < batch; r++) {
    let sum = 0;
    for (let c = 0; c < C; c++) sum += values[r * C + c] = next();
    if (normalise) for (let c = 0; c < C; c++) values[r * C + c] /= sum;
  }
  return { kind: 'dense', values };
}

/** Regression targets: values in [−2, 2). */
function valueTargets(batch: number, C: number, seed: number): Targets {
  const next = mulberry32(seed);
  return { kind: 'dense', values: Float64Array.from({ length: batch * C }, () => next() * 4 - 2) };
}

interface Case {
  name: string;
  spec: MlpSpec;
  batch: number;
  targets: (batch: number, C: number) => Targets;
}

const cases: Case[] = [
  {
    name: '[3, 5, 4] relu, softmax, labels',
    spec: { layers: [3, 5, 4], activations: ['relu'], head: 'softmax' },
    batch: 6,
    targets: (b, c) => labelTargets(b, c, 1),
  },
  {
    name: '[3, 5, 4] relu, softmax, soft targets',
    spec: { layers: [3, 5, 4], activations: ['relu'], head: 'softmax' },
    batch: 6,
    targets: (b, c) => softTargets(b, c, 2, true),
  },
  {
    name: '[4, 7, 6, 3] tanh → sigmoid, softmax, labels',
    spec: { layers: [4, 7, 6, 3], activations: ['tanh', 'sigmoid'], head: 'softmax' },
    batch: 5,
    targets: (b, c) => labelTargets(b, c, 3),
  },
  {
    name: '[4, 7, 6, 3] sigmoid → tanh, softmax, soft targets',
    spec: { layers: [4, 7, 6, 3], activations: ['sigmoid', 'tanh'], head: 'softmax' },
    batch: 5,
    targets: (b, c) => softTargets(b, c, 4, true),
  },
  {
    name: '[2, 8, 1] relu, sigmoid head, soft targets',
    spec: { layers: [2, 8, 1], activations: ['relu'], head: 'sigmoid' },
    batch: 7,
    targets: (b, c) => softTargets(b, c, 5, false),
  },
  {
    name: '[2, 8, 1] tanh, sigmoid head, 0/1 targets',
    spec: { layers: [2, 8, 1], activations: ['tanh'], head: 'sigmoid' },
    batch: 7,
    targets: (b, c) => {
      const t = softTargets(b, c, 6, false);
      return t.kind === 'dense' ? { kind: 'dense', values: t.values.map((v) => (v > 0.5 ? 1 : 0)) } : t;
    },
  },
  {
    name: '[5, 6, 4, 3] relu → linear, sigmoid head (multi-output), soft targets',
    spec: { layers: [5, 6, 4, 3], activations: ['relu', 'linear'], head: 'sigmoid' },
    batch: 4,
    targets: (b, c) => softTargets(b, c, 7, false),
  },
  {
    name: '[4, 7, 6, 3] leakyRelu (slope 0.2) → gelu, softmax, labels',
    spec: { layers: [4, 7, 6, 3], activations: [{ name: 'leakyRelu', slope: 0.2 }, 'gelu'], head: 'softmax' },
    batch: 5,
    targets: (b, c) => labelTargets(b, c, 9),
  },
  {
    name: '[3, 6, 2] gelu, mse head (regression)',
    spec: { layers: [3, 6, 2], activations: ['gelu'], head: 'mse' },
    batch: 6,
    targets: (b, c) => valueTargets(b, c, 10),
  },
  {
    name: '[3, 6, 5, 2] leakyRelu → tanh, huber head (δ 0.3: both branches)',
    spec: { layers: [3, 6, 5, 2], activations: ['leakyRelu', 'tanh'], head: { name: 'huber', delta: 0.3 } },
    batch: 6,
    targets: (b, c) => valueTargets(b, c, 11),
  },
  {
    name: '[3, 4] no hidden layer (logistic regression), softmax, labels',
    spec: { layers: [3, 4], activations: [], head: 'softmax' },
    batch: 3,
    targets: (b, c) => labelTargets(b, c, 8),
  },
];

describe('gradCheckRef: mlpBackwardRef against finite differences of mlpLossRef', () => {
  for (const { name, spec, batch, targets } of cases) {
    it(name, () => {
      const params = randomParams(spec, 1000 + spec.layers.length * 17);
      const x = randomArray(batch * spec.layers[0], 77, 1);
      // Keep clear of ReLU's kink: the check moves one input by at most 2h = 2e-4.
      expect(minReluPreactivation(spec, params, x, batch)).toBeGreaterThan(1e-3);

      const report = gradCheckRef(spec, params, x, targets(batch, spec.layers[spec.layers.length - 1]), batch);
      const names = report.map((e) => e.tensor);
      const expectedNames = params.flatMap((_, l) => [`params[${l}].w`, `params[${l}].b`]).concat('x');
      expect(names).toEqual(expectedNames);
      for (const entry of report) {
        expect(entry.maxRelError, `${entry.tensor}: ${JSON.stringify(entry)}`).toBeLessThan(FD_REL_TOL);
      }
    });
  }

  // The weighted loss (1/B)·Σ_r w_r·ℓ_r (fit's sampleWeights / classWeights): the same check on every head,
  // with a row of weight 0 and weights away from 1.
  const weighted = cases.filter((c) =>
    ['relu, softmax, labels', 'relu, softmax, soft', 'tanh, sigmoid head, 0/1', 'gelu, mse', 'huber head'].some((n) =>
      c.name.includes(n),
    ),
  );
  for (const { name, spec, batch, targets } of weighted) {
    it(`${name}, weighted rows (one of weight 0)`, () => {
      const params = randomParams(spec, 1000 + spec.layers.length * 17);
      const x = randomArray(batch * spec.layers[0], 77, 1);
      expect(minReluPreactivation(spec, params, x, batch)).toBeGreaterThan(1e-3);
      const weights = Float64Array.from({ length: batch }, (_, r) => (r === 1 ? 0 : 0.25 + 1.5 * r));
      const report = gradCheckRef(spec, params, x, targets(batch, spec.layers[spec.layers.length - 1]), batch, {
        weights,
      });
      for (const entry of report) {
        expect(entry.maxRelError, `${entry.tensor}: ${JSON.stringify(entry)}`).toBeLessThan(FD_REL_TOL);
      }
    });
  }

  it('leaves its inputs untouched', () => {
    const spec: MlpSpec = { layers: [3, 5, 4], activations: ['relu'], head: 'softmax' };
    const params = randomParams(spec, 5);
    const x = randomArray(6, 6);
    const before = params.map(({ w, b }) => [Array.from(w), Array.from(b)]);
    const xBefore = Array.from(x);
    gradCheckRef(spec, params, x, labelTargets(2, 4, 1), 2);
    expect(params.map(({ w, b }) => [Array.from(w), Array.from(b)])).toEqual(before);
    expect(Array.from(x)).toEqual(xBefore);
  });

  it('catches a mismatch: a ReLU sitting exactly on its kink fails the check', () => {
    // Z0[0] = 1·1 + (−1)·3 + 2 = 0 exactly. The analytic gradient uses relu'(0) = 0; the central difference
    // sees half the slope from the right, so the check must report a large error for W0 and b0.
    const spec: MlpSpec = { layers: [2, 2, 2], activations: ['relu'], head: 'softmax' };
    const params: RefParams = [
      { w: Float64Array.from([1, 2, 3, 4]), b: Float64Array.from([2, 3]) },
      { w: Float64Array.from([1, 0, 0, 2]), b: Float64Array.from([0, 0]) },
    ];
    const report = gradCheckRef(spec, params, Float32Array.from([1, -1]), labelTargets(1, 2, 3), 1);
    const b0 = report.find((e) => e.tensor === 'params[0].b');
    expect(b0?.maxRelError).toBeGreaterThan(0.1);
    expect(b0?.worstIndex).toBe(0);
  });
});
