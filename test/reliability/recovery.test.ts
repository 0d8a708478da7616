/**
 * Failures meet a clear error or a recovery: a diverging run, a lost device, leaks, two models on
 * one device, and an application's own work on the same queue.
 */
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import type { Targets } from '../../src/model/spec.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { fit, GpuBatchTrainer, TrainingInterrupted } from '../../src/train/fit.js';
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

  it('thousands of steps keep GPU memory flat (plans and bind groups are reused)', async () => {
    const ctx = await GpuContext.create();
    const data = blobs(64, 3);
    const model = await Model.create({ layers: [2, 8, 4], context: ctx });
    const train = new GpuDataset(ctx, { images: data.x, labels: data.labels, count: 64, cols: 2, classes: 4 });
    await fit(new GpuBatchTrainer(model, train), { epochs: 1, batchSize: 16 });
    const settled = ctx.bytesAllocated;
    // 4 steps per epoch × 500 epochs = 2000 steps, with a checkpoint and evaluation-free epochs.
    await fit(new GpuBatchTrainer(model, train), { epochs: 500, batchSize: 16, progressEvery: 100 });
    expect(ctx.bytesAllocated).toBe(settled);
    expect(model.steps).toBe(4 + 2000);
    train.destroy();
    await model.destroy();
    ctx.destroy();
  });
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
