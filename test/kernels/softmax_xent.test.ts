import { describe, expect, it } from 'vitest';
import { ROW_VARIANT_MAX_COLS, type RowVariant, rowVariant } from '../../src/kernels/check.js';
import { OpScope } from '../../src/kernels/op.js';
import { prepareSoftmaxXent } from '../../src/kernels/softmax_xent.js';
import type { Targets } from '../../src/model/spec.js';
import { argmaxRef, correctRowsRef } from '../../src/reference/argmax.js';
import { softmaxXentRef } from '../../src/reference/softmax_xent.js';
import { emptyF32, upload, uploadU32, useGpuContext } from '../helpers/gpu.js';
import { mulberry32, randomArray, randomInts } from '../helpers/random.js';
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

// dZ = (p − y)/B with p = exp(z − m)/s in f32: exp and the division are good to a few ulp and s to
// ~√C·2⁻²⁴ relative, so |ΔdZ| ≲ 1e-6·p/B; 1e-6/B absolute (p ≤ 1) is ~10× that, an indexing bug is O(1/B).
const gradTol = (batchSize: number) => ({ atol: 1e-6 / batchSize, rtol: 1e-5 });
// loss = log s − (z_y − m): log s ≤ log C is good to ~1e-6 absolute (the f32 sum s and the log), and
// z_y − m is one f32 subtraction, good to 2⁻²⁴ relative: rtol 1e-6 covers the 2e30 losses of the extreme rows.
const LOSS_TOL = { atol: 1e-5, rtol: 1e-6 };

function runGpu(
  z: Float32Array,
  rows: number,
  cols: number,
  targets: Targets,
  options: LossHeadOptions = {},
): Promise<LossHeadResult> {
  const ctx = gpu();
  return runLossHead(ctx, z, rows, cols, options, (scope, args) =>
    prepareSoftmaxXent(ctx, scope, {
      ...args,
      ...(targets.kind === 'labels'
        ? { labels: uploadU32(ctx, 'test.labels', targets.labels) }
        : { targets: upload(ctx, 'test.Y', targets.values) }),
    }),
  );
}

async function check(
  z: Float32Array,
  rows: number,
  cols: number,
  targets: Targets,
  options: LossHeadOptions = {},
): Promise<LossHeadResult> {
  const { batchSize = rows, variant, weights } = options;
  const got = await runGpu(z, rows, cols, targets, options);
  const grad = new Float64Array(rows * cols);
  const loss = new Float64Array(rows);
  const correct = new Uint32Array(rows);
  softmaxXentRef(z, rows, cols, targets, grad, loss, batchSize, weights);
  correctRowsRef(z, rows, cols, targets, 'softmax', correct);
  const what = `softmax_xent (${variant}) ${rows}×${cols} ${targets.kind} B=${batchSize}${weights ? ' weighted' : ''}`;
  expectLossHead(got, { grad, loss }, { grad: gradTol(batchSize), loss: LOSS_TOL }, weights, what);
  expect(Array.from(got.correct), `${what} correct`).toEqual(Array.from(correct));
  return got;
}

const labelsOf = (rows: number, cols: number, seed: number): Targets => ({
  kind: 'labels',
  labels: randomInts(rows, seed, cols),
});

/** One-hot rows for the given labels. */
function oneHot(labels: Uint32Array, cols: number): Targets {
  const y = new Float32Array(labels.length * cols);
  labels.forEach((l, r) => {
    y[r * cols + l] = 1;
  });
  return { kind: 'dense', values: y };
}

/** Random rows on the simplex (soft targets). */
function soft(rows: number, cols: number, seed: number): Targets {
  const next = mulberry32(seed);
  const y = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += y[r * cols + c] = next();
    for (let c = 0; c < cols; c++) y[r * cols + c] /= sum;
  }
  return { kind: 'dense', values: y };
}

/**
 * Extreme rows, cols = 5: ±1e4, ±1e30, all equal, all zero, one huge winner, ties for the maximum.
 * The labels point at a loser where there is one, so the loss is large.
 */
function extremeRows(): { z: Float32Array; labels: Uint32Array; rows: number; cols: number } {
  const rows = [
    [1e4, -1e4, 1e4, -1e4, 0],
    [-1e4, -1e4, -1e4, -1e4, -1e4],
    [1e30, -1e30, 0, 1e30, -1e30],
    [-1e30, -1e30, -1e30, -1e30, 1e30],
    [3, 3, 3, 3, 3],
    [0, 0, 0, 0, 0],
    [-1e30, 2, 1e4, -7, 1e30],
    [5, 9, 1, 9, 9],
  ];
  const labels = Uint32Array.from([1, 2, 1, 0, 4, 3, 0, 3]);
  return { z: Float32Array.from(rows.flat()), labels, rows: rows.length, cols: 5 };
}

// Every test runs both kernels: a workgroup per row (wide rows) and an invocation per row (narrow rows, CPUs).
describe.each(['workgroup', 'row'] as const)('softmax_xent (%s) against the Float64 reference', (variant) => {
  it('labels on awkward shapes (rows and cols from 1, 7, 13, 127, 257, 784, 1000)', async () => {
    const shapes = [...ROW_SHAPES, [1, 7]] as const;
    let seed = 1;
    for (const [rows, cols] of shapes) {
      await check(randomArray(rows * cols, seed, 4), rows, cols, labelsOf(rows, cols, seed + 1), { variant });
      seed += 2;
    }
  });

  it('dense one-hot and soft targets give the same as the reference (and one-hot the same as labels)', async () => {
    for (const [rows, cols] of [
      [7, 13],
      [127, 10],
      [13, 257],
    ] as const) {
      const z = randomArray(rows * cols, rows, 4);
      const labels = randomInts(rows, cols, cols);
      const viaLabels = await check(z, rows, cols, { kind: 'labels', labels }, { variant });
      const viaOneHot = await check(z, rows, cols, oneHot(labels, cols), { variant });
      expect(Array.from(viaOneHot.correct)).toEqual(Array.from(viaLabels.correct));
      await check(z, rows, cols, soft(rows, cols, 3), { variant });
    }
  });

  it('correct flags follow the first maximum on heavily tied rows (labels = argmax Z, dense Y = Z)', async () => {
    for (const [rows, cols] of [
      [127, 10],
      [13, 257],
    ] as const) {
      // values from {0, 1, 2}: most rows tie for the maximum, within and across invocations
      const z = Float32Array.from(randomInts(rows * cols, rows + cols, 3));
      const labels = new Uint32Array(rows);
      argmaxRef(z, rows, cols, labels);
      const viaLabels = await check(z, rows, cols, { kind: 'labels', labels }, { variant });
      expect(viaLabels.correct.every((v) => v === 1)).toBe(true);
      const viaDense = await check(z, rows, cols, { kind: 'dense', values: z }, { variant });
      expect(viaDense.correct.every((v) => v === 1)).toBe(true);
    }
  });

  it('divides the gradient by batchSize, not rows (a partial last batch)', async () => {
    await check(randomArray(13 * 7, 5, 4), 13, 7, labelsOf(13, 7, 6), { batchSize: 64, variant });
  });

  it('is finite and matches the reference for logits ±1e4, ±1e30, all-equal and zero rows', async () => {
    const { z, labels, rows, cols } = extremeRows();
    const viaLabels = await check(z, rows, cols, { kind: 'labels', labels }, { variant });
    const viaOneHot = await check(z, rows, cols, oneHot(labels, cols), { variant });
    for (const got of [viaLabels, viaOneHot]) {
      expect(got.loss.every(Number.isFinite), 'finite loss').toBe(true);
      expect(got.grad.every(Number.isFinite), 'finite dZ').toBe(true);
    }
    // ties go to the first maximum: rows 4, 5 predict class 0, row 7 class 1 (label 3 is a later tie)
    expect(Array.from(viaLabels.correct)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(viaLabels.loss[1]).toBeCloseTo(Math.log(5), 5); // all equal: log C
  });

  it('splits many rows over a 2D grid (limit forced to 4 workgroups per dimension; 300 rows: 5 of 64)', async () => {
    const options = { variant, maxWorkgroupsPerDimension: 4 };
    await check(randomArray(300 * 10, 8, 4), 300, 10, labelsOf(300, 10, 9), options);
    await check(randomArray(300 * 3, 10, 4), 300, 3, soft(300, 3, 11), options);
  });

  it("weighted: each row's loss and dZ times its weight, zeros included, labels and dense, awkward shapes", async () => {
    let seed = 40;
    for (const [rows, cols] of ROW_SHAPES) {
      const z = randomArray(rows * cols, seed, 4);
      const options = { variant, weights: lossWeights(rows, seed + 1) };
      const labels: Targets = { kind: 'labels', labels: randomInts(rows, seed + 2, cols) };
      const viaLabels = await check(z, rows, cols, labels, options);
      expectZeroWeightRows(viaLabels, rows, cols);
      expectZeroWeightRows(await check(z, rows, cols, soft(rows, cols, seed + 3), options), rows, cols);
      // The correct counts are not weighted.
      const plain = await runGpu(z, rows, cols, labels, { variant });
      expect(Array.from(viaLabels.correct)).toEqual(Array.from(plain.correct));
      seed += 4;
    }
  });

  it('weighted with every weight 1 is the unweighted kernel bit for bit', async () => {
    for (const [rows, cols] of [
      [127, 10],
      [13, 257],
    ] as const) {
      const z = randomArray(rows * cols, rows, 4);
      for (const targets of [labelsOf(rows, cols, 3), soft(rows, cols, 4)]) {
        const ones = await runGpu(z, rows, cols, targets, { variant, weights: new Float32Array(rows).fill(1) });
        expectSameResults(ones, await runGpu(z, rows, cols, targets, { variant }), `${rows}×${cols} ${targets.kind}`);
      }
    }
  });

  it('a label ≥ cols gives loss NaN and correct 0 (the metrics then count the step as non-finite)', async () => {
    const got = await runGpu(
      randomArray(6, 12),
      2,
      3,
      { kind: 'labels', labels: Uint32Array.from([1, 3]) },
      { variant },
    );
    expect(Number.isNaN(got.loss[1])).toBe(true);
    expect(Number.isFinite(got.loss[0])).toBe(true);
    expect(got.correct[1]).toBe(0);
  });
});

describe('softmax_xent', () => {
  it('picks an invocation per row for narrow rows or a direct-preferring context, else a workgroup', () => {
    const ctx = gpu();
    const wide = ctx.kernelPreference === 'direct' ? 'row' : 'workgroup';
    expect([rowVariant(ctx, 'x', 10), rowVariant(ctx, 'x', ROW_VARIANT_MAX_COLS + 1)]).toEqual(['row', wide]);
    expect(rowVariant(ctx, 'x', 10, 'workgroup')).toBe('workgroup');
    expect(() => rowVariant(ctx, 'softmax_xent', 10, 'wide' as RowVariant)).toThrow(
      "softmax_xent: variant = 'wide', expected 'row' or 'workgroup'",
    );
  });

  it('rejects missing or doubled targets and short buffers with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 12);
    const base = { logits: buf, rows: 3, cols: 4, batchSize: 3, gradLogits: buf, lossRows: buf, correctRows: buf };
    await expect(prepareSoftmaxXent(ctx, scope, base)).rejects.toThrow(/exactly one of labels/);
    await expect(prepareSoftmaxXent(ctx, scope, { ...base, labels: buf, targets: buf })).rejects.toThrow(
      /exactly one of labels/,
    );
    await expect(prepareSoftmaxXent(ctx, scope, { ...base, rows: 4, labels: buf })).rejects.toThrow(
      'softmax_xent: logits binds 48 bytes, expected at least 64 for f32 [4, 4]',
    );
    await expect(prepareSoftmaxXent(ctx, scope, { ...base, batchSize: 0, labels: buf })).rejects.toThrow(
      /batchSize = 0/,
    );
    await expect(
      prepareSoftmaxXent(ctx, scope, { ...base, labels: buf, weights: emptyF32(ctx, 'w', 2) }),
    ).rejects.toThrow('softmax_xent: weights binds 8 bytes, expected at least 12 for f32 [3]');
    scope.destroy();
  });
});
