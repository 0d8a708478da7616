import { describe, expect, it } from 'vitest';
import { OpScope } from '../../src/kernels/op.js';
import { prepareSigmoidBce } from '../../src/kernels/sigmoid_bce.js';
import { correctRowsRef } from '../../src/reference/argmax.js';
import { sigmoidBceRef } from '../../src/reference/bce.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext } from '../helpers/gpu.js';
import { mulberry32, randomArray } from '../helpers/random.js';
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

// dZ = (σ(z) − y)/B: σ from one exp and one division, a few ulp of σ ≤ 1; 1e-6/B absolute is ~10× that.
const gradTol = (batchSize: number) => ({ atol: 1e-6 / batchSize, rtol: 1e-5 });
// loss[r] sums C terms of O(|z|) in f32: ~√C·2⁻²⁴ relative to the row's magnitude; atol 1e-6·C for the
// O(1) rows, rtol 1e-6 for the rows where |z| reaches 1e30.
const lossTol = (cols: number) => ({ atol: 1e-6 * cols, rtol: 1e-6 });
// The loss of a confident, correct output is log1p(exp(−|z|)) ≈ e^−|z| alone: WGSL allows exp 3 + 2|z| ulp,
// ~5e-6 relative at |z| = 40; a naive log(1 + x) would give 0 (relative error 1).
const LOG1P_TOL = { atol: 0, rtol: 1e-5 };

function runGpu(
  z: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
  options: LossHeadOptions = {},
): Promise<LossHeadResult> {
  const ctx = gpu();
  return runLossHead(ctx, z, rows, cols, options, (scope, args) =>
    prepareSigmoidBce(ctx, scope, { ...args, targets: upload(ctx, 'test.Y', y) }),
  );
}

async function check(
  z: Float32Array,
  y: Float32Array,
  rows: number,
  cols: number,
  options: LossHeadOptions = {},
): Promise<LossHeadResult> {
  const { batchSize = rows, variant, weights } = options;
  const got = await runGpu(z, y, rows, cols, options);
  const grad = new Float64Array(rows * cols);
  const loss = new Float64Array(rows);
  const correct = new Uint32Array(rows);
  sigmoidBceRef(z, rows, cols, y, grad, loss, batchSize, weights);
  correctRowsRef(z, rows, cols, { kind: 'dense', values: y }, 'sigmoid', correct);
  const what = `sigmoid_bce (${variant}) ${rows}×${cols} B=${batchSize}${weights ? ' weighted' : ''}`;
  expectLossHead(got, { grad, loss }, { grad: gradTol(batchSize), loss: lossTol(cols) }, weights, what);
  expect(Array.from(got.correct), `${what} correct`).toEqual(Array.from(correct));
  return got;
}

/** Targets in [0, 1]: a third exactly 0, a third exactly 1, the rest soft. */
function targets(n: number, seed: number): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => {
    const u = next();
    return u < 1 / 3 ? 0 : u < 2 / 3 ? 1 : next();
  });
}

// Every test runs both kernels: a workgroup per row (wide rows) and an invocation per row (narrow rows, CPUs).
describe.each(['workgroup', 'row'] as const)('sigmoid_bce (%s) against the Float64 reference', (variant) => {
  it('awkward shapes (rows and cols from 1, 7, 13, 127, 257, 784, 1000)', async () => {
    const shapes = ROW_SHAPES;
    let seed = 1;
    for (const [rows, cols] of shapes) {
      await check(randomArray(rows * cols, seed, 6), targets(rows * cols, seed + 1), rows, cols, { variant });
      seed += 2;
    }
  });

  it('divides the gradient by batchSize, not rows', async () => {
    await check(randomArray(13 * 7, 5, 4), targets(13 * 7, 6), 13, 7, { batchSize: 100, variant });
  });

  it('is finite and matches the reference for logits ±1e4, ±1e30, and zero rows', async () => {
    const z = Float32Array.from([1e4, -1e4, 1e4, -1e4, 1e30, -1e30, 1e30, -1e30, 0, 0, 0, 0, 1e30, -1e30, 1e4, -1e4]);
    const y = Float32Array.from([1, 0, 0, 1, 1, 0, 0.5, 0.25, 0, 1, 0.5, 0.5, 0, 1, 0.75, 0.1]);
    const got = await check(z, y, 4, 4, { variant });
    expect(got.loss.every(Number.isFinite), 'finite loss').toBe(true);
    expect(got.grad.every(Number.isFinite), 'finite dZ').toBe(true);
    expect(got.loss[0]).toBe(2e4); // the two confident right outputs cost ~0, the two wrong ones 1e4 each
  });

  it('log1p(exp(−|z|)) keeps its relative accuracy where log(1 + x) would round to 0', async () => {
    const zs = [8, -8, 17, -17, 25, -25, 40, -40];
    const z = Float32Array.from(zs);
    const y = Float32Array.from(zs.map((v) => (v > 0 ? 1 : 0))); // confident and right: loss = log1p(e^−|z|)
    const got = await check(z, y, zs.length, 1, { variant });
    expectClose(
      got.loss,
      zs.map((v) => Math.log1p(Math.exp(-Math.abs(v)))),
      LOG1P_TOL,
      'sigmoid_bce tiny losses',
    );
  });

  it('splits many rows over a 2D grid (limit forced to 4 workgroups per dimension; 300 rows: 5 of 64)', async () => {
    await check(randomArray(300 * 10, 8, 4), targets(300 * 10, 9), 300, 10, { variant, maxWorkgroupsPerDimension: 4 });
  });

  it("weighted: each row's loss and dZ times its weight, zeros included, awkward shapes", async () => {
    let seed = 40;
    for (const [rows, cols] of ROW_SHAPES) {
      const options = { variant, weights: lossWeights(rows, seed + 2) };
      const got = await check(randomArray(rows * cols, seed, 6), targets(rows * cols, seed + 1), rows, cols, options);
      expectZeroWeightRows(got, rows, cols);
      seed += 3;
    }
    await check(randomArray(300 * 10, 8, 4), targets(300 * 10, 9), 300, 10, {
      variant,
      maxWorkgroupsPerDimension: 4,
      weights: lossWeights(300, 10),
    });
  });

  it('weighted with every weight 1 is the unweighted kernel bit for bit', async () => {
    for (const [rows, cols] of [
      [127, 10],
      [13, 257],
    ] as const) {
      const z = randomArray(rows * cols, rows, 6);
      const y = targets(rows * cols, cols);
      const ones = await runGpu(z, y, rows, cols, { variant, weights: new Float32Array(rows).fill(1) });
      expectSameResults(ones, await runGpu(z, y, rows, cols, { variant }), `${rows}×${cols}`);
    }
  });
});

describe('sigmoid_bce', () => {
  it('rejects short buffers and a non-positive batch size with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 12);
    const base = { logits: buf, targets: buf, rows: 3, cols: 4, batchSize: 3, gradLogits: buf, lossRows: buf };
    await expect(prepareSigmoidBce(ctx, scope, { ...base, correctRows: buf, cols: 5 })).rejects.toThrow(
      'sigmoid_bce: logits binds 48 bytes, expected at least 60 for f32 [3, 5]',
    );
    await expect(prepareSigmoidBce(ctx, scope, { ...base, correctRows: buf, batchSize: -1 })).rejects.toThrow(
      /batchSize = -1/,
    );
    scope.destroy();
  });
});
