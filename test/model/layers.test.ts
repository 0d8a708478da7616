/**
 * Layers as definitions (src/model/layers/): the spec's hidden-layer objects and network-wide `norm`
 * and `dropout`, the walker's list and the PyTorch nn.Sequential it equals, the parameter layout (a plain
 * network's unchanged), initialisation, the two registries in step, and the Float64 network with every
 * layer kind against finite differences (its gradient check), in training and evaluation.
 */
import { describe, expect, it } from 'vitest';
import { gradCheckRef } from '../../src/model/gradcheck.js';
import { initParams, initRunning } from '../../src/model/init.js';
import { LAYER_REGISTRY, networkLayers } from '../../src/model/layers/index.js';
import { LAYER_SHAPES } from '../../src/model/layers/shapes.js';
import { paramLayout } from '../../src/model/layout.js';
import {
  initRunningRef,
  type MlpForwardRef,
  mlpBackwardRef,
  mlpForwardRef,
  type RefParams,
  zeroParamsRef,
} from '../../src/model/reference.js';
import { type MlpSpec, resolveSpec, specFromJson, specJson, specOptions } from '../../src/model/spec.js';
import { mulberry32, randomArray } from '../helpers/random.js';
import { FD_REL_TOL } from '../reference/numeric.js';

describe('the spec: hidden layers with a norm and dropout', () => {
  it('per-layer objects, network-wide options, canonical forms; a plain spec is what it was', () => {
    expect(resolveSpec({ layers: [784, 256, 10] })).toEqual({
      layers: [784, 256, 10],
      activations: ['relu'],
      head: 'softmax',
    });
    const spec = resolveSpec({
      layers: [784, { units: 256, activation: 'relu', dropout: 0.2 }, { units: 128, norm: 'layer' }, 10],
      activation: 'tanh',
    });
    expect(spec).toEqual({
      layers: [784, 256, 128, 10],
      activations: ['relu', 'tanh'],
      head: 'softmax',
      norms: [null, 'layer'],
      dropouts: [0.2, 0],
    });
    expect(
      resolveSpec({ layers: [4, 8, 8, 2], norm: { name: 'batch', momentum: 0.1, eps: 1e-5 }, dropout: [0, 0.5] }),
    ).toEqual({
      layers: [4, 8, 8, 2],
      activations: ['relu', 'relu'],
      head: 'softmax',
      norms: ['batch', 'batch'],
      dropouts: [0, 0.5],
    });
    // a layer's own setting takes precedence, null included (no norm there)
    const own = resolveSpec({ layers: [4, { units: 8, norm: null }, 8, 2], norm: { name: 'batch', momentum: 0.01 } });
    expect(own.norms).toEqual([null, { name: 'batch', eps: 1e-5, momentum: 0.01 }]);
    // specs round-trip through files and options
    for (const s of [spec, own]) {
      expect(specFromJson(JSON.parse(specJson(s)), 'spec')).toEqual(s);
      expect(resolveSpec(specOptions(s))).toEqual(s);
    }
  });

  it.each([
    [{ layers: [4, { units: 0 }, 2] }, 'options.layers[1].units = 0 is invalid: expected an integer in 1..1048576'],
    [
      { layers: [4, { units: 3, bias: true }, 2] },
      'options.layers[1].bias = true is invalid: expected one of the known options: units, activation, norm, dropout',
    ],
    [
      { layers: [4, { units: 3, norm: 'group' }, 2] },
      "options.layers[1].norm = \"group\" is invalid: expected one of 'layer', 'batch'",
    ],
    [{ layers: [4, 3, 2], dropout: 1 }, 'options.dropout = 1 is invalid: expected a finite number in [0, 1)'],
    [
      { layers: [4, 3, 3, 2], dropout: [0.1] },
      'options.dropout = [0.1] is invalid: expected one probability or 2 (one per hidden layer)',
    ],
    [
      { layers: [4, 3, 2], norm: { name: 'batch', momentum: 2 } },
      'options.norm.momentum = 2 is invalid: expected a finite number in [0, 1]',
    ],
    [{ layers: [{ units: 4 }, 3, 2] }, 'options.layers[0] = {"units":4} is invalid: expected an integer in 1..1048576'],
  ])('refuses %j, naming what was wrong', (options, message) => {
    expect(() => resolveSpec(options as never)).toThrow(message);
  });
});

describe('the walker: the list of layers, and the PyTorch nn.Sequential it equals', () => {
  it('[784, {256, relu, dropout 0.2}, {256, relu, norm layer}, 10]', () => {
    const spec = resolveSpec({
      layers: [784, { units: 256, dropout: 0.2 }, { units: 256, norm: 'layer' }, 10],
      activation: 'relu',
    });
    const layers = networkLayers(spec);
    const modules = layers.map(
      (l) =>
        `${LAYER_SHAPES[l.kind].torch(l)}${l.activation.definition.name === 'linear' ? '' : ` ${l.activation.definition.torch}`}`,
    );
    expect(modules).toEqual([
      'torch.nn.Linear(784, 256) torch.nn.ReLU()',
      'torch.nn.Dropout(p=0.2)',
      'torch.nn.Linear(256, 256)', // a norm follows: the activation moves after it
      'torch.nn.LayerNorm(256, eps=0.00001) torch.nn.ReLU()',
      'torch.nn.Linear(256, 10)',
    ]);
    expect(layers.map((l) => l.block)).toEqual([0, 0, 1, 1, 2]);
  });

  it('the registries agree: every kind has its shape and its full definition, built on it', () => {
    expect(Object.keys(LAYER_REGISTRY).sort()).toEqual(Object.keys(LAYER_SHAPES).sort());
    for (const [kind, shape] of Object.entries(LAYER_SHAPES)) {
      const full = LAYER_REGISTRY[kind as keyof typeof LAYER_REGISTRY];
      for (const key of Object.keys(shape))
        expect(full[key as keyof typeof full], `${kind}.${key}`).toBe(shape[key as keyof typeof shape]);
    }
  });
});

describe('the parameter layout and initialisation', () => {
  it('a plain network: [W_0 | W_1 | b_0 | b_1], aligned to 64 floats, as it always was', () => {
    const layout = paramLayout(resolveSpec({ layers: [3, 5, 2] }));
    expect(layout.tensors.map((t) => [t.name, t.offset, t.count])).toEqual([
      ['layers.0.weight', 0, 15],
      ['layers.0.bias', 128, 5],
      ['layers.1.weight', 64, 10],
      ['layers.1.bias', 192, 2],
    ]);
    expect([layout.decayCount, layout.totalFloats, layout.running.totalFloats]).toEqual([128, 256, 0]);
  });

  it('norms: γ, β after the biases, never decayed; BatchNorm running statistics in their own buffer (mean 0, variance 1)', () => {
    const spec = resolveSpec({ layers: [3, { units: 5, norm: 'batch' }, 2] });
    const layout = paramLayout(spec);
    expect(layout.tensors.map((t) => [t.name, t.offset])).toEqual([
      ['layers.0.weight', 0],
      ['layers.0.bias', 128],
      ['layers.0.norm.weight', 192],
      ['layers.0.norm.bias', 256],
      ['layers.1.weight', 64],
      ['layers.1.bias', 320],
    ]);
    expect(layout.decayCount).toBe(128);
    expect(layout.running.tensors.map((t) => [t.name, t.offset])).toEqual([
      ['layers.0.norm.running_mean', 0],
      ['layers.0.norm.running_var', 64],
    ]);
    const flat = initParams(spec, 1, layout);
    expect(Array.from(flat.subarray(192, 197))).toEqual([1, 1, 1, 1, 1]); // γ
    expect(Array.from(flat.subarray(256, 261))).toEqual([0, 0, 0, 0, 0]); // β
    expect(Array.from(initRunning(layout)?.subarray(64, 69) ?? [])).toEqual([1, 1, 1, 1, 1]);
    // the dense weights are those of the same network without the norm (one stream per layer)
    const plain = initParams(resolveSpec({ layers: [3, 5, 2] }), 1);
    expect(Array.from(flat.subarray(0, 15))).toEqual(Array.from(plain.subarray(0, 15)));
  });
});

/** Random parameters, γ around 1. */
function randomParams(spec: MlpSpec, seed: number): RefParams {
  const params = zeroParamsRef(spec);
  let s = seed;
  for (const p of params) {
    for (const [key, t] of Object.entries(p)) {
      t.set(randomArray(t.length, s++, key === 'w' ? 1 : 0.5));
      if (key === 'gamma') for (let i = 0; i < t.length; i++) t[i] = (t[i] as number) + 1;
    }
  }
  return params;
}

const labels = (batch: number, C: number, seed: number) => {
  const next = mulberry32(seed);
  return { kind: 'labels' as const, labels: Uint32Array.from({ length: batch }, () => Math.floor(next() * C)) };
};

describe('the Float64 network with every layer kind against finite differences', () => {
  const cases: { name: string; options: Parameters<typeof resolveSpec>[0]; batch: number }[] = [
    {
      name: '[4, {7 tanh, layer norm, dropout 0.3}, {6 gelu, batch norm}, 3]',
      batch: 6,
      options: {
        layers: [
          4,
          { units: 7, activation: 'tanh', norm: 'layer', dropout: 0.3 },
          { units: 6, activation: 'gelu', norm: 'batch' },
          3,
        ],
      },
    },
    {
      name: '[5, {8 sigmoid, dropout 0.5}, 2], sigmoid head',
      batch: 7,
      options: { layers: [5, { units: 8, activation: 'sigmoid', dropout: 0.5 }, 2], head: 'sigmoid' },
    },
    {
      name: '[3, {6 tanh, batch norm (momentum 0.3)}, {5 tanh, layer norm}, 2], mse head',
      batch: 5,
      options: {
        layers: [
          3,
          { units: 6, activation: 'tanh', norm: { name: 'batch', momentum: 0.3 } },
          { units: 5, activation: 'tanh', norm: 'layer' },
          2,
        ],
        head: 'mse',
      },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: every tensor's gradient and ∂L/∂X within ${FD_REL_TOL}`, () => {
      const spec = resolveSpec(c.options);
      const params = randomParams(spec, 3);
      const x = randomArray(c.batch * (spec.layers[0] as number), 40, 2);
      const C = spec.layers.at(-1) as number;
      const targets =
        spec.head === 'softmax'
          ? labels(c.batch, C, 5)
          : {
              kind: 'dense' as const,
              values: Float64Array.from(randomArray(c.batch * C, 6), (v) =>
                spec.head === 'sigmoid' ? (v > 0 ? 1 : 0) : v,
              ),
            };
      const report = gradCheckRef(spec, params, x, targets, c.batch, {
        running: initRunningRef(spec),
        random: { seed: 9, step: 4 },
      });
      expect(report.map((r) => r.tensor)).toContain('x');
      // A dense bias that a BatchNorm follows has no effect on the loss (the batch mean takes it out):
      // its gradient is 0, analytic and numerical alike to rounding, where a relative error means nothing.
      const cancelled = new Set(
        networkLayers(spec)
          .filter((l) => l.kind === 'batchNorm')
          .map((l) => `params[${l.block}].b`),
      );
      for (const r of report) {
        if (cancelled.has(r.tensor)) expect(r.maxAbsError, `${r.tensor}: a gradient of 0`).toBeLessThan(1e-9);
        else expect(r.maxRelError, `${r.tensor} (worst at ${r.worstIndex})`).toBeLessThan(FD_REL_TOL);
      }
    });
  }

  it('evaluation skips dropout and uses the running statistics; training draws masks and returns the running statistics after', () => {
    const spec = resolveSpec({ layers: [3, { units: 6, norm: 'batch', dropout: 0.5 }, 2] });
    const params = randomParams(spec, 8);
    const x = randomArray(4 * 3, 1);
    const running = initRunningRef(spec);
    const evaluation = mlpForwardRef(spec, params, x, 4, { mode: 'eval', running });
    const train = (step: number): MlpForwardRef =>
      mlpForwardRef(spec, params, x, 4, { mode: 'train', running, random: { seed: 1, step } });
    expect(evaluation.running).toBeUndefined();
    expect(train(0).running?.[0]?.runningVar).not.toEqual(running[0]?.runningVar);
    expect(Array.from(train(0).logits)).toEqual(Array.from(train(0).logits)); // the same step: the same masks
    expect(Array.from(train(0).logits)).not.toEqual(Array.from(train(1).logits));
    // the dropout layer's output in training: zeros where dropped, the rest scaled by 2
    const t = train(0);
    const before = t.acts[2] as Float64Array; // the norm's output (after ReLU)
    const after = t.acts[3] as Float64Array; // the dropout's
    for (let i = 0; i < after.length; i++) expect([0, 2 * (before[i] as number)]).toContain(after[i]);
    // BatchNorm in training needs the running statistics given
    expect(() => mlpBackwardRef(spec, params, x, labels(4, 2, 1), 4)).toThrow('give options.running');
  });
});
