/**
 * The public API as an application uses it: createMLP / fit / evaluate / predict / check /
 * save / loadMLP / destroy, on the application's own device and buffers.
 */
import { describe, expect, it } from 'vitest';
import { summariseAdapter } from '../../src/gpu/adapter.js';
import { requestGpuDevice } from '../../src/gpu/device.js';
import { createMLP, loadMLP } from '../../src/mlp.js';
import { randomArray } from '../helpers/random.js';

/** Two Gaussian blobs per class on a ring: 4 classes in 2-D, linearly inseparable as a whole. */
function blobs(n: number, seed: number): { x: Float32Array<ArrayBuffer>; y: Uint32Array<ArrayBuffer> } {
  const x = randomArray(n * 2, seed, 0.15);
  const y = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    const angle = (c * Math.PI) / 2;
    x[2 * i] += Math.cos(angle);
    x[2 * i + 1] += Math.sin(angle);
    y[i] = c;
  }
  return { x, y };
}

describe('createMLP / fit / evaluate / predict', () => {
  it('trains to high accuracy with a validation set, reporting each epoch', async () => {
    const mlp = await createMLP({ layers: [2, 16, 4], activation: 'tanh', seed: 3 });
    const train = blobs(256, 1);
    const val = blobs(128, 2);
    const epochs: number[] = [];
    const results = await mlp.fit(train.x, train.y, {
      epochs: 4,
      batchSize: 32,
      optimizer: 'adam',
      learningRate: 0.05,
      validation: { inputs: val.x, labels: val.y },
      onEpoch: (e) => {
        epochs.push(e.epoch);
      },
    });
    expect(epochs).toEqual([1, 2, 3, 4]);
    expect(results[3].testAccuracy).toBeGreaterThan(0.97);
    const ev = await mlp.evaluate(val.x, Array.from(val.y));
    expect(ev.accuracy).toBeCloseTo(results[3].testAccuracy ?? 0, 10);
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(128);
    const probs = await mlp.predict(val.x.subarray(0, 8));
    expect(probs.length).toBe(16);
    const report = await mlp.check(train.x.subarray(0, 64), train.y.subarray(0, 32));
    // Forward values and gradients within fp32 rounding (see test/train/step.test.ts). The updated
    // weights are not bounded here: Adam divides by √v, so on a gradient that is ~0 fp32 noise moves
    // a weight by up to lr in either direction — the same in PyTorch.
    for (const t of report.tensors.filter(
      (t) => t.tensor.endsWith('.grad') || t.tensor === 'logits' || t.tensor === 'loss',
    )) {
      expect(t.maxRel, t.tensor).toBeLessThan(1e-4);
    }
    await mlp.destroy();
    await mlp.destroy(); // harmless twice
    await expect(mlp.predict(val.x)).rejects.toThrow(/destroyed/);
  });

  it('stops cleanly on an AbortSignal, keeping what it learned', async () => {
    const mlp = await createMLP({ layers: [2, 8, 4], seed: 1 });
    const data = blobs(512, 3);
    const controller = new AbortController();
    const results = await mlp.fit(data.x, data.y, {
      epochs: 50,
      batchSize: 8,
      onStep: () => controller.abort(),
      signal: controller.signal,
    });
    expect(results.length).toBe(0); // aborted inside the first epoch
    const stillWorks = await mlp.predict(data.x.subarray(0, 2));
    expect(stillWorks.every(Number.isFinite)).toBe(true);
    await mlp.destroy();
  });

  it("shares the application's device and reads the application's GPU buffers in place", async () => {
    // Keep `gpu` referenced while the device is used: Dawn frees its instance with this object.
    const { device, gpu } = await requestGpuDevice();
    const appHandler = () => {};
    device.onuncapturederror = appHandler;
    const data = blobs(128, 5);
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const xBuffer = device.createBuffer({ size: data.x.byteLength, usage, label: 'app.x' });
    // Labels are also read back (checked on the CPU, and for the confusion matrix): COPY_SRC too.
    const yBuffer = device.createBuffer({
      size: data.y.byteLength,
      usage: usage | GPUBufferUsage.COPY_SRC,
      label: 'app.y',
    });
    device.queue.writeBuffer(xBuffer, 0, data.x);
    device.queue.writeBuffer(yBuffer, 0, data.y);

    const mlp = await createMLP({ layers: [2, 16, 4], activation: 'tanh', seed: 2, device });
    expect(mlp.device).toBe(device);
    // the given device's adapterInfo picks the kernels, as for a device the library requests
    expect(mlp.model.ctx.adapter).toEqual(summariseAdapter(device.adapterInfo));
    expect(mlp.model.ctx.kernelPreference).toBe(device.adapterInfo.isFallbackAdapter ? 'direct' : expect.any(String));
    const results = await mlp.fit(
      { buffer: xBuffer, count: 128 },
      { buffer: yBuffer },
      {
        epochs: 6,
        batchSize: 16,
        learningRate: 0.05,
      },
    );
    expect(results[5].trainAccuracy).toBeGreaterThan(0.9);
    // Weights are GPU buffers the app can read or draw.
    const w = mlp.weights[0].weight;
    expect(w.size).toBe(2 * 16 * 4);
    await mlp.destroy();
    // Our destroy() leaves the app's device, buffers and handler alone.
    expect(device.onuncapturederror).toBe(appHandler);
    device.queue.writeBuffer(xBuffer, 0, data.x);
    await device.queue.onSubmittedWorkDone();
    expect(xBuffer.size).toBe(data.x.byteLength);
    device.destroy();
    expect(gpu).toBeDefined();
  });

  it('saves and loads through the API with identical predictions', async () => {
    const mlp = await createMLP({ layers: [2, 8, 4], seed: 9 });
    const data = blobs(64, 7);
    await mlp.fit(data.x, data.y, { epochs: 2, batchSize: 16 });
    const loaded = await loadMLP(await mlp.save());
    expect(loaded.layers).toEqual([2, 8, 4]);
    expect(await loaded.predict(data.x)).toEqual(await mlp.predict(data.x));
    await mlp.destroy();
    await loaded.destroy();
  });

  it('rejects bad input before any GPU work, naming the argument, the value and the expectation', async () => {
    await expect(createMLP({ layers: [2, 0, 4] })).rejects.toThrow(
      'options.layers[1] = 0 is invalid: expected an integer in 1..1048576',
    );
    await expect(createMLP({ layers: [2, 4], activation: 'swish' as never })).rejects.toThrow(/activation/);
    await expect(createMLP({ layers: [2, 4], colour: 'red' } as never)).rejects.toThrow(
      /options\.colour = "red" is invalid/,
    );
    const mlp = await createMLP({ layers: [2, 3, 4] });
    const x = new Float32Array(6);
    await expect(mlp.fit(x, [0, 1, 9])).rejects.toThrow('labels[2] = 9 is outside 0..3');
    await expect(mlp.fit(x, [0, 1, 1.5])).rejects.toThrow(
      'labels[2] = 1.5 is not a class index: expected an integer in 0..3',
    );
    await expect(mlp.fit(new Float32Array(5), [0, 1])).rejects.toThrow(
      /inputs has 5 values, expected a positive multiple of 2/,
    );
    await expect(mlp.fit(new Float32Array([0, Number.NaN, 0, 0]), [0, 1])).rejects.toThrow(
      /inputs: images\[0, 1\] = NaN/,
    );
    await expect(mlp.fit(x, [0, 1, 2], { learningRate: -1 })).rejects.toThrow(
      /options\.learningRate = -1 is invalid: expected a finite number in \(0, 1000\]/,
    );
    await expect(mlp.fit(x, [0, 1, 2], { batchSize: 0 })).rejects.toThrow(/batchSize = 0 is invalid/);
    await expect(mlp.fit(x, [0, 1, 2], { epoch: 3 } as never)).rejects.toThrow(/options\.epoch = 3 is invalid/);
    await mlp.destroy();
  });
});
