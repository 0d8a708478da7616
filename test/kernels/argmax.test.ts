import { describe, expect, it } from 'vitest';
import { prepareArgmax } from '../../src/kernels/argmax.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { argmaxRef } from '../../src/reference/argmax.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';
import { ROW_SHAPES, type RowKernelOptions } from '../helpers/rows.js';

const gpu = useGpuContext();
// Exact: an index, no rounding anywhere.

async function check(z: Float32Array, rows: number, cols: number, options: RowKernelOptions = {}) {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const out = emptyF32(ctx, 'test.argmax', rows);
  const got = await withValidation(ctx, async () => {
    const op = await prepareArgmax(ctx, scope, {
      logits: upload(ctx, 'test.Z', z),
      rows,
      cols,
      out,
      ...options,
    });
    submitOps(ctx, [op]);
    return new Uint32Array(await ctx.read(out, 0, rows * 4));
  });
  scope.destroy();
  const expected = new Uint32Array(rows);
  argmaxRef(z, rows, cols, expected);
  expect(Array.from(got), `argmax (${options.variant}) ${rows}×${cols}`).toEqual(Array.from(expected));
}

/** Values from a few levels only, so most rows have ties for the maximum (and some a late unique one). */
function tiedLogits(n: number, seed: number): Float32Array {
  return Float32Array.from(randomInts(n, seed, 4), (v) => v - 2);
}

// Every test runs both kernels: a workgroup per row (wide rows) and an invocation per row (narrow rows, CPUs).
describe.each(['workgroup', 'row'] as const)('argmax (%s) against the reference (exact)', (variant) => {
  it('awkward shapes with random and heavily tied logits: the first maximum wins', async () => {
    const shapes = ROW_SHAPES;
    let seed = 1;
    for (const [rows, cols] of shapes) {
      await check(randomArray(rows * cols, seed++), rows, cols, { variant });
      await check(tiedLogits(rows * cols, seed++), rows, cols, { variant });
    }
  });

  it('ties across invocations, extreme values, a maximum in the last column', async () => {
    // cols 130 > 64 invocations: columns 1, 65 and 129 are handled by different lanes or passes
    const cols = 130;
    const z = new Float32Array(4 * cols).fill(-1);
    z[0 * cols + 65] = 5;
    z[0 * cols + 129] = 5; // row 0 → 65
    z[1 * cols + 129] = 1e30; // row 1 → 129
    z.fill(-1e30, 2 * cols, 3 * cols); // row 2 all equal → 0
    z[3 * cols + 64] = 7;
    z[3 * cols + 1] = 7; // row 3 → 1
    await check(z, 4, cols, { variant });
  });

  it('splits many rows over a 2D grid (limit forced to 4 workgroups per dimension; 300 rows: 5 of 64)', async () => {
    await check(tiedLogits(300 * 10, 9), 300, 10, { variant, maxWorkgroupsPerDimension: 4 });
  });
});

describe('argmax', () => {
  it('rejects a short output buffer with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    await expect(
      prepareArgmax(ctx, scope, { logits: emptyF32(ctx, 'z', 20), rows: 5, cols: 4, out: emptyF32(ctx, 'o', 2) }),
    ).rejects.toThrow('argmax: out binds 8 bytes, expected at least 20 for u32 [5]');
    scope.destroy();
  });
});
