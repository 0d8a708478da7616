import { describe, expect, it } from 'vitest';
import { OpScope } from '../../src/kernels/op.js';
import { prepareRegression } from '../../src/kernels/regression.js';
import { huberRef, mseRef } from '../../src/reference/regression.js';
import { emptyF32, upload, useGpuContext } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';
import {
  expectLossHead,
  expectSameResults,
  expectZeroWeightRows,
  type LossHeadOptions,
  type LossHeadResult,
  lossWeights,
  ROW_SHAPES,
  runLossHead,
} from '../helpers/rows.js';

const gpu = useGpuContext();

// dZ = ℓ'(d)·scale, d = z − y one f32 subtraction (2⁻²⁴ of |z| + |y| ≤ 8: ~5e-7 absolute), times 2 (mse)
// and the f32 scale 1/(B·C): 2e-6/(B·C) absolute is a few times that; an indexing bug is O(1/(B·C)).
const gradTol = (batchSize: number, cols: number) => ({ atol: 2e-6 / (batchSize * cols), rtol: 1e-5 });
// loss[r] = (1/C)·Σ_c ℓ(d): each d² carries d's ~5e-7 absolute error times 2|d| ≤ 16, and the f32 sum
// ~√C·2⁻²⁴ relative: 1e-5 absolute (a mean, so not growing with C) and 1e-5 relative.
const LOSS_TOL = { atol: 1e-5, rtol: 1e-5 };

type Loss = { loss: 'mse' } | { loss: 'huber'; delta: number };

function runGpu(
  loss: Loss,
  z: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
  options: Omit<LossHeadOptions, 'variant'> = {},
): Promise<LossHeadResult> {
  const ctx = gpu();
  return runLossHead(ctx, z, rows, cols, options, (scope, args) =>
    prepareRegression(ctx, scope, { ...args, ...loss, targets: upload(ctx, 'test.Y', y) }),
  );
}

async function check(
  loss: Loss,
  z: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
  options: Omit<LossHeadOptions, 'variant'> = {},
): Promise<LossHeadResult> {
  const { batchSize = rows, weights } = options;
  const got = await runGpu(loss, z, y, rows, cols, options);
  const grad = new Float64Array(rows * cols);
  const lossRows = new Float64Array(rows);
  if (loss.loss === 'mse') mseRef(z, rows, cols, y, grad, lossRows, batchSize, weights);
  else huberRef(z, rows, cols, y, grad, lossRows, batchSize, loss.delta, weights);
  const what = `regression ${loss.loss} ${rows}×${cols} B=${batchSize}${weights ? ' weighted' : ''}`;
  expectLossHead(got, { grad, loss: lossRows }, { grad: gradTol(batchSize, cols), loss: LOSS_TOL }, weights, what);
  expect(
    got.correct.every((v) => v === 0),
    `${what} correct`,
  ).toBe(true);
  return got;
}

const LOSSES: Loss[] = [{ loss: 'mse' }, { loss: 'huber', delta: 0.5 }];

describe.each(LOSSES)('regression ($loss) against the Float64 reference', (loss) => {
  it('awkward shapes (rows and cols from 1, 7, 13, 127, 257, 784, 1000), values beyond δ', async () => {
    let seed = 1;
    for (const [rows, cols] of ROW_SHAPES) {
      await check(loss, randomArray(rows * cols, seed, 4), randomArray(rows * cols, seed + 1, 3), rows, cols);
      seed += 2;
    }
  });

  it('divides the gradient by batchSize·C, not rows·C (a partial last batch)', async () => {
    await check(loss, randomArray(13 * 7, 5, 4), randomArray(13 * 7, 6, 3), 13, 7, { batchSize: 64 });
  });

  it("weighted: each row's loss and dZ times its weight, zeros included, awkward shapes and a 2D grid", async () => {
    let seed = 40;
    for (const [rows, cols] of ROW_SHAPES) {
      const [z, y] = [randomArray(rows * cols, seed, 4), randomArray(rows * cols, seed + 1, 3)];
      expectZeroWeightRows(await check(loss, z, y, rows, cols, { weights: lossWeights(rows, seed + 2) }), rows, cols);
      seed += 3;
    }
    await check(loss, randomArray(300 * 3, 8, 4), randomArray(300 * 3, 9, 3), 300, 3, {
      weights: lossWeights(300, 10),
      maxWorkgroupsPerDimension: 4,
    });
  });

  it('weighted with every weight 1 is the unweighted kernel bit for bit', async () => {
    const [rows, cols] = [127, 10];
    const [z, y] = [randomArray(rows * cols, 3, 4), randomArray(rows * cols, 4, 3)];
    const ones = await runGpu(loss, z, y, rows, cols, { weights: new Float32Array(rows).fill(1) });
    expectSameResults(ones, await runGpu(loss, z, y, rows, cols), `${rows}×${cols}`);
  });
});

describe('regression', () => {
  it('rejects a bad loss, δ, short buffers and short weights with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 12);
    const base = { logits: buf, targets: buf, rows: 3, cols: 4, batchSize: 3, gradLogits: buf, lossRows: buf };
    const args = { ...base, correctRows: buf, loss: 'huber' as const };
    await expect(prepareRegression(ctx, scope, { ...args, delta: 0 })).rejects.toThrow(
      'regression: delta = 0, expected a finite number > 0',
    );
    await expect(prepareRegression(ctx, scope, { ...args, loss: 'mae' as never })).rejects.toThrow(
      "regression: loss = 'mae', expected mse or huber",
    );
    await expect(prepareRegression(ctx, scope, { ...args, cols: 5 })).rejects.toThrow(
      'regression: logits binds 48 bytes, expected at least 60 for f32 [3, 5]',
    );
    await expect(prepareRegression(ctx, scope, { ...args, weights: emptyF32(ctx, 'w', 2) })).rejects.toThrow(
      'regression: weights binds 8 bytes, expected at least 12 for f32 [3]',
    );
    scope.destroy();
  });
});
