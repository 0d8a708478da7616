/**
 * The three additions made to prove one home per concept — AdamW, the regression heads (MSE, Huber)
 * and the leaky ReLU and GELU activations — end to end: GPU steps against the Float64 reference, the
 * library (fit, evaluate, predict), files (save/load, checkpoints and resume) and check().
 */
import { describe, expect, it } from 'vitest';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { createMLP, loadMLP } from '../../src/mlp.js';
import { paramLayout } from '../../src/model/layout.js';
import { resolveOptimizer } from '../../src/optim/index.js';
import { toRefParams } from '../../src/train/check.js';
import { CpuBatchTrainer } from '../../src/train/cpu.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { GpuBatchTrainer } from '../../src/train/gpu_trainer.js';
import { fit } from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { expectClose } from '../helpers/close.js';
import { useGpuContext } from '../helpers/gpu.js';
import { mulberry32, randomArray, randomInts } from '../helpers/random.js';
import { trainBoth } from '../helpers/steps.js';

const gpu = useGpuContext();

describe('AdamW (decoupled weight decay, torch.optim.AdamW)', () => {
  it('five steps of [13, 9, 5] relu against the reference, wd 0.1 so the decay counts', async () => {
    await trainBoth(
      {
        layers: [13, 9, 5],
        activation: 'relu',
        head: 'softmax',
        optimizer: { kind: 'adamw', learningRate: 0.01, weightDecay: 0.1 },
        batches: [16, 16, 16, 16, 5],
      },
      gpu(),
    );
  });

  it('checkpoints name its state m and v, and a resumed run ends bit-identical to an uninterrupted one', async () => {
    const x = randomArray(40 * 6, 1);
    const y = randomInts(40, 2, 3);
    const options = { epochs: 3, batchSize: 8, optimizer: 'adamw' as const, learningRate: 0.02, seed: 5 };
    const whole = await createMLP({ layers: [6, 7, 3], seed: 2, device: gpu().device });
    await whole.fit(x, y, options);
    const expected = await whole.predict(x);

    let saved: MLPCheckpoint | undefined;
    const first = await createMLP({ layers: [6, 7, 3], seed: 2, device: gpu().device });
    await first.fit(x, y, {
      ...options,
      onCheckpoint: (cp) => {
        if (cp.epoch === 2 && !saved) saved = cp; // after one epoch: m, v and the step count are not zero
      },
    });
    if (!saved) throw new Error('no checkpoint at the start of epoch 2');
    expect(saved.state.step).toBe(5);
    const file = encodeCheckpoint(saved);
    const names = [...decodeSafetensors(file).tensors.keys()];
    expect(names).toContain('optimizer.m.layers.0.weight');
    expect(names).toContain('optimizer.v.layers.1.bias');
    const decoded = decodeCheckpoint(file);
    expect(decoded.state.optimizer).toEqual(resolveOptimizer({ kind: 'adamw', learningRate: 0.02 }));

    const resumed = await createMLP({ layers: [6, 7, 3], seed: 99, device: gpu().device });
    await resumed.fit(x, y, { ...options, resume: decoded });
    expect(await resumed.predict(x)).toEqual(expected);
    for (const m of [whole, first, resumed]) await m.destroy();
  });

  it('check(): the update within fp32 of the reference, measured against the update itself', async () => {
    const mlp = await createMLP({ layers: [9, 8, 4], seed: 1, device: gpu().device });
    await mlp.fit(randomArray(16 * 9, 3), randomInts(16, 4, 4), { optimizer: 'adamw', weightDecay: 0.05, epochs: 1 });
    const report = await mlp.check(randomArray(12 * 9, 5), randomInts(12, 6, 4));
    expect(report.maxRel, report.worst).toBeLessThan(1e-4);
    await mlp.destroy();
  });
});

describe('regression heads: mean squared error and Huber (torch MSELoss, HuberLoss)', () => {
  it('five SGD steps of [3, 8, 2] tanh with the mse head, against the reference', async () => {
    await trainBoth(
      {
        layers: [3, 8, 2],
        activation: 'tanh',
        head: 'mse',
        optimizer: { kind: 'sgd', learningRate: 0.05 },
        batches: [10, 10, 10, 10, 3],
      },
      gpu(),
    );
  });

  it('five Adam steps of [4, 12, 3] gelu with the huber head (δ 0.5), against the reference', async () => {
    await trainBoth(
      {
        layers: [4, 12, 3],
        activation: 'gelu',
        head: { name: 'huber', delta: 0.5 },
        optimizer: { kind: 'adam', learningRate: 0.01 },
        batches: [9, 9, 9, 9, 9],
      },
      gpu(),
    );
  });

  it('fits a line; evaluate reports MSE and MAE of the raw outputs predict returns; save/load keeps δ', async () => {
    const n = 64;
    const x = Float32Array.from({ length: n * 2 }, (_, i) => ((i * 37) % 64) / 32 - 1);
    const y = Float32Array.from({ length: n }, (_, r) => 2 * x[2 * r]! - 3 * x[2 * r + 1]! + 0.5);
    const mlp = await createMLP({
      layers: [2, 8, 1],
      activation: 'linear',
      head: { name: 'huber', delta: 2 },
      seed: 1,
    });
    expect(mlp.head).toEqual({ name: 'huber', delta: 2 });
    const results = await mlp.fit(x, y, { epochs: 150, batchSize: 16, optimizer: 'adam', learningRate: 0.02 });
    expect(results.at(-1)?.trainLoss).toBeLessThan(1e-3);
    expect(Number.isNaN(results.at(-1)?.trainAccuracy)).toBe(true); // no accuracy for a regression
    const outputs = await mlp.predict(x);
    expect(Math.min(...outputs)).toBeLessThan(-1); // raw values, not probabilities
    const ev = await mlp.evaluate(x, y);
    let sq = 0;
    let abs = 0;
    for (let i = 0; i < n; i++) {
      sq += (outputs[i]! - y[i]!) ** 2;
      abs += Math.abs(outputs[i]! - y[i]!);
    }
    expect(ev.mse).toBeCloseTo(sq / n, 9);
    expect(ev.mae).toBeCloseTo(abs / n, 9);
    expect(ev.mse).toBeLessThan(2e-3);
    expect(ev.outputs).toEqual(outputs);
    expect(Number.isNaN(ev.accuracy)).toBe(true);
    const loaded = await loadMLP(await mlp.save(), { device: mlp.device });
    expect(loaded.head).toEqual({ name: 'huber', delta: 2 });
    expect(await loaded.predict(x)).toEqual(outputs);
    await loaded.destroy();
    await mlp.destroy();
  });

  it('the CPU trainer trains the same regression (Float64) as the GPU', async () => {
    const count = 48;
    const rand = mulberry32(7);
    const images = Float32Array.from({ length: count * 3 }, () => rand() * 2 - 1);
    const targets = Float32Array.from({ length: count * 2 }, () => rand() * 2 - 1);
    const data = { images, targets, count, cols: 3, classes: 2, scale: 1 };
    const spec = { layers: [3, 5, 2], activation: 'gelu' as const, head: 'mse' as const };
    const optimizer = resolveOptimizer({ kind: 'momentum', learningRate: 0.05 });
    const options = { epochs: 2, batchSize: 12, seed: 3 };
    const model = await Model.create({ ...spec, seed: 9, optimizer, context: gpu() });
    const gpuData = new GpuDataset(gpu(), data, 'regression');
    await fit(new GpuBatchTrainer(model, gpuData), options);
    const cpu = new CpuBatchTrainer(model.spec, optimizer, data, undefined, 9);
    await fit(cpu, options);
    const got = toRefParams(paramLayout(model.spec), await model.readParams());
    cpu.params.forEach((p, l) => {
      expectClose(got[l]!.w, p.w, { atol: 2e-5, rtol: 1e-4 }, `layers.${l}.weight`);
      expectClose(got[l]!.b, p.b, { atol: 2e-5, rtol: 1e-4 }, `layers.${l}.bias`);
    });
    gpuData.destroy();
    await model.destroy();
  });
});

describe('activations: leaky ReLU (torch LeakyReLU) and GELU (torch GELU, tanh approximation)', () => {
  it('five momentum steps of [10, 12, 9, 4]: GELU (its derivative reads Z) then leaky ReLU (slope 0.2)', async () => {
    await trainBoth(
      {
        layers: [10, 12, 9, 4],
        activation: ['gelu', { name: 'leakyRelu', slope: 0.2 }],
        head: 'softmax',
        optimizer: { kind: 'momentum', learningRate: 0.05 },
        batches: [8, 8, 8, 8, 8],
      },
      gpu(),
    );
  });

  it('five Adam steps of [6, 7, 5, 3]: leaky ReLU (default slope) then GELU', async () => {
    await trainBoth(
      {
        layers: [6, 7, 5, 3],
        activation: ['leakyRelu', 'gelu'],
        head: 'softmax',
        optimizer: { kind: 'adam', learningRate: 0.01 },
        batches: [11, 11, 11, 11, 2],
      },
      gpu(),
    );
  });

  it('check() within fp32; the slope survives save/load; the activation names stay canonical', async () => {
    const mlp = await createMLP({
      layers: [8, 9, 7, 3],
      activation: [{ name: 'leakyRelu', slope: 0.25 }, 'gelu'],
      seed: 4,
      device: gpu().device,
    });
    expect(mlp.activations).toEqual([{ name: 'leakyRelu', slope: 0.25 }, 'gelu']);
    const report = await mlp.check(randomArray(10 * 8, 1), randomInts(10, 2, 3));
    expect(report.maxRel, report.worst).toBeLessThan(1e-4);
    const loaded = await loadMLP(await mlp.save(), { device: mlp.device });
    expect(loaded.activations).toEqual([{ name: 'leakyRelu', slope: 0.25 }, 'gelu']);
    const x = randomArray(5 * 8, 3);
    expect(await loaded.predict(x)).toEqual(await mlp.predict(x));
    // The default slope is written as the plain name.
    const plain = await createMLP({
      layers: [2, 3, 2],
      activation: { name: 'leakyRelu', slope: 0.01 },
      device: mlp.device,
    });
    expect(plain.activations).toEqual(['leakyRelu']);
    for (const m of [mlp, loaded, plain]) await m.destroy();
  });

  it('refuses a slope outside [0, 1] and an unknown activation, naming the option', async () => {
    await expect(createMLP({ layers: [2, 3, 2], activation: { name: 'leakyRelu', slope: -0.1 } })).rejects.toThrow(
      'options.activation.slope = -0.1 is invalid: expected a finite number in [0, 1]',
    );
    await expect(createMLP({ layers: [2, 3, 2], activation: 'swish' as never })).rejects.toThrow(
      /options.activation = "swish" is invalid: expected one of relu, sigmoid, tanh, linear, leakyRelu, gelu/,
    );
  });
});
