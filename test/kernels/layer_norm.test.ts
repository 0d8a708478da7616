/**
 * The LayerNorm kernels against their twin (src/reference/layer_norm.ts): forward with its activation,
 * the statistics and y kept for training, the input gradient with the layer below's act' fused, and
 * dγ, dβ — in both variants (one invocation per row, one workgroup per row), on rows 1, 7, 65 (not a
 * multiple of the workgroup) and widths 1, 13, 1031.
 */
import { describe, expect, it } from 'vitest';
import type { RowVariant } from '../../src/kernels/check.js';
import { prepareLayerNorm, prepareLayerNormBackward } from '../../src/kernels/layer_norm.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { layerNormBackwardRef, layerNormForwardRef } from '../../src/reference/layer_norm.js';
import { kernelAct, refAct } from '../helpers/activations.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();
const EPS = 1e-5;

// y = γ(x − μ)ρ + β: the mean and variance are f32 sums of C terms (≈ √C·2⁻²⁴ relative), ρ one more
// rounding; for C ≤ 1031 and O(1) values a few 1e-6 of |y| ≤ ~6. The backward's two row sums the same.
const FORWARD_TOL = { atol: 1e-5, rtol: 1e-5 };
const BACKWARD_TOL = { atol: 2e-5, rtol: 2e-5 };
// dγ, dβ: sums over the rows (≤ 65) of O(1) products.
const PARAM_TOL = { atol: 2e-5, rtol: 1e-5 };

async function check(rows: number, cols: number, variant: RowVariant, seed: number): Promise<void> {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const x = randomArray(rows * cols, seed, 3);
  const gamma = randomArray(cols, seed + 1).map((v) => v + 1.5);
  const beta = randomArray(cols, seed + 2);
  const dy = randomArray(rows * cols, seed + 3);
  const v = randomArray(rows * cols, seed + 4).map((t) => (t < -0.5 ? 0 : Math.abs(t))); // ReLU outputs, zeros too
  // Float64: forward with GELU (its y kept: GELU's derivative reads its input), backward with ReLU below
  const y = new Float64Array(rows * cols);
  const stats = layerNormForwardRef(x, gamma, beta, rows, cols, EPS, y);
  const gelu = refAct('gelu');
  const out = y.map((t) => gelu.forward(t));
  const ref = { dgamma: new Float64Array(cols), dbeta: new Float64Array(cols), dx: new Float64Array(rows * cols) };
  layerNormBackwardRef(x, gamma, stats, dy, rows, cols, ref);
  const relu = refAct('relu');
  const dx = ref.dx.map((g, i) => g * relu.grad(v[i] as number));

  const got = await withValidation(ctx, async () => {
    const input = upload(ctx, 'ln.x', x);
    const g = upload(ctx, 'ln.gamma', gamma);
    const output = emptyF32(ctx, 'ln.out', rows * cols);
    const pre = emptyF32(ctx, 'ln.y', rows * cols);
    const saved = emptyF32(ctx, 'ln.stats', rows * 2);
    const inputGrad = emptyF32(ctx, 'ln.dx', rows * cols);
    const gammaGrad = emptyF32(ctx, 'ln.dgamma', cols);
    const betaGrad = emptyF32(ctx, 'ln.dbeta', cols);
    const forward = await prepareLayerNorm(ctx, scope, {
      rows,
      cols,
      input,
      gamma: g,
      beta: upload(ctx, 'ln.beta', beta),
      eps: EPS,
      activation: kernelAct('gelu'),
      output,
      pre,
      stats: saved,
      variant,
    });
    const backward = await prepareLayerNormBackward(ctx, scope, {
      rows,
      cols,
      input,
      gamma: g,
      stats: saved,
      grad: upload(ctx, 'ln.dy', dy),
      below: kernelAct('relu'),
      values: upload(ctx, 'ln.v', v),
      inputGrad,
      gammaGrad,
      betaGrad,
      variant,
    });
    submitOps(ctx, [forward, ...backward]);
    return Promise.all([output, pre, saved, inputGrad, gammaGrad, betaGrad].map((b) => ctx.readF32(b)));
  });
  scope.destroy();
  const [gOut, gPre, gStats, gDx, gDgamma, gDbeta] = got as Float32Array[];
  const what = `${variant} [${rows}, ${cols}]`;
  expectClose(gPre as Float32Array, y, FORWARD_TOL, `${what} y`);
  expectClose(gOut as Float32Array, out, { atol: 2e-5, rtol: 2e-5 }, `${what} gelu(y)`);
  const meanRho = Array.from({ length: rows }, (_, r) => [stats.mean[r], stats.rstd[r]]).flat() as number[];
  expectClose(gStats as Float32Array, meanRho, { atol: 1e-6, rtol: 1e-5 }, `${what} μ, ρ`);
  expectClose(gDx as Float32Array, dx, BACKWARD_TOL, `${what} dx`);
  expectClose(gDgamma as Float32Array, ref.dgamma, PARAM_TOL, `${what} dγ`);
  expectClose(gDbeta as Float32Array, ref.dbeta, PARAM_TOL, `${what} dβ`);
}

describe('layer_norm kernels against the Float64 twin', () => {
  for (const variant of ['row', 'workgroup'] as const) {
    it(`${variant}: rows 1, 7, 65, widths 1, 13, 1031`, async () => {
      let seed = 10;
      for (const rows of [1, 7, 65]) for (const cols of [1, 13, 1031]) await check(rows, cols, variant, seed++);
    });
  }

  it('evaluation keeps nothing: no y, no statistics (the PRE and SAVE flags off)', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const x = randomArray(3 * 5, 1);
    const y = new Float64Array(15);
    layerNormForwardRef(x, [1, 1, 1, 1, 1], [0, 0, 0, 0, 0], 3, 5, EPS, y);
    const output = emptyF32(ctx, 'ln.out', 15);
    const ones = upload(ctx, 'ln.1', [1, 1, 1, 1, 1]);
    const op = await withValidation(ctx, () =>
      prepareLayerNorm(ctx, scope, {
        rows: 3,
        cols: 5,
        input: upload(ctx, 'ln.x', x),
        gamma: ones,
        beta: upload(ctx, 'ln.0', [0, 0, 0, 0, 0]),
        eps: EPS,
        activation: kernelAct('linear'),
        output,
      }),
    );
    submitOps(ctx, [op]);
    expectClose(await ctx.readF32(output), y, FORWARD_TOL, 'eval y');
    scope.destroy();
  });

  it('refuses eps ≤ 0 and a statistics buffer too small, naming them', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const b = emptyF32(ctx, 'b', 8);
    const args = { rows: 2, cols: 4, input: b, gamma: b, beta: b, activation: kernelAct('relu'), output: b };
    await expect(prepareLayerNorm(ctx, scope, { ...args, eps: 0 })).rejects.toThrow(
      'eps = 0, expected a positive number',
    );
    await expect(prepareLayerNorm(ctx, scope, { ...args, eps: EPS, stats: emptyF32(ctx, 's', 1) })).rejects.toThrow(
      'stats binds 4 bytes, expected at least 16 for f32 [2, 2]',
    );
    scope.destroy();
  });
});
