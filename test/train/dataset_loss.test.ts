/**
 * datasetLoss (src/train/evaluate.ts): fit's loss before training (the divergence rule's reference),
 * measured on the training rows already on the GPU with one statistics read. It is the loss
 * evaluateDataset reports for the same rows (the same plans, the same bits), whatever the data set's
 * loss weights, matches the Float64 reference, and refuses a row count outside the data set.
 */
import { describe, expect, it } from 'vitest';
import { mlpForwardRef } from '../../src/model/reference.js';
import { toRefParams } from '../../src/train/check.js';
import { GpuDataset } from '../../src/train/dataset.js';
import { datasetLoss, evaluateDataset } from '../../src/train/evaluate.js';
import { Model } from '../../src/train/model.js';
import { useGpuContext } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();

const D = 5;
const C = 3;
const ROWS = 37;

/** Mean softmax cross-entropy of rows 0 … rows − 1, in Float64. */
function meanLossRef(logits: Float64Array, labels: Uint32Array, rows: number): number {
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const z = logits.subarray(r * C, (r + 1) * C);
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    sum += lse - (z[labels[r] as number] as number);
  }
  return sum / rows;
}

describe('datasetLoss', () => {
  it('is the loss evaluateDataset reports for the same first rows, weighted or not, and the Float64 reference', async () => {
    const ctx = gpu();
    const model = await Model.create({ context: ctx, layers: [D, 7, C], seed: 4 });
    const x = randomArray(ROWS * D, 11);
    const labels = randomInts(ROWS, 12, C);
    const weights = Float32Array.from({ length: ROWS }, (_, i) => 0.5 + (i % 4));
    const all = new GpuDataset(ctx, { images: x, count: ROWS, cols: D, labels, classes: C }, 'all');
    const weighted = new GpuDataset(ctx, { images: x, count: ROWS, cols: D, labels, classes: C, weights }, 'weighted');
    const first = new GpuDataset(
      ctx,
      { images: x.subarray(0, 13 * D), count: 13, cols: D, labels: labels.subarray(0, 13), classes: C },
      'first',
    );
    try {
      const params = toRefParams(model.layout, await model.readParams());
      const logits = mlpForwardRef(model.spec, params, x, ROWS).logits;
      // 13 rows in one batch (the step plan of a 13-row batch), as fit measures them.
      const loss13 = await datasetLoss(model, all, 13);
      expect(loss13).toBe((await evaluateDataset(model, first, 13)).loss);
      expect(await datasetLoss(model, weighted, 13)).toBe(loss13); // loss weights shape training only
      expect(Math.abs(loss13 - meanLossRef(logits, labels, 13))).toBeLessThan(1e-5);
      // Every row, in batches of 16 (two full and one of 5).
      const loss37 = await datasetLoss(model, all, ROWS, 16);
      expect(loss37).toBe((await evaluateDataset(model, all, 16)).loss);
      expect(Math.abs(loss37 - meanLossRef(logits, labels, ROWS))).toBeLessThan(1e-5);
    } finally {
      for (const d of [all, weighted, first]) d.destroy();
      await model.destroy();
    }
  });

  it('refuses a row count outside the data set, and a batch size that is not a positive integer', async () => {
    const ctx = gpu();
    const model = await Model.create({ context: ctx, layers: [D, 4, C], seed: 1 });
    const data = new GpuDataset(
      ctx,
      { images: randomArray(8 * D, 1), count: 8, cols: D, labels: randomInts(8, 2, C), classes: C },
      'eight',
    );
    try {
      await expect(datasetLoss(model, data, 0)).rejects.toThrow('rows = 0 is invalid: expected an integer in 1..8');
      await expect(datasetLoss(model, data, 9)).rejects.toThrow('rows = 9 is invalid: expected an integer in 1..8');
      await expect(datasetLoss(model, data, 8, 1.5)).rejects.toThrow('batchSize = 1.5 is invalid');
      expect(Number.isFinite(await datasetLoss(model, data, 8, 3))).toBe(true);
    } finally {
      data.destroy();
      await model.destroy();
    }
  });
});
