/**
 * The divergence rule (issue 21): a rise against the run's own first loss, not only against chance —
 * so that inputs in the thousands, whose first loss is far above chance, train instead of stopping at
 * step 1 — and, when a run does diverge on badly scaled inputs, a message that says so, naming the
 * column and its range, before suggesting a smaller learning rate. fit takes `divergence` as
 * TrainingRun does.
 */
import { describe, expect, it } from 'vitest';
import { createMLP } from '../../src/mlp.js';
import { encodeTable } from '../../src/table/encode.js';
import { parseCsv } from '../../src/table/read.js';
import { scalingAdvice } from '../../src/train/loop.js';
import { useGpuContext } from '../helpers/gpu.js';
import { mulberry32 } from '../helpers/random.js';

const gpu = useGpuContext();

/** Two classes told apart by a measurement in the hundreds and an area in the thousands (unscaled, as in breast-cancer data). */
function unscaled(n: number, seed: number): { x: Float32Array; y: Uint32Array; csv: string } {
  const rand = mulberry32(seed);
  const x = new Float32Array(n * 2);
  const y = new Uint32Array(n);
  const lines = ['radius,area,diagnosis'];
  for (let i = 0; i < n; i++) {
    y[i] = i % 2;
    x[2 * i] = (y[i] ? 18 : 12) + 3 * rand();
    x[2 * i + 1] = (y[i] ? 1200 : 450) + 900 * rand();
    lines.push(`${x[2 * i]},${x[2 * i + 1]},${y[i] ? 'malignant' : 'benign'}`);
  }
  return { x, y, csv: lines.join('\n') };
}

describe('the divergence rule', () => {
  it('does not stop a run whose first loss is far above chance but does not rise (inputs in the thousands)', async () => {
    const { x, y } = unscaled(64, 1);
    const mlp = await createMLP({ layers: [2, 16, 2], seed: 0, device: gpu().device });
    try {
      // Before: "the mean loss rose to 408, over 100× the loss of chance predictions" at step 1, for any rate.
      const epochs = await mlp.fit(x, y, { epochs: 3, batchSize: 16, learningRate: 1e-3, progressEvery: 1 });
      expect(epochs).toHaveLength(3);
      expect(epochs[0].trainLoss).toBeGreaterThan(100 * Math.log(2)); // far above chance from the start…
      expect(epochs.every((e) => Number.isFinite(e.trainLoss))).toBe(true); // …and trained on
    } finally {
      await mlp.destroy();
    }
  });

  it('stops a run that rises, saying the inputs are badly scaled and naming the column and its range', async () => {
    const { x, y } = unscaled(64, 2);
    const mlp = await createMLP({ layers: [2, 16, 2], seed: 0, device: gpu().device });
    try {
      const run = mlp.fit(x, y, { epochs: 5, batchSize: 16, optimizer: 'sgd', learningRate: 0.5, progressEvery: 1 });
      await expect(run).rejects.toThrow(
        /^training diverged in epoch \d+, step \d+: (the mean loss rose to .*, over 100× the loss before training \(.*\)|the loss became .* \(not finite\))\. The inputs are badly scaled: input 1 \(of 2\) ranges from [\d,.]+ to [\d,.]+\. Standardise them: train on the table \(encodeTable rows are standardised by default\), or scale each column to mean 0 and standard deviation 1, before trying a smaller learning rate \(now 0\.5\)\./,
      );
    } finally {
      await mlp.destroy();
    }
  });

  it('names a table column when the table is not scaled (scaling: none), and none when it is', async () => {
    const data = encodeTable(parseCsv(unscaled(64, 3).csv, { name: 'cells.csv' }), { target: 'diagnosis' });
    const raw = await createMLP({ layers: [2, 16, 2], seed: 0, device: gpu().device });
    const scaled = await createMLP({ layers: [2, 16, 2], seed: 0, device: gpu().device });
    try {
      const options = { epochs: 5, batchSize: 16, optimizer: 'sgd' as const, learningRate: 0.5, progressEvery: 1 };
      await expect(raw.fit(data, { ...options, scaling: 'none' })).rejects.toThrow(
        /The inputs are badly scaled: input column "area" ranges from [\d,.]+ to [\d,.]+\. Standardise them \(fit the table with scaling: 'standardize', the default\)/,
      );
      const epochs = await scaled.fit(data, options); // standardised: the same rate trains
      expect(epochs.at(-1)?.trainAccuracy).toBeGreaterThan(0.9);
    } finally {
      await raw.destroy();
      await scaled.destroy();
    }
  });

  it('fit takes divergence as TrainingRun does: a factor, or false; anything else is refused by name', async () => {
    const { x, y } = unscaled(32, 4);
    const mlp = await createMLP({ layers: [2, 4, 2], seed: 0, device: gpu().device });
    try {
      await mlp.fit(x, y, { epochs: 1, divergence: false });
      await mlp.fit(x, y, { epochs: 1, divergence: { factor: 1000 } });
      await expect(mlp.fit(x, y, { divergence: { factor: 1 } })).rejects.toThrow(
        'divergence.factor = 1 is invalid: expected a number > 1',
      );
      await expect(mlp.fit(x, y, { divergence: { ratio: 2 } as never })).rejects.toThrow(/ratio/);
    } finally {
      await mlp.destroy();
    }
  });

  it("scalingAdvice: the worst column as the first layer sees it, after the network's own scaling", () => {
    const x = Float32Array.of(1, 5000, 2, -300, 3, 40);
    expect(scalingAdvice(x, 2, 'Fix it.')).toBe(
      'The inputs are badly scaled: input 1 (of 2) ranges from -300 to 5,000. Fix it.',
    );
    expect(scalingAdvice(x, 2, 'Fix it.', { names: ['a', 'b'] })).toMatch(/input column "b" ranges from -300 to 5,000/);
    const affine = { scale: Float32Array.of(1, 1 / 2000), shift: Float32Array.of(0, 0) };
    expect(scalingAdvice(x, 2, 'Fix it.', { affine })).toBeUndefined();
    expect(scalingAdvice(Float32Array.of(0.5, -99), 2, '')).toBeUndefined();
  });
});
