/**
 * The affine kernel (shaders/affine.wgsl: X ← X·scale + shift per column, in place) against its Float64
 * twin affineRef on awkward shapes, extreme values and a 2D grid — the GPU half of a table network's
 * preprocessing (docs/maths.md §11).
 */
import { describe, expect, it } from 'vitest';
import { prepareAffine } from '../../src/kernels/affine.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { affineRef } from '../../src/reference/affine.js';
import { upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();

/**
 * One multiply and one add in f32, each rounded to nearest (or fused into one rounding): the product's
 * rounding is half an ulp of |x·scale|, the sum's half an ulp of the result. So element i may differ
 * from the Float64 value by 2⁻²⁴·(|x·scale| + |y|) — relative to the terms, not the result, which
 * cancellation can make small (x·scale ≈ 2000 and shift ≈ −2000 give y ≈ 1 with an error of ~1e-4).
 */
function expectAffine(got: Float32Array, x: Float32Array, scale: Float32Array, shift: Float32Array): void {
  const cols = scale.length;
  const expected = new Float64Array(x.length);
  affineRef(x, x.length / cols, cols, scale, shift, expected);
  for (let i = 0; i < x.length; i++) {
    const bound = 2 ** -24 * (Math.abs(x[i] * scale[i % cols]) + Math.abs(expected[i])) * 1.0001;
    if (!(Math.abs(got[i] - expected[i]) <= bound)) {
      throw new Error(`element ${i}: got ${got[i]}, expected ${expected[i]} within ${bound}`);
    }
  }
}

async function run(x: Float32Array, scale: Float32Array, shift: Float32Array, maxWorkgroupsPerDimension?: number) {
  const ctx = gpu();
  const cols = scale.length;
  const rows = x.length / cols;
  const scope = new OpScope(ctx);
  try {
    return await withValidation(ctx, async () => {
      const values = upload(ctx, 'test.x', x);
      const coef = upload(ctx, 'test.coef', Float32Array.of(...scale, ...shift));
      submitOps(ctx, [await prepareAffine(ctx, scope, { values, coef, rows, cols, maxWorkgroupsPerDimension })]);
      return ctx.readF32(values, 0, x.length);
    });
  } finally {
    scope.destroy();
  }
}

describe('affine kernel', () => {
  for (const [rows, cols] of [
    [1, 1],
    [7, 3],
    [13, 10],
    [127, 1],
    [257, 13],
    [1000, 7],
  ] as const) {
    it(`[${rows}, ${cols}] against affineRef`, async () => {
      const x = randomArray(rows * cols, rows + cols, 1000);
      const scale = randomArray(cols, cols, 2);
      const shift = randomArray(cols, cols + 1, 50);
      expectAffine(await run(x, scale, shift), x, scale, shift);
    });
  }

  it('standardises exactly as the host would up to rounding: (x − mean)/std as x·(1/std) − mean/std, extreme values kept finite', async () => {
    const x = Float32Array.of(0, 1e30, -1e30, 3.5, 1e-30, -0, 4200, 0.001);
    const scale = Float32Array.of(1 / 785.25, 2);
    const shift = Float32Array.of(-4215.07 / 785.25, 0);
    const got = await run(x, scale, shift);
    expectAffine(got, x, scale, shift);
    expect(got.every(Number.isFinite)).toBe(true);
  });

  it('covers every element on a 2D grid of workgroups', async () => {
    const rows = 300;
    const cols = 5; // 1,500 elements: 6 workgroups of 256, split over a grid of at most 2 per dimension
    const x = randomArray(rows * cols, 9, 10);
    const scale = randomArray(cols, 3, 1);
    const shift = randomArray(cols, 4, 1);
    expectAffine(await run(x, scale, shift, 2), x, scale, shift);
  });

  it('refuses buffers too small for the shape', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    try {
      const values = upload(ctx, 'test.x', new Float32Array(6));
      const coef = upload(ctx, 'test.coef', new Float32Array(4));
      await expect(prepareAffine(ctx, scope, { values, coef, rows: 2, cols: 3 })).rejects.toThrow(
        'affine: coef binds 16 bytes, expected at least 24 for f32 [2, 3]',
      );
    } finally {
      scope.destroy();
    }
  });
});
