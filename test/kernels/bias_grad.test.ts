import { describe, expect, it } from 'vitest';
import type { KernelPreference } from '../../src/gpu/context.js';
import { biasGradShape, prepareBiasGrad } from '../../src/kernels/bias_grad.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { biasGradRef } from '../../src/reference/bias_grad.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();

// A column sum of R values in [−1, 1] in f32: a different summation order (lanes, then a tree) drifts
// like √R·2⁻²⁴ ≈ 4e-6 at R = 4096; 1e-6·√R absolute gives headroom, a missed or doubled row is O(1).
const sumTol = (rows: number) => ({ atol: 1e-6 * Math.sqrt(rows), rtol: 1e-6 });

async function check(rows: number, cols: number, seed: number, variant: KernelPreference): Promise<void> {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const g = randomArray(rows * cols, seed);
  const out = emptyF32(ctx, 'test.db', cols);
  const got = await withValidation(ctx, async () => {
    const op = await prepareBiasGrad(ctx, scope, { grad: upload(ctx, 'test.G', g), rows, cols, out, variant });
    submitOps(ctx, [op]);
    return ctx.readF32(out, 0, cols);
  });
  scope.destroy();
  const expected = new Float64Array(cols);
  biasGradRef(g, rows, cols, expected);
  expectClose(got, expected, sumTol(rows), `bias_grad (${variant}) ${rows}×${cols}`);
}

// Every test runs both kernels: row lanes tree-reduced ('tiled', GPUs) and a column per invocation ('direct', CPUs).
describe.each(['tiled', 'direct'] as const)('bias_grad (%s) against the Float64 reference', (variant) => {
  it('awkward shapes (rows and cols from 1, 7, 13, 127, 257, 784, 1000)', async () => {
    const shapes: [number, number][] = [
      [1, 1],
      [1, 13],
      [7, 1],
      [13, 7],
      [127, 10],
      [257, 33],
      [1000, 10],
      [784, 257],
      [13, 1000],
    ];
    let seed = 1;
    for (const [rows, cols] of shapes) await check(rows, cols, seed++, variant);
  });

  it('a large layer: 4096 rows × 1000 columns', async () => {
    await check(4096, 1000, 99, variant);
  });
});

describe('bias_grad', () => {
  it('picks columns × row lanes = 256 invocations, at most 32 columns per workgroup', () => {
    expect(biasGradShape(1)).toEqual({ x: 1, y: 256 });
    expect(biasGradShape(10)).toEqual({ x: 16, y: 16 });
    expect(biasGradShape(4096)).toEqual({ x: 32, y: 8 });
  });

  it('rejects a short output buffer and an unknown variant with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 12);
    await expect(
      prepareBiasGrad(ctx, scope, { grad: buf, rows: 1, cols: 12, out: emptyF32(ctx, 'y', 4) }),
    ).rejects.toThrow('bias_grad: out binds 16 bytes, expected at least 48 for f32 [12]');
    const variant = 'fast' as KernelPreference;
    await expect(prepareBiasGrad(ctx, scope, { grad: buf, rows: 1, cols: 12, out: buf, variant })).rejects.toThrow(
      "bias_grad: variant = 'fast', expected 'tiled' or 'direct'",
    );
    scope.destroy();
  });
});
