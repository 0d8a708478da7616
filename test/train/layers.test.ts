/**
 * Networks with dropout, LayerNorm and BatchNorm1d on the GPU, end to end: whole steps against the
 * Float64 network (the dropout masks bit for bit the same draws), multi-step submits against the CPU
 * trainer (each step its own masks), `check()`, evaluation and prediction in evaluation mode, files
 * (their tensors as PyTorch names them, BatchNorm's running statistics in the model), the inference
 * entry, and a run resumed from a mid-epoch checkpoint file ending bit for bit as the uninterrupted one.
 */
import { describe, expect, it } from 'vitest';
import { loadPredictor } from '../../src/infer/mlp_predictor.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { createMLP, loadMLP } from '../../src/mlp.js';
import { paramLayout } from '../../src/model/layout.js';
import { mlpForwardRef } from '../../src/model/reference.js';
import { resolveSpec } from '../../src/model/spec.js';
import { resolveOptimizer } from '../../src/optim/index.js';
import { toRefParams, toRefRunning } from '../../src/train/check.js';
import { CpuBatchTrainer } from '../../src/train/cpu.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { GpuBatchTrainer } from '../../src/train/gpu_trainer.js';
import { fit } from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { expectClose } from '../helpers/close.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';
import { trainBoth } from '../helpers/steps.js';

const gpu = useGpuContext();

const LN_DROPOUT = [
  10,
  { units: 12, norm: 'layer', dropout: 0.2 },
  { units: 9, activation: 'gelu', dropout: 0.5 },
  4,
] as const;
const BATCH_NORM = [
  10,
  { units: 12, norm: 'batch' },
  { units: 9, activation: 'gelu', norm: { name: 'batch', momentum: 0.3 } },
  4,
] as const;

describe('whole steps against the Float64 network', () => {
  it('five momentum steps of [10, {12, LayerNorm, dropout 0.2}, {9 gelu, dropout 0.5}, 4]: the same masks, within fp32', async () => {
    await trainBoth(
      {
        layers: [...LN_DROPOUT],
        activation: 'relu',
        head: 'softmax',
        optimizer: { kind: 'momentum', learningRate: 0.05 },
        batches: [16, 16, 16, 16, 5],
      },
      gpu(),
    );
  });

  // (Momentum, not Adam: the bias before a BatchNorm has a gradient of 0 but for rounding, which Adam
  // divides by its own size into steps of ±lr — as in PyTorch — differently on the GPU and in Float64.)
  it('five momentum steps of [10, {12, BatchNorm}, {9 gelu, BatchNorm (momentum 0.3)}, 4], the last of one row: parameters and running statistics', async () => {
    await trainBoth(
      {
        layers: [...BATCH_NORM],
        activation: 'tanh',
        head: 'softmax',
        optimizer: { kind: 'momentum', learningRate: 0.05 },
        batches: [16, 16, 16, 7, 1],
      },
      gpu(),
    );
  });

  it('fit (up to 8 steps per submit) against the CPU trainer: each step of a submit draws its own masks', async () => {
    const count = 64;
    const images = randomArray(count * 10, 3);
    const labels = randomInts(count, 4, 4);
    const data = { images, labels, count, cols: 10, classes: 4, scale: 1 };
    const options = { epochs: 2, batchSize: 8, seed: 3 }; // 8 steps an epoch: one submit
    for (const layers of [LN_DROPOUT, BATCH_NORM]) {
      const spec = { layers: [...layers], activation: 'relu' as const };
      const optimizer = resolveOptimizer({ kind: 'sgd', learningRate: 0.1 });
      const model = await Model.create({ ...spec, seed: 9, optimizer, context: gpu() });
      const gpuData = new GpuDataset(gpu(), data, 'layers');
      await fit(new GpuBatchTrainer(model, gpuData), options);
      const cpu = new CpuBatchTrainer(model.spec, optimizer, data, undefined, 9);
      await fit(cpu, options);
      const layout = paramLayout(model.spec);
      const got = toRefParams(layout, await model.readParams());
      for (const slot of layout.tensors) {
        expectClose(
          got[slot.block]?.[slot.key] as Float64Array,
          cpu.params[slot.block]?.[slot.key] as Float64Array,
          { atol: 5e-5, rtol: 2e-4 },
          slot.name,
        );
      }
      const running = toRefRunning(layout, await model.readRunning());
      for (const slot of layout.running.tensors) {
        expectClose(
          running[slot.block]?.[slot.key] as Float64Array,
          cpu.running[slot.block]?.[slot.key] as Float64Array,
          { atol: 5e-5, rtol: 2e-4 },
          slot.name,
        );
      }
      expect(model.randomStream?.step ?? 16).toBe(16);
      gpuData.destroy();
      await model.destroy();
    }
  });
});

describe('check(), evaluation and prediction', () => {
  for (const [name, layers] of [
    ['LayerNorm and dropout', LN_DROPOUT],
    ['BatchNorm', BATCH_NORM],
  ] as const) {
    it(`${name}: check() within fp32, and the model left as it was`, async () => {
      const mlp = await createMLP({ layers: [...layers], activation: 'relu', seed: 1, device: gpu().device });
      const x = randomArray(16 * 10, 3);
      const y = randomInts(16, 4, 4);
      await mlp.fit(x, y, { optimizer: 'adam', epochs: 1, batchSize: 8 });
      const before = await mlp.save();
      const random = mlp.model.randomStream;
      const report = await mlp.check(randomArray(12 * 10, 5), randomInts(12, 6, 4));
      expect(report.maxRel, report.worst).toBeLessThan(1e-4);
      expect(report.tensors.map((t) => t.tensor)).toEqual(
        expect.arrayContaining(
          name === 'BatchNorm' ? ['layers.0.norm.weight.grad', 'layers.0.norm.running_var'] : ['layers.0.norm.bias'],
        ),
      );
      expect(Buffer.from(await mlp.save()).equals(Buffer.from(before))).toBe(true);
      expect(mlp.model.randomStream).toEqual(random);
      await mlp.destroy();
    });

    it(`${name}: predict and evaluate run the evaluation forward (no dropout, running statistics), as the Float64 network's`, async () => {
      const mlp = await createMLP({ layers: [...layers], activation: 'relu', seed: 2, device: gpu().device });
      const x = randomArray(24 * 10, 7);
      const y = randomInts(24, 8, 4);
      await mlp.fit(x, y, { optimizer: 'adam', epochs: 2, batchSize: 8 });
      const layout = paramLayout(mlp.model.spec);
      const params = toRefParams(layout, await mlp.model.readParams());
      const running = toRefRunning(layout, await mlp.model.readRunning());
      const ref = mlpForwardRef(mlp.model.spec, params, x, 24, { mode: 'eval', running });
      const probs = await mlp.predict(x);
      // softmax of the reference logits
      const expected = new Float64Array(24 * 4);
      for (let r = 0; r < 24; r++) {
        const z = ref.logits.subarray(r * 4, r * 4 + 4);
        const m = Math.max(...z);
        const e = Array.from(z, (v) => Math.exp(v - m));
        const s = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < 4; c++) expected[r * 4 + c] = (e[c] as number) / s;
      }
      expectClose(probs, expected, { atol: 2e-6, rtol: 1e-5 }, 'predict');
      // evaluation twice gives the same loss: nothing random, nothing updated
      const a = await mlp.evaluate(x, y);
      const b = await mlp.evaluate(x, y);
      expect(a.loss).toBe(b.loss);
      expect(Buffer.from(await mlp.predict(x).then((p) => new Uint8Array(p.buffer)))).toEqual(
        Buffer.from(new Uint8Array(probs.buffer)),
      );
      await mlp.destroy();
    });
  }

  it('inputGradient refuses a network whose evaluation differs from training, saying so', async () => {
    const model = await Model.create({ layers: [4, { units: 3, dropout: 0.5 }, 2], context: gpu() });
    const { inputGradient } = await import('../../src/train/saliency.js');
    await expect(
      inputGradient(model, randomArray(8, 1), { kind: 'labels', labels: Uint32Array.of(0, 1) }),
    ).rejects.toThrow('this network has dropout or BatchNorm');
    await model.destroy();
  });
});

describe('files and resuming', () => {
  it('model files name the tensors as PyTorch does, keep the running statistics, and load in the library and in webgpu-mlp/infer', async () => {
    const mlp = await createMLP({ layers: [...BATCH_NORM], activation: 'relu', seed: 4, device: gpu().device });
    const x = randomArray(32 * 10, 9);
    await mlp.fit(x, randomInts(32, 10, 4), { epochs: 2, batchSize: 8, optimizer: 'adam' });
    const bytes = await mlp.save();
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual([
      'layers.0.weight',
      'layers.0.bias',
      'layers.0.norm.weight',
      'layers.0.norm.bias',
      'layers.1.weight',
      'layers.1.bias',
      'layers.1.norm.weight',
      'layers.1.norm.bias',
      'layers.2.weight',
      'layers.2.bias',
      'layers.0.norm.running_mean',
      'layers.0.norm.running_var',
      'layers.1.norm.running_mean',
      'layers.1.norm.running_var',
    ]);
    expect(JSON.parse(file.metadata.spec as string)).toEqual({
      layers: [10, 12, 9, 4],
      activations: ['relu', 'gelu'],
      head: 'softmax',
      norms: ['batch', { name: 'batch', eps: 1e-5, momentum: 0.3 }],
    });
    expect(file.tensors.get('layers.0.norm.running_var')?.data.some((v) => v !== 1)).toBe(true); // trained
    const expected = await mlp.predict(x);
    const again = await loadMLP(bytes, { device: gpu().device });
    expect(await again.predict(x)).toEqual(expected);
    expect(Buffer.from(await again.save()).equals(Buffer.from(bytes))).toBe(true);
    const predictor = await loadPredictor(bytes, { device: gpu().device });
    expect(await predictor.predict(x)).toEqual(expected);
    for (const m of [mlp, again, predictor]) await m.destroy();
  });

  for (const [name, layers] of [
    ['LayerNorm and dropout', LN_DROPOUT],
    ['BatchNorm', BATCH_NORM],
  ] as const) {
    it(`${name}: a run resumed from a mid-epoch checkpoint file ends bit for bit as the uninterrupted one`, async () => {
      const x = randomArray(40 * 10, 1);
      const y = randomInts(40, 2, 4);
      const options = {
        epochs: 3,
        batchSize: 8,
        optimizer: 'adam' as const,
        learningRate: 0.01,
        seed: 5,
        checkpointEvery: 2,
        progressEvery: 1,
      };
      const spec = { layers: [...layers], activation: 'relu' as const, seed: 2, device: gpu().device };
      const whole = await createMLP(spec);
      await whole.fit(x, y, options);
      const expected = await whole.save();

      let saved: MLPCheckpoint | undefined;
      const first = await createMLP(spec);
      await first.fit(x, y, {
        ...options,
        onCheckpoint: (cp) => {
          if (!saved && cp.epoch === 2 && cp.step === 2) saved = cp; // in the middle of epoch 2
        },
      });
      if (!saved) throw new Error('no checkpoint in the middle of epoch 2');
      const file = encodeCheckpoint(saved);
      const decoded = decodeCheckpoint(file);
      const model = resolveSpec(spec);
      if (model.dropouts) expect(decoded.state.random).toEqual({ seed: 2, step: 7 }); // 5 + 2 steps taken
      if (model.norms?.includes('batch'))
        expect(decoded.state.running?.length).toBe(paramLayout(model).running.totalFloats);

      const resumed = await createMLP({ ...spec, seed: 99 });
      await resumed.fit(x, y, { ...options, resume: decoded });
      expect(Buffer.from(await resumed.save()).equals(Buffer.from(expected))).toBe(true);
      for (const m of [whole, first, resumed]) await m.destroy();
    });
  }
});

describe("the CPU trainer's parameters as a model file holds them", () => {
  it('flatParams puts every trained tensor (dense, LayerNorm, BatchNorm) where toRefParams reads it, in float32', async () => {
    const count = 16;
    const data = {
      images: randomArray(count * 10, 5),
      labels: randomInts(count, 6, 4),
      count,
      cols: 10,
      classes: 4,
      scale: 1,
    };
    const layers = [10, { units: 12, norm: 'layer' }, { units: 9, norm: 'batch' }, 4] as const;
    const spec = resolveSpec({ layers: [...layers], activation: 'relu' });
    const cpu = new CpuBatchTrainer(spec, resolveOptimizer({ kind: 'sgd', learningRate: 0.1 }), data, undefined, 2);
    await cpu.step(0, count); // every tensor moved off its initial value
    const layout = paramLayout(spec);
    const back = toRefParams(layout, cpu.flatParams());
    expect(layout.tensors.map((s) => s.key)).toContain('gamma');
    expect(back.map((p) => Object.keys(p).sort())).toEqual(cpu.params.map((p) => Object.keys(p).sort()));
    for (const slot of layout.tensors) {
      const want = Float64Array.from(Float32Array.from(cpu.params[slot.block]?.[slot.key] as Float64Array));
      expect(back[slot.block]?.[slot.key], slot.name).toEqual(want);
    }
  });
});
