/**
 * Loss weights for imbalanced data (issue 14): fit's `sampleWeights` and `classWeights`, applied inside
 * the loss kernels on the GPU. Each training row r weighs w_r = sampleWeights[r] × classWeights[class r]
 * and the loss minimised is (1/B)·Σ_r w_r·ℓ_r. Checked here: weighted steps and whole fits against the
 * Float64 reference, the identities (all-ones weights = no weights, classWeights = the sampleWeights
 * they stand for, a weight-0 row has no influence), what is reported, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { type FitOptions, MLP } from '../../src/mlp.js';
import { headOf } from '../../src/model/heads/index.js';
import { paramLayout } from '../../src/model/layout.js';
import { mlpForwardRef } from '../../src/model/reference.js';
import type { Head } from '../../src/model/spec.js';
import { argmaxRef } from '../../src/reference/argmax.js';
import { checkStep, toRefParams } from '../../src/train/check.js';
import { CpuBatchTrainer, type HostDataset } from '../../src/train/cpu.js';
import { fit } from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { expectClose } from '../helpers/close.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';
import { lossWeights } from '../helpers/rows.js';
import { STEP_TOL, targetsFor, trainBoth } from '../helpers/steps.js';

const gpu = useGpuContext();

const ROWS = 60; // batches of 16: three full ones and one of 12 per epoch
const D = 4;
const RUN = { epochs: 2, batchSize: 16, seed: 3, optimizer: 'momentum', learningRate: 0.05 } as const;

/** A network on the test's context (sharing its compiled pipelines: SwiftShader compiles slowly). */
/** An application's buffer holding `data` (made on the device, not by the network's context, which owns its own). */
function appBuffer(data: Float32Array, usage: GPUBufferUsageFlags): GPUBuffer {
  const buffer = gpu().device.createBuffer({
    size: Math.max(4, data.byteLength),
    usage: usage | GPUBufferUsage.COPY_DST,
  });
  gpu().device.queue.writeBuffer(buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return buffer;
}

async function network(head: Head, C: number, seed = 9): Promise<MLP> {
  return new MLP(await Model.create({ layers: [D, 8, C], activation: 'tanh', head, seed, context: gpu() }));
}

/** Dense targets [ROWS, C] a head takes: soft rows (softmax), 0/1 (sigmoid), values (regression). */
function denseTargets(head: Head, C: number, seed: number): Float32Array {
  const t = targetsFor(head, ROWS, C, seed, true);
  if (t.kind !== 'dense') throw new Error('dense targets expected');
  return Float32Array.from(t.values);
}

/** Every parameter, flat, as the GPU holds it. */
function params(mlp: MLP): Promise<Float32Array> {
  return mlp.model.readParams();
}

/** The same run on the Float64 CPU trainer, from the same initial weights, shuffles and f32 weights. */
async function cpuRun(mlp: MLP, data: HostDataset, seed = 9) {
  const cpu = new CpuBatchTrainer(mlp.model.spec, mlp.model.optimizerConfig, data, undefined, seed);
  const results = await fit(cpu, { epochs: RUN.epochs, batchSize: RUN.batchSize, seed: RUN.seed });
  return { cpu, results };
}

/** The GPU's parameters against the CPU trainer's, to fp32 tolerance; returns the largest error seen. */
async function expectSameAsCpu(mlp: MLP, cpu: CpuBatchTrainer): Promise<number> {
  const got = toRefParams(paramLayout(mlp.model.spec), await params(mlp));
  let worst = 0;
  cpu.params.forEach((p, l) => {
    expectClose(got[l].w, p.w, STEP_TOL, `layers.${l}.weight`);
    expectClose(got[l].b, p.b, STEP_TOL, `layers.${l}.bias`);
    for (const [a, b] of [
      [got[l].w, p.w],
      [got[l].b, p.b],
    ] as const) {
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
  });
  return worst;
}

describe('weighted steps on the GPU against the Float64 reference (every head)', () => {
  const base = { optimizer: { kind: 'momentum', learningRate: 0.05 } as const, batches: [13, 13, 7], weighted: true };
  it('softmax with labels, and with soft targets', async () => {
    await trainBoth({ ...base, layers: [5, 9, 3], activation: 'relu', head: 'softmax' }, gpu());
    await trainBoth({ ...base, layers: [5, 9, 3], activation: 'tanh', head: 'softmax', dense: true }, gpu());
  });

  it('sigmoid, mse and huber', async () => {
    await trainBoth({ ...base, layers: [5, 9, 2], activation: 'relu', head: 'sigmoid' }, gpu());
    await trainBoth({ ...base, layers: [5, 9, 2], activation: 'gelu', head: 'mse' }, gpu());
    await trainBoth({ ...base, layers: [5, 9, 2], activation: 'tanh', head: { name: 'huber', delta: 0.5 } }, gpu());
  });

  it('checkStep with weights: logits, loss and every gradient within fp32 of the reference', async () => {
    const model = await Model.create({ layers: [6, 10, 4], activation: 'relu', seed: 2, context: gpu() });
    const rows = 70; // not a multiple of the loss kernels' 64
    await model.step(randomArray(rows * 6, 1), targetsFor('softmax', rows, 4, 2)); // momentum has state to check
    const report = await checkStep(model, randomArray(rows * 6, 3), targetsFor('softmax', rows, 4, 4), {
      weights: lossWeights(rows, 5),
    });
    console.log(
      `checkStep, weighted softmax [6, 10, 4], 70 rows: worst ${report.worst} maxRel ${report.maxRel.toExponential(2)}`,
    );
    expect(report.maxRel, report.worst).toBeLessThan(1e-4);
    await expect(
      checkStep(model, randomArray(rows * 6, 3), targetsFor('softmax', rows, 4, 4), { weights: new Float32Array(3) }),
    ).rejects.toThrow('weights has 3 values, expected 70 (one per row)');
    await model.destroy();
  });
});

describe('mlp.check with loss weights', () => {
  it("checks the weighted step, the one checkStep checks with the rows' weights", async () => {
    const mlp = await network('softmax', 3);
    const x = randomArray(20 * D, 6);
    const labels = randomInts(20, 7, 3);
    const sampleWeights = lossWeights(20, 8);
    const classWeights = [1, 4, 0.5];
    const weighted = await mlp.check(x, labels, { sampleWeights, classWeights });
    expect(weighted.maxRel, weighted.worst).toBeLessThan(1e-4);
    const rows = Float32Array.from(labels, (c, r) => sampleWeights[r] * classWeights[c]);
    const direct = await checkStep(mlp.model, x, { kind: 'labels', labels }, { weights: rows });
    expect(weighted).toEqual(direct);
    expect(await mlp.check(x, labels)).not.toEqual(direct);
    await expect(mlp.check(x, labels, { sampleWeights: new Float32Array(3) })).rejects.toThrow(
      'options.sampleWeights has 3 values, expected 20',
    );
    await expect(mlp.check(x, labels, { weights: [] } as never)).rejects.toThrow(/options\.weights/);
    await mlp.destroy();
  });
});

describe('fit with sampleWeights and classWeights', () => {
  const x = randomArray(ROWS * D, 1);
  const labels = randomInts(ROWS, 2, 3);
  const sampleWeights = lossWeights(ROWS, 3); // zeros included
  const classWeights = [1, 4, 0.5];

  it('equals the Float64 CPU trainer on the same f32 weights; the reported loss is the weighted one', async () => {
    const mlp = await network('softmax', 3);
    const results = await mlp.fit(x, labels, { ...RUN, sampleWeights, classWeights });
    const weights = Float32Array.from(labels, (c, r) => sampleWeights[r] * classWeights[c]);
    const { cpu, results: ref } = await cpuRun(mlp, {
      images: x,
      labels,
      count: ROWS,
      cols: D,
      classes: 3,
      scale: 1,
      weights,
    });
    const worst = await expectSameAsCpu(mlp, cpu);
    console.log(
      `fit, softmax + sampleWeights × classWeights: largest parameter error vs Float64 ${worst.toExponential(2)}`,
    );
    results.forEach((r, e) => {
      expect(r.trainLoss).toBeCloseTo(ref[e].trainLoss, 5);
      expect(r.trainAccuracy).toBeCloseTo(ref[e].trainAccuracy, 10); // unweighted: the fraction of rows right
    });
    // evaluate() is unweighted: the plain mean loss of the rows.
    const ev = await mlp.evaluate(x, labels);
    const { logits } = mlpForwardRef(mlp.model.spec, toRefParams(mlp.model.layout, await params(mlp)), x, ROWS);
    let plain = 0;
    for (let r = 0; r < ROWS; r++) {
      const z = logits.subarray(3 * r, 3 * r + 3);
      const m = Math.max(...z);
      plain += Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) + m - z[labels[r]];
    }
    expect(ev.loss).toBeCloseTo(plain / ROWS, 5);
    await mlp.destroy();
  });

  it('the regression and sigmoid heads take sampleWeights, and equal the CPU trainer', async () => {
    for (const head of ['mse', 'sigmoid'] as const) {
      const values = denseTargets(head, 2, 4);
      const mlp = await network(head, 2);
      await mlp.fit(x, values, { ...RUN, sampleWeights: Array.from(sampleWeights) });
      const data = { images: x, targets: values, count: ROWS, cols: D, classes: 2, scale: 1, weights: sampleWeights };
      const worst = await expectSameAsCpu(mlp, (await cpuRun(mlp, data)).cpu);
      console.log(`fit, ${head} + sampleWeights: largest parameter error vs Float64 ${worst.toExponential(2)}`);
      await mlp.destroy();
    }
  });

  it('weights all 1 give the parameters of no weights, bit for bit (labels and dense targets)', async () => {
    for (const [head, targets] of [
      ['softmax', labels],
      ['mse', randomArray(ROWS * 3, 5)],
    ] as const) {
      const plain = await network(head, 3);
      const ones = await network(head, 3);
      await plain.fit(x, targets, RUN);
      await ones.fit(x, targets, { ...RUN, sampleWeights: new Float64Array(ROWS).fill(1) });
      expect(Array.from(await params(ones)), head).toEqual(Array.from(await params(plain)));
      if (head === 'softmax') {
        const cw = await network(head, 3);
        await cw.fit(x, targets, { ...RUN, classWeights: [1, 1, 1] });
        expect(Array.from(await params(cw))).toEqual(Array.from(await params(plain)));
        await cw.destroy();
      }
      await plain.destroy();
      await ones.destroy();
    }
  });

  it('classWeights equal the sampleWeights built from the labels, bit for bit (and from dense rows: the argmax)', async () => {
    const byClass = await network('softmax', 3);
    const bySample = await network('softmax', 3);
    await byClass.fit(x, labels, { ...RUN, classWeights });
    await bySample.fit(x, labels, { ...RUN, sampleWeights: Array.from(labels, (c) => classWeights[c]) });
    expect(Array.from(await params(byClass))).toEqual(Array.from(await params(bySample)));

    // Soft targets: a row's class is the first argmax of its target row.
    const values = denseTargets('softmax', 3, 6);
    const classes = new Uint32Array(ROWS);
    argmaxRef(values, ROWS, 3, classes);
    const denseByClass = await network('softmax', 3);
    const denseBySample = await network('softmax', 3);
    await denseByClass.fit(x, values, { ...RUN, classWeights, sampleWeights });
    await denseBySample.fit(x, values, {
      ...RUN,
      sampleWeights: Float32Array.from(classes, (c, r) => sampleWeights[r] * classWeights[c]),
    });
    expect(Array.from(await params(denseByClass))).toEqual(Array.from(await params(denseBySample)));
    for (const m of [byClass, bySample, denseByClass, denseBySample]) await m.destroy();
  });

  it('a row of weight 0 has no influence: other inputs and labels there train the same parameters', async () => {
    const zero = Array.from(sampleWeights.keys()).filter((r) => sampleWeights[r] === 0);
    expect(zero.length).toBe(ROWS / 5);
    const moved = Float32Array.from(x);
    const relabelled = Uint32Array.from(labels);
    for (const r of zero) {
      moved.set([50, -50, 9, 3], r * D);
      relabelled[r] = (labels[r] + 1) % 3;
    }
    const a = await network('softmax', 3);
    const b = await network('softmax', 3);
    const ra = await a.fit(x, labels, { ...RUN, optimizer: 'adam', learningRate: 0.01, sampleWeights });
    const rb = await b.fit(moved, relabelled, { ...RUN, optimizer: 'adam', learningRate: 0.01, sampleWeights });
    expect(Array.from(await params(b))).toEqual(Array.from(await params(a)));
    expect(rb.map((r) => r.trainLoss)).toEqual(ra.map((r) => r.trainLoss)); // weight 0 adds loss 0
    await a.destroy();
    await b.destroy();
  });

  it('GPU inputs take host sampleWeights, and sampleWeights may be a GPU buffer: the same parameters', async () => {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const inputs = { buffer: appBuffer(x, usage), count: ROWS };
    const weightBuffer = { buffer: appBuffer(sampleWeights, usage) };
    const host = await network('softmax', 3);
    const onGpu = await network('softmax', 3);
    const both = await network('softmax', 3);
    await host.fit(x, labels, { ...RUN, sampleWeights, classWeights });
    await onGpu.fit(inputs, labels, { ...RUN, sampleWeights, classWeights });
    await both.fit(inputs, labels, { ...RUN, sampleWeights: weightBuffer, classWeights });
    const expected = Array.from(await params(host));
    expect(Array.from(await params(onGpu))).toEqual(expected);
    expect(Array.from(await params(both))).toEqual(expected);
    for (const m of [host, onGpu, both]) await m.destroy();
    inputs.buffer.destroy();
    weightBuffer.buffer.destroy();
  });

  it('large weights do not trip the divergence rule: chance loss is scaled by the mean weight', async () => {
    const mlp = await network('softmax', 3);
    // The weighted loss at chance is 500·ln 3 ≈ 549, over 100 × ln 3: the unscaled rule would stop the run.
    const results = await mlp.fit(x, labels, {
      ...RUN,
      optimizer: 'sgd',
      learningRate: 1e-6,
      sampleWeights: new Float32Array(ROWS).fill(500),
    });
    expect(results.length).toBe(2);
    expect(results[0].trainLoss).toBeGreaterThan(100 * Math.log(3));
    expect(headOf(mlp.model.spec).definition.chanceLoss?.(3)).toBeCloseTo(Math.log(3), 12);
    await mlp.destroy();
  });
});

describe('fit refuses bad weights before touching the model', () => {
  const x = randomArray(ROWS * D, 1);
  const labels = randomInts(ROWS, 2, 3);
  const ones = () => new Float32Array(ROWS).fill(1);
  const bad: [string, Head, Partial<FitOptions>, string | RegExp][] = [
    [
      'short sampleWeights',
      'softmax',
      { sampleWeights: ones().subarray(1) },
      'options.sampleWeights has 59 values, expected 60 (one per training row)',
    ],
    [
      'a negative sample weight',
      'softmax',
      { sampleWeights: [...ones()].map((v, i) => (i === 3 ? -1 : v)) },
      'options.sampleWeights[3] = -1 is invalid: expected a finite number ≥ 0',
    ],
    [
      'a NaN sample weight',
      'softmax',
      { sampleWeights: Float64Array.from(ones(), (v, i) => (i === 5 ? Number.NaN : v)) },
      'options.sampleWeights[5] = NaN is invalid: expected a finite number ≥ 0',
    ],
    [
      'an infinite sample weight',
      'softmax',
      { sampleWeights: Float64Array.from(ones(), (v, i) => (i === 0 ? Infinity : v)) },
      'options.sampleWeights[0] = Infinity is invalid: expected a finite number ≥ 0',
    ],
    [
      'a sample weight that is not a number',
      'softmax',
      { sampleWeights: [...ones()].map((v, i) => (i === 1 ? '2' : v)) as never },
      'options.sampleWeights[1] = "2" is invalid: expected a finite number ≥ 0',
    ],
    [
      'sampleWeights of another type',
      'softmax',
      { sampleWeights: 'all' as never },
      /options\.sampleWeights is string: expected Float32Array, Float64Array, number\[\] or \{ buffer: GPUBuffer \}/,
    ],
    [
      'bytes as sampleWeights',
      'softmax',
      { sampleWeights: new Uint8Array(ROWS) as never },
      /options\.sampleWeights is Uint8Array: expected/,
    ],
    [
      'every weight 0',
      'softmax',
      { sampleWeights: new Float32Array(ROWS) },
      'options: every training row has weight 0 (sampleWeights × classWeights), so nothing would be learned: give some rows a weight > 0',
    ],
    [
      'weights beyond f32',
      'softmax',
      { sampleWeights: new Float64Array(ROWS).fill(1e30), classWeights: [1e10, 1, 1] },
      /options: the weight of row \d+ \(sampleWeights\[\d+\] = 1e\+30 × classWeights\[0\] = 10000000000\) is 1e\+40, beyond a 32-bit float/,
    ],
    [
      'classWeights of the wrong length',
      'softmax',
      { classWeights: [1, 2] },
      'options.classWeights has 2 values, expected 3 (one per class)',
    ],
    [
      'a negative class weight',
      'softmax',
      { classWeights: [1, -2, 1] },
      'options.classWeights[1] = -2 is invalid: expected a finite number ≥ 0',
    ],
    [
      'a NaN class weight',
      'softmax',
      { classWeights: [1, 1, Number.NaN] },
      'options.classWeights[2] = NaN is invalid: expected a finite number ≥ 0',
    ],
    [
      'classWeights all 0',
      'softmax',
      { classWeights: [0, 0, 0] },
      'options.classWeights = [0, 0, 0] is invalid: expected at least one weight > 0 (all 0 would learn nothing)',
    ],
    [
      'classWeights that are not an array',
      'softmax',
      { classWeights: { 0: 1 } as never },
      'options.classWeights is object: expected number[] with one weight per class (3)',
    ],
    [
      'classWeights on a sigmoid head',
      'sigmoid',
      { classWeights: [1, 2, 3] },
      'options.classWeights: the sigmoid head has no classes (its outputs are independent probabilities); weigh its rows with options.sampleWeights instead',
    ],
    [
      'classWeights on an mse head',
      'mse',
      { classWeights: [1, 2, 3] },
      'options.classWeights: the mse head has no classes (its outputs are values); weigh its rows with options.sampleWeights instead',
    ],
  ];

  it.each(bad)('%s', async (_name, head, options, message) => {
    const mlp = await network(head, 3);
    const targets = head === 'softmax' ? labels : denseTargets(head, 3, 7);
    const before = Array.from(await params(mlp));
    const config = mlp.model.optimizerConfig;
    await expect(mlp.fit(x, targets, { ...RUN, optimizer: 'sgd', learningRate: 0.5, ...options })).rejects.toThrow(
      message,
    );
    expect(Array.from(await params(mlp))).toEqual(before);
    expect(mlp.model.optimizerConfig).toEqual(config);
    expect(mlp.model.steps).toBe(0);
    expect(mlp.memory().stepPlans.plans).toBe(0);
    await mlp.destroy();
  });

  it('a GPU buffer of weights: too small, or not readable back', async () => {
    const mlp = await network('softmax', 3);
    const small = appBuffer(new Float32Array(4), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
    const unreadable = appBuffer(new Float32Array(ROWS), GPUBufferUsage.STORAGE);
    await expect(mlp.fit(x, labels, { sampleWeights: { buffer: small } })).rejects.toThrow(
      'options.sampleWeights: the buffer has 16 B, expected at least 240 B for f32 [60], one weight per training row',
    );
    await expect(mlp.fit(x, labels, { sampleWeights: { buffer: unreadable } })).rejects.toThrow(
      'options.sampleWeights: the buffer lacks GPUBufferUsage.COPY_SRC; create it with COPY_SRC usage: the weights are read back once to be checked',
    );
    const bad = appBuffer(
      Float32Array.from({ length: ROWS }, (_, i) => (i === 9 ? -3 : 1)),
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    );
    await expect(mlp.fit(x, labels, { sampleWeights: { buffer: bad } })).rejects.toThrow(
      'options.sampleWeights[9] = -3 is invalid: expected a finite number ≥ 0',
    );
    expect(mlp.model.steps).toBe(0);
    for (const b of [small, unreadable, bad]) b.destroy();
    await mlp.destroy();
  });
});
