/**
 * Inference as a WebGPU application uses it (issue 14): memory that stays within the documented plan
 * budget whatever row counts come, GPU inputs in and a GPU buffer out with the same bits as the host
 * form, and the inference entry (webgpu-mlp/infer) predicting what the library predicts.
 */
import { describe, expect, it } from 'vitest';
import { requestGpuDevice } from '../../src/gpu/device.js';
import { PLAN_CACHE_BYTES } from '../../src/gpu/plan_cache.js';
import { loadPredictor } from '../../src/infer.js';
import { createMLP } from '../../src/mlp.js';
import { paramLayout } from '../../src/model/layout.js';
import { randomArray } from '../helpers/random.js';

/** Bytes of one prediction plan of `rows` rows: inputs, each layer's outputs and the head's (f32). */
function planBytes(layers: number[], rows: number): number {
  return rows * 4 * (layers[0] + 2 * layers.slice(1).reduce((a, b) => a + b, 0));
}

describe('memory stays bounded', () => {
  // Wide enough that 300 row counts would hold ~370 MB of plans if none were freed (the issue's
  // report: 178 → 950 MiB on [784, 512, 512, 10]); small enough in FLOPs for SwiftShader.
  const layers = [4, 1024, 2];
  const counts = Array.from({ length: 300 }, (_, i) => 1 + ((i * 37) % 300)); // 1..300, shuffled

  it('predict with 300 different row counts keeps the plans within 64 MiB', async () => {
    const mlp = await createMLP({ layers, seed: 1 });
    try {
      const unbounded = counts.reduce((sum, rows) => sum + planBytes(layers, rows), 0);
      expect(unbounded).toBeGreaterThan(4 * PLAN_CACHE_BYTES); // the budget has to do something
      const base = mlp.memory().bytes;
      let peak = 0;
      for (const rows of counts) {
        const out = await mlp.predict(randomArray(rows * layers[0], rows, 1));
        expect(out.length).toBe(rows * 2);
        const m = mlp.memory();
        expect(m.predictPlans.bytes).toBeLessThanOrEqual(PLAN_CACHE_BYTES);
        peak = Math.max(peak, m.bytes - base);
      }
      // Everything the network holds beyond its parameters and optimizer state is its plans.
      expect(peak).toBeLessThanOrEqual(PLAN_CACHE_BYTES);
      expect(mlp.memory().predictPlans.plans).toBeLessThan(counts.length);
    } finally {
      await mlp.destroy();
    }
  });

  it('evaluate with 300 different row counts keeps the step plans within 64 MiB', async () => {
    const mlp = await createMLP({ layers, seed: 2 });
    try {
      const base = mlp.memory().bytes;
      for (const rows of counts) {
        const labels = Uint32Array.from({ length: rows }, (_, i) => i % 2);
        const e = await mlp.evaluate(randomArray(rows * layers[0], rows + 7, 1), labels);
        expect(e.predictions.length).toBe(rows);
        const m = mlp.memory();
        expect(m.stepPlans.bytes + m.predictPlans.bytes).toBeLessThanOrEqual(PLAN_CACHE_BYTES);
        expect(m.bytes - base).toBeLessThanOrEqual(PLAN_CACHE_BYTES);
      }
    } finally {
      await mlp.destroy();
    }
  });
});

describe('GPU in, GPU out', () => {
  it('writes to a GPU buffer exactly what the host form returns, for every head', async () => {
    const owned = await requestGpuDevice();
    const { device } = owned;
    try {
      for (const head of ['softmax', 'sigmoid', 'mse'] as const) {
        const layers = [5, 7, 3];
        const mlp = await createMLP({ layers, activation: 'tanh', head, seed: 4, device });
        const rows = 1100; // more than one chunk of 1024 rows
        const x = randomArray(rows * 5, 9, 1);
        const host = await mlp.predict(x);
        const input = device.createBuffer({
          size: x.byteLength,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
        });
        device.queue.writeBuffer(input, 0, x);
        const out = await mlp.predict({ buffer: input, count: rows });
        expect(out.size).toBeGreaterThanOrEqual(rows * 3 * 4);
        const read = device.createBuffer({
          size: rows * 3 * 4,
          usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
        });
        const encoder = device.createCommandEncoder();
        encoder.copyBufferToBuffer(out, 0, read, 0, rows * 3 * 4);
        device.queue.submit([encoder.finish()]);
        await read.mapAsync(GPUMapMode.READ);
        const gpu = new Float32Array(read.getMappedRange().slice(0));
        expect(new Uint32Array(gpu.buffer)).toEqual(new Uint32Array(host.buffer)); // bit for bit
        // Into the application's own buffer, at its size.
        const mine = device.createBuffer({
          size: rows * 3 * 4,
          usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
        });
        expect(await mlp.predict({ buffer: input, count: rows }, { output: mine })).toBe(mine);
        for (const b of [input, out, read, mine]) b.destroy();
        await mlp.destroy();
      }
    } finally {
      owned.device.destroy();
    }
  });

  it('rejects GPU buffers that are too small or lack the usage, saying which', async () => {
    const mlp = await createMLP({ layers: [4, 3], seed: 1 });
    const { device } = mlp;
    const small = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_SRC });
    const noCopy = device.createBuffer({ size: 64, usage: GPUBufferUsage.STORAGE });
    try {
      await expect(mlp.predict({ buffer: small, count: 2 })).rejects.toThrow(
        'inputs: the buffer has 16 B, expected at least 32 B for f32 [2, 4]',
      );
      await expect(mlp.predict({ buffer: noCopy, count: 2 })).rejects.toThrow('lacks GPUBufferUsage.COPY_SRC');
      const input = device.createBuffer({ size: 32, usage: GPUBufferUsage.COPY_SRC });
      await expect(mlp.predict({ buffer: input, count: 2 }, { output: noCopy })).rejects.toThrow(
        'output: the buffer lacks GPUBufferUsage.COPY_DST',
      );
      // The types forbid it; plain JavaScript can still pass it.
      const untyped = mlp.predict.bind(mlp) as (inputs: unknown, options: unknown) => Promise<unknown>;
      await expect(untyped(new Float32Array(8), { output: input })).rejects.toThrow('options.output is for GPU inputs');
      input.destroy();
    } finally {
      small.destroy();
      noCopy.destroy();
      await mlp.destroy();
    }
  });
});

describe('webgpu-mlp/infer', () => {
  it('loads a saved network and predicts what the library predicts, bit for bit, host and GPU', async () => {
    const mlp = await createMLP({ layers: [6, 9, 8, 3], activation: ['gelu', 'leakyRelu'], seed: 5 });
    const x = randomArray(40 * 6, 3, 1);
    const labels = Uint32Array.from({ length: 40 }, (_, i) => i % 3);
    await mlp.fit(x, labels, { epochs: 2, batchSize: 8, seed: 1 });
    const expected = await mlp.predict(x);
    const predictor = await loadPredictor(await mlp.save(), { device: mlp.device });
    try {
      expect(predictor.layers).toEqual([6, 9, 8, 3]);
      expect(predictor.head).toBe('softmax');
      const host = await predictor.predict(x);
      expect(new Uint32Array(host.buffer)).toEqual(new Uint32Array(expected.buffer));
      const m = predictor.memory();
      expect(m.predictPlans.plans).toBe(1);
      // The parameters (laid out with aligned offsets) and the one plan: nothing else is held.
      expect(m.bytes).toBe(m.predictPlans.bytes + paramLayout(predictor.spec).totalFloats * 4);
      await expect(predictor.predict([[1, 2, 3]])).rejects.toThrow(/6/);
    } finally {
      await predictor.destroy();
      await mlp.destroy();
    }
    await expect(predictor.predict(x)).rejects.toThrow('destroyed');
  });

  it('concurrent predictions of one row count share a plan and each get their own rows, host and GPU', async () => {
    const mlp = await createMLP({ layers: [5, 16, 4], seed: 9 });
    const predictor = await loadPredictor(await mlp.save(), { device: mlp.device });
    try {
      const inputs = Array.from({ length: 8 }, (_, i) => randomArray(30 * 5, 100 + i, 2));
      const alone: Float32Array[] = [];
      for (const x of inputs) alone.push(await mlp.predict(x));
      // Every call at once, on the network and on the loaded predictor: one plan of 30 rows each.
      const [fromMlp, fromPredictor] = await Promise.all([
        Promise.all(inputs.map((x) => mlp.predict(x))),
        Promise.all(inputs.map((x) => predictor.predict(x))),
      ]);
      expect(mlp.memory().predictPlans.plans).toBe(1);
      for (let i = 0; i < inputs.length; i++) {
        expect(fromMlp[i]).toEqual(alone[i]);
        expect(fromPredictor[i]).toEqual(alone[i]);
      }
      const buffers = inputs.map((x) => {
        const b = mlp.device.createBuffer({
          size: x.byteLength,
          usage: GPUBufferUsage.COPY_SRC,
          mappedAtCreation: true,
        });
        new Float32Array(b.getMappedRange()).set(x);
        b.unmap();
        return b;
      });
      const outs = await Promise.all(buffers.map((buffer) => predictor.predict({ buffer, count: 30 })));
      for (let i = 0; i < outs.length; i++) {
        const read = mlp.device.createBuffer({
          size: outs[i].size,
          usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
        });
        const encoder = mlp.device.createCommandEncoder();
        encoder.copyBufferToBuffer(outs[i], 0, read, 0, outs[i].size);
        mlp.device.queue.submit([encoder.finish()]);
        await read.mapAsync(GPUMapMode.READ);
        expect(new Float32Array(read.getMappedRange().slice(0))).toEqual(alone[i]);
        for (const b of [read, outs[i], buffers[i]]) b.destroy();
      }
    } finally {
      await predictor.destroy();
      await mlp.destroy();
    }
  });

  it('rejects what is not a model file, and unknown options', async () => {
    await expect(loadPredictor(new Uint8Array([1, 2, 3]))).rejects.toThrow(/model file/);
    const mlp = await createMLP({ layers: [2, 2], seed: 1 });
    const bytes = await mlp.save();
    await expect(loadPredictor(bytes, { device: mlp.device, lr: 1 } as never)).rejects.toThrow(/lr/);
    await mlp.destroy();
  });
});
