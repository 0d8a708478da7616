/**
 * Failures meet a clear error or a recovery: a diverging run, a lost device, leaks, two models on
 * one device, and an application's own work on the same queue.
 */
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { requestGpuDevice } from '../../src/gpu/device.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { createMLP } from '../../src/mlp.js';
import type { Targets } from '../../src/model/spec.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { GpuBatchTrainer } from '../../src/train/gpu_trainer.js';
import { fit, TrainingInterrupted } from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { randomArray } from '../helpers/random.js';

/** Four Gaussian blobs on a ring, as bytes-free f32 data. */
function blobs(n: number, seed: number) {
  const x = randomArray(n * 2, seed, 0.15);
  const labels = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] += Math.cos((i % 4) * (Math.PI / 2));
    x[2 * i + 1] += Math.sin((i % 4) * (Math.PI / 2));
    labels[i] = i % 4;
  }
  return { x, labels };
}

describe('numerical health', () => {
  it('stops a diverging run (learning rate 1e3) with an error that says so, and keeps the last good parameters', async () => {
    const ctx = await GpuContext.create();
    const data = blobs(256, 1);
    const model = await Model.create({
      layers: [2, 32, 4],
      seed: 1,
      context: ctx,
      optimizer: { kind: 'sgd', learningRate: 1e3 },
    });
    const train = new GpuDataset(ctx, { images: data.x, labels: data.labels, count: 256, cols: 2, classes: 4 });
    const before = await model.readParams();
    let caught: unknown;
    try {
      await fit(new GpuBatchTrainer(model, train), { epochs: 20, batchSize: 16, progressEvery: 4 });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TrainingInterrupted);
    expect((caught as Error).message).toMatch(
      /training diverged in epoch \d+, step \d+: the loss became (NaN|Infinity)/,
    );
    expect((caught as Error).message).toMatch(/Try a smaller learning rate \(now 1000\)/);
    expect((caught as Error).message).toMatch(/rolled back to the last good checkpoint/);
    const after = await model.readParams();
    expect(after.every(Number.isFinite)).toBe(true);
    const cp = (caught as TrainingInterrupted).checkpoint;
    if (!cp) throw new Error('the error carries no checkpoint');
    expect(after).toEqual((cp.state as { params: Float32Array }).params);
    expect(before.length).toBe(after.length);
    train.destroy();
    await model.destroy();
    ctx.destroy();
  });

  it('gives finite losses and gradients for logits of ±1e4 and ±1e30 through the whole model', async () => {
    const ctx = await GpuContext.create();
    const model = await Model.create({ layers: [1, 3], head: 'softmax', context: ctx, optimizer: { kind: 'sgd' } });
    for (const big of [1e4, 1e30]) {
      // W = [big, −big, 0], b = 0: logits of ±big for x = 1.
      const params = new Float32Array(model.layout.totalFloats);
      params.set([big, -big, 0], model.layout.weights[0].offset);
      model.writeParams(params);
      const report = await import('../../src/train/check.js').then((m) =>
        m.checkStep(model, new Float32Array([1, 1]), { kind: 'labels', labels: new Uint32Array([1, 2]) }),
      );
      const loss = report.tensors.find((t) => t.tensor === 'loss');
      expect(loss?.maxRel, `loss at ±${big}`).toBeLessThan(1e-5);
      for (const t of report.tensors) expect(Number.isFinite(t.maxAbs), `${t.tensor} at ±${big}`).toBe(true);
    }
    await model.destroy();
    ctx.destroy();
  });
});

describe('device loss', () => {
  it('reports a lost device and resumes on a new device from the last checkpoint', async () => {
    const data = blobs(512, 2);
    const source = { images: data.x, labels: data.labels, count: 512, cols: 2, classes: 4 };
    const ctx1 = await GpuContext.create();
    const model1 = await Model.create({
      layers: [2, 16, 4],
      seed: 4,
      context: ctx1,
      optimizer: { kind: 'adam', learningRate: 0.02 },
    });
    const checkpoints: number[] = [];
    let interrupted: TrainingInterrupted | undefined;
    try {
      await fit(new GpuBatchTrainer(model1, new GpuDataset(ctx1, source)), {
        epochs: 4,
        batchSize: 16,
        progressEvery: 4,
        checkpointEvery: 8,
        onCheckpoint: (cp) => {
          checkpoints.push(cp.epoch * 100 + cp.step);
        },
        onStep: (p) => {
          if (p.epoch === 2 && p.step === 20) ctx1.device.destroy(); // the GPU goes away mid-epoch
        },
      });
    } catch (error) {
      interrupted = error as TrainingInterrupted;
    }
    expect(interrupted).toBeInstanceOf(TrainingInterrupted);
    expect(interrupted?.message).toMatch(/The GPU device was lost \(destroyed/);
    expect(interrupted?.message).toMatch(/Resume from the last checkpoint \(epoch 2, step 16\)/);
    expect(checkpoints).toContain(216);
    const cp = interrupted?.checkpoint;
    if (!cp) throw new Error('no checkpoint');

    // A new device, the model restored, training continues exactly where it stopped.
    const ctx2 = await GpuContext.create();
    const model2 = await Model.fromCheckpoint(cp.state as Parameters<typeof Model.fromCheckpoint>[0], {
      context: ctx2,
    });
    expect(model2.steps).toBe(32 + 16);
    const results = await fit(new GpuBatchTrainer(model2, new GpuDataset(ctx2, source), new GpuDataset(ctx2, source)), {
      epochs: 4,
      batchSize: 16,
      start: { epoch: cp.epoch, step: cp.step },
    });
    expect(results.map((r) => r.epoch)).toEqual([2, 3, 4]);
    expect(results[2].testAccuracy).toBeGreaterThan(0.95);
    await model2.destroy();
    ctx2.destroy();
    ctx1.destroy();
  });
});

describe('device loss, through the public API', () => {
  it('mlp.fit on a device that dies mid-run resumes from a checkpoint file on a new device, ending as an uninterrupted run', async () => {
    const data = blobs(256, 6);
    const options = { epochs: 3, batchSize: 16, optimizer: 'adam', learningRate: 0.02, seed: 5 } as const;

    // The same run without interruption, for comparison.
    const reference = await createMLP({ layers: [2, 12, 4], seed: 9 });
    await reference.fit(data.x, data.labels, options);
    const expected = await reference.predict(data.x);
    await reference.destroy();

    // Keep `gpu` referenced while the device is used: Dawn frees its instance with this object.
    const first = await requestGpuDevice();
    const mlp = await createMLP({ layers: [2, 12, 4], seed: 9, device: first.device });
    const files: Uint8Array[] = [];
    let interrupted: unknown;
    try {
      await mlp.fit(data.x, data.labels, {
        ...options,
        checkpointEvery: 5,
        onCheckpoint: (cp) => {
          files.push(encodeCheckpoint(cp)); // what an app would write to a file
        },
        // Epochs of 16 steps are pipelined (src/train/loop.ts): epoch 1's state was read back with its
        // statistics, before this progress event, so its checkpoint (2, 0) is good and is the last one.
        onStep: (p) => {
          if (p.epoch === 1) first.device.destroy();
        },
      });
    } catch (error) {
      interrupted = error;
    }
    expect(interrupted).toBeInstanceOf(TrainingInterrupted);
    const lastFile = decodeCheckpoint(files[files.length - 1]);
    const carried = (interrupted as TrainingInterrupted).checkpoint as MLPCheckpoint;
    expect([lastFile.epoch, lastFile.step]).toEqual([carried.epoch, carried.step]);
    expect(lastFile.epoch).toBe(2);
    await mlp.destroy(); // harmless on a lost device

    const second = await requestGpuDevice();
    const resumed = await createMLP({ layers: [2, 12, 4], device: second.device });
    const rest = await resumed.fit(data.x, data.labels, { ...options, resume: lastFile });
    expect(rest.map((r) => r.epoch)).toEqual([2, 3]);
    // Same data, shuffles, parameters and optimizer state: the same arithmetic as the uninterrupted run.
    expect(await resumed.predict(data.x)).toEqual(expected);
    await expect(resumed.fit(data.x, data.labels, { ...options, optimizer: 'sgd', resume: lastFile })).rejects.toThrow(
      'options.optimizer = "sgd" is invalid: the checkpoint being resumed was trained with "adam"',
    );
    await resumed.destroy();
    second.device.destroy();
  });
});

describe('resources', () => {
  it('a hundred create/destroy cycles leave the tracked GPU memory at its baseline; destroy twice is harmless', async () => {
    const ctx = await GpuContext.create();
    const baseline = ctx.bytesAllocated;
    const x = randomArray(8 * 13, 1);
    const targets: Targets = { kind: 'labels', labels: new Uint32Array(8).fill(1) };
    for (let i = 0; i < 100; i++) {
      const model = await Model.create({
        layers: [13, 7, 3],
        seed: i,
        context: ctx,
        optimizer: { kind: i % 2 ? 'adam' : 'momentum' },
      });
      await model.step(x, targets);
      await model.destroy();
      await model.destroy();
      expect(ctx.bytesAllocated).toBe(baseline);
    }
    const model = await Model.create({ layers: [13, 7, 3], context: ctx });
    await model.destroy();
    await expect(model.step(x, targets)).rejects.toThrow(/this model has been destroyed; create or load a new one/);
    await ctx.device.queue.onSubmittedWorkDone();
    expect(ctx.errors).toEqual([]);
    ctx.destroy();
  });

  it('a data set refused halfway (its labels, after its images were uploaded) leaves nothing allocated', async () => {
    const ctx = await GpuContext.create();
    const before = { bytes: ctx.bytesAllocated, buffers: ctx.bufferCount };
    const images = new Float32Array(8 * 3);
    for (const make of [
      () =>
        new GpuDataset(ctx, { images, labels: Uint32Array.of(0, 1, 2, 3, 4, 5, 6, 9), count: 8, cols: 3, classes: 9 }),
      () =>
        GpuDataset.upload(ctx, {
          images,
          labels: Uint32Array.of(0, 1, 2, 3, 4, 5, 6, 9),
          count: 8,
          cols: 3,
          classes: 9,
        }),
    ]) {
      await expect(Promise.resolve().then(make)).rejects.toThrow('dataset: labels[7] = 9 is outside 0..8');
      expect({ bytes: ctx.bytesAllocated, buffers: ctx.bufferCount }).toEqual(before);
    }
    expect(ctx.errors).toEqual([]);
    ctx.destroy();
  });

  it('ten thousand steps keep GPU memory flat (plans and bind groups are reused)', async () => {
    const ctx = await GpuContext.create();
    const data = blobs(64, 3);
    const model = await Model.create({ layers: [2, 8, 4], context: ctx });
    const train = new GpuDataset(ctx, { images: data.x, labels: data.labels, count: 64, cols: 2, classes: 4 });
    await fit(new GpuBatchTrainer(model, train), { epochs: 1, batchSize: 16 });
    const settled = ctx.bytesAllocated;
    const buffers = ctx.bufferCount;
    // 4 steps per epoch × 2,500 epochs = 10,000 steps, with a checkpoint (a readback) between epochs;
    // memory is sampled along the way, not only at the end.
    const seen = new Set<number>();
    await fit(new GpuBatchTrainer(model, train), {
      epochs: 2500,
      batchSize: 16,
      progressEvery: 100,
      onEpoch: (e) => {
        if (e.epoch % 250 === 0) seen.add(ctx.bytesAllocated);
      },
    });
    expect([...seen]).toEqual([settled]);
    expect(ctx.bytesAllocated).toBe(settled);
    expect(ctx.bufferCount).toBe(buffers);
    expect(model.steps).toBe(4 + 10_000);
    train.destroy();
    await model.destroy();
    ctx.destroy();
  }, 300_000);
});

describe('sharing a device', () => {
  it('two models training interleaved on one device, with the app submitting its own work, match each alone', async () => {
    const data = blobs(64, 9);
    const run = async (ctx: GpuContext, interleave: boolean): Promise<Float32Array[]> => {
      const a = await Model.create({ layers: [2, 8, 4], seed: 1, context: ctx, optimizer: { kind: 'momentum' } });
      const b = await Model.create({ layers: [2, 8, 4], seed: 2, context: ctx, optimizer: { kind: 'adam' } });
      const appBuffer = ctx.device.createBuffer({
        size: 4096,
        usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      });
      const scratch = ctx.device.createBuffer({ size: 4096, usage: GPUBufferUsage.COPY_DST });
      const targets: Targets = { kind: 'labels', labels: data.labels };
      if (interleave) {
        for (let i = 0; i < 10; i++) {
          await a.step(data.x, targets);
          const enc = ctx.device.createCommandEncoder({ label: 'app.work' });
          enc.copyBufferToBuffer(appBuffer, 0, scratch, 0, 4096); // the app's own work on the same queue
          ctx.device.queue.submit([enc.finish()]);
          await b.step(data.x, targets);
        }
      } else {
        for (let i = 0; i < 10; i++) await a.step(data.x, targets);
        for (let i = 0; i < 10; i++) await b.step(data.x, targets);
      }
      const out = [await a.readParams(), await b.readParams()];
      await a.destroy();
      await b.destroy();
      appBuffer.destroy();
      scratch.destroy();
      return out;
    };
    const ctx = await GpuContext.create();
    const alone = await run(ctx, false);
    const together = await run(ctx, true);
    expect(together[0]).toEqual(alone[0]);
    expect(together[1]).toEqual(alone[1]);
    expect(ctx.errors).toEqual([]);
    ctx.destroy();
  });
});
