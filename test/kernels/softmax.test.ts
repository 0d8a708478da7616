import { describe, expect, it } from 'vitest';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { prepareSoftmax } from '../../src/kernels/softmax.js';
import { softmaxRef } from '../../src/reference/softmax.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';
import { ROW_SHAPES, type RowKernelOptions } from '../helpers/rows.js';

const gpu = useGpuContext();

// p = exp(z − m)/s with p ≤ 1: exp and the divide are good to a few ulp, the f32 sum s to ~√C·2⁻²⁴
// relative (SwiftShader: 1.2e-7 absolute at worst); an indexing or reduction bug is O(1/C).
const PROB_TOL = { atol: 1e-6, rtol: 1e-5 };

async function check(z: Float32Array, rows: number, cols: number, options: RowKernelOptions = {}) {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const probs = emptyF32(ctx, 'test.P', rows * cols);
  const got = await withValidation(ctx, async () => {
    const op = await prepareSoftmax(ctx, scope, {
      logits: upload(ctx, 'test.Z', z),
      rows,
      cols,
      probs,
      ...options,
    });
    submitOps(ctx, [op]);
    return ctx.readF32(probs, 0, rows * cols);
  });
  scope.destroy();
  const expected = new Float64Array(rows * cols);
  softmaxRef(z, rows, cols, expected);
  expectClose(got, expected, PROB_TOL, `softmax (${options.variant}) ${rows}×${cols}`);
  return got;
}

// Every test runs both kernels: a workgroup per row (wide rows) and an invocation per row (narrow rows, CPUs).
describe.each(['workgroup', 'row'] as const)('softmax (%s) against the Float64 reference', (variant) => {
  it('awkward shapes (rows and cols from 1, 7, 13, 127, 257, 784, 1000)', async () => {
    const shapes = ROW_SHAPES;
    let seed = 1;
    for (const [rows, cols] of shapes) await check(randomArray(rows * cols, seed++, 8), rows, cols, { variant });
  });

  it('is finite and matches for logits ±1e4, ±1e30, all-equal and zero rows', async () => {
    const z = Float32Array.from([
      ...[1e4, -1e4, 1e4, -1e4],
      ...[1e30, -1e30, 0, 1e30],
      ...[-1e30, -1e30, -1e30, -1e30],
      ...[3, 3, 3, 3],
      ...[0, 0, 0, 0],
    ]);
    const got = await check(z, 5, 4, { variant });
    expect(got.every(Number.isFinite)).toBe(true);
    expectClose(got.slice(8), new Array(12).fill(0.25), PROB_TOL, 'all-equal rows');
  });

  it('splits many rows over a 2D grid (limit forced to 4 workgroups per dimension; 300 rows: 5 of 64)', async () => {
    await check(randomArray(300 * 10, 7, 4), 300, 10, { variant, maxWorkgroupsPerDimension: 4 });
  });
});

describe('softmax', () => {
  it('rejects a short probs buffer with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    await expect(
      prepareSoftmax(ctx, scope, { logits: emptyF32(ctx, 'z', 20), rows: 2, cols: 10, probs: emptyF32(ctx, 'p', 10) }),
    ).rejects.toThrow('softmax: probs binds 40 bytes, expected at least 80 for f32 [2, 10]');
    scope.destroy();
  });
});
