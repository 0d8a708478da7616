/**
 * The BatchNorm1d kernels against their twin (src/reference/batch_norm.ts): the training forward with
 * its activation, its statistics and the running statistics' update (PyTorch's momentum, the unbiased
 * variance), the backward with the layer below's act' fused and dγ, dβ, and the evaluation forward
 * from the running statistics — on batches 1, 2, 7, 65 (not a multiple of the workgroup) and widths 1,
 * 13, 1031, and a 2D grid for the evaluation.
 */
import { describe, expect, it } from 'vitest';
import { prepareBatchNormBackward, prepareBatchNormEval, prepareBatchNormTrain } from '../../src/kernels/batch_norm.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { batchNormBackwardRef, batchNormEvalRef, batchNormForwardRef } from '../../src/reference/batch_norm.js';
import { kernelAct, refAct } from '../helpers/activations.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();
const EPS = 1e-5;
const MOMENTUM = 0.1;

// Column sums over ≤ 65 rows in blocks, then y = γ(x − μ)ρ + β: a few 1e-6 of O(1) values. A batch of
// two rows has σ² = (d/2)² and x̂ = ±1: still well conditioned.
const FORWARD_TOL = { atol: 1e-5, rtol: 1e-5 };
const BACKWARD_TOL = { atol: 3e-5, rtol: 3e-5 };
// The running statistics: (1 − m)·r + m·μ, one or two roundings more.
const RUNNING_TOL = { atol: 1e-6, rtol: 2e-6 };

async function check(rows: number, cols: number, seed: number): Promise<void> {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const x = randomArray(rows * cols, seed, 3).map((v, i) => v + ((i % cols) % 7)); // columns of different means (0 … 6)
  const gamma = randomArray(cols, seed + 1).map((v) => v + 1.5);
  const beta = randomArray(cols, seed + 2);
  const rm = randomArray(cols, seed + 3);
  const rv = randomArray(cols, seed + 4).map((v) => v + 2);
  const dy = randomArray(rows * cols, seed + 5);
  const v = randomArray(rows * cols, seed + 6); // tanh outputs of the layer below
  const y = new Float64Array(rows * cols);
  const f = batchNormForwardRef(
    x,
    gamma,
    beta,
    rows,
    cols,
    EPS,
    MOMENTUM,
    { mean: Float64Array.from(rm), var: Float64Array.from(rv) },
    y,
  );
  const relu = refAct('relu');
  const out = y.map((t) => relu.forward(t));
  const ref = { dgamma: new Float64Array(cols), dbeta: new Float64Array(cols), dx: new Float64Array(rows * cols) };
  batchNormBackwardRef(x, gamma, f, dy, rows, cols, ref);
  const tanh = refAct('tanh');
  const dx = ref.dx.map((g, i) => g * tanh.grad(v[i] as number));
  const evalY = new Float64Array(rows * cols);
  batchNormEvalRef(x, gamma, beta, rows, cols, EPS, f.running, evalY);

  const got = await withValidation(ctx, async () => {
    const input = upload(ctx, 'bn.x', x);
    const g = upload(ctx, 'bn.gamma', gamma);
    const b = upload(ctx, 'bn.beta', beta);
    const runningMean = upload(ctx, 'bn.rm', rm);
    const runningVar = upload(ctx, 'bn.rv', rv);
    const output = emptyF32(ctx, 'bn.out', rows * cols);
    const stats = emptyF32(ctx, 'bn.stats', 2 * cols);
    const inputGrad = emptyF32(ctx, 'bn.dx', rows * cols);
    const gammaGrad = emptyF32(ctx, 'bn.dgamma', cols);
    const betaGrad = emptyF32(ctx, 'bn.dbeta', cols);
    const evalOut = emptyF32(ctx, 'bn.eval', rows * cols);
    const common = { rows, cols, input, gamma: g, beta: b, eps: EPS, runningMean, runningVar };
    const ops = [
      await prepareBatchNormTrain(ctx, scope, {
        ...common,
        activation: kernelAct('relu'),
        output,
        stats,
        momentum: MOMENTUM,
      }),
      await prepareBatchNormBackward(ctx, scope, {
        rows,
        cols,
        input,
        gamma: g,
        stats,
        grad: upload(ctx, 'bn.dy', dy),
        below: kernelAct('tanh'),
        values: upload(ctx, 'bn.v', v),
        inputGrad,
        gammaGrad,
        betaGrad,
      }),
      // evaluation after the step: from the updated running statistics
      await prepareBatchNormEval(ctx, scope, { ...common, activation: kernelAct('linear'), output: evalOut }),
    ];
    submitOps(ctx, ops);
    return Promise.all(
      [output, stats, runningMean, runningVar, inputGrad, gammaGrad, betaGrad, evalOut].map((buf) => ctx.readF32(buf)),
    );
  });
  scope.destroy();
  const [gOut, gStats, gRm, gRv, gDx, gDgamma, gDbeta, gEval] = got as Float32Array[];
  const what = `[${rows}, ${cols}]`;
  // y = γ(x − μ)ρ + β: x − μ is exact to an ulp of x (and μ), which ρ then scales: a column whose spread
  // is small against its mean (two rows that nearly agree) carries that, γ·ρ·ulp(|x| + |μ|), per element.
  for (let i = 0; i < rows * cols; i++) {
    const c = i % cols;
    const cond =
      Math.abs((gamma[c] as number) * (f.rstd[c] as number)) *
      (Math.abs(x[i] as number) + Math.abs(f.mean[c] as number)) *
      2 ** -22;
    const err = Math.abs(((gOut as Float32Array)[i] as number) - (out[i] as number));
    expect(err, `${what} relu(y)[${i}]`).toBeLessThanOrEqual(
      FORWARD_TOL.atol + FORWARD_TOL.rtol * Math.abs(out[i] as number) + cond,
    );
  }
  expectClose(gStats as Float32Array, [...f.mean, ...f.rstd], { atol: 1e-5, rtol: 1e-5 }, `${what} μ, ρ`);
  expectClose(gRm as Float32Array, f.running.mean, RUNNING_TOL, `${what} running_mean`);
  expectClose(gRv as Float32Array, f.running.var, RUNNING_TOL, `${what} running_var`);
  // dx = k·(B·dy − Σdy − x̂·Σdy·x̂), k = γρ/B: the three terms cancel (exactly, for B = 2 and ε = 0), so
  // its f32 error is that of the terms (x̂ = (x − μ)·ρ carries the roundings of μ and ρ into all three),
  // not of dx: bounded by 1e-5 of their size (≈ 170 ulp; a wrong formula is off by the terms themselves).
  for (let i = 0; i < rows * cols; i++) {
    const c = i % cols;
    const k = Math.abs((gamma[c] as number) * (f.rstd[c] as number));
    let sumAbs = 0;
    for (let r = 0; r < rows; r++) sumAbs += Math.abs(dy[r * cols + c] as number) * 2;
    const terms = k * (Math.abs(dy[i] as number) + sumAbs / rows) * Math.abs(tanh.grad(v[i] as number));
    const err = Math.abs(((gDx as Float32Array)[i] as number) - (dx[i] as number));
    expect(err, `${what} dx[${i}]: ${(gDx as Float32Array)[i]} vs ${dx[i]} (terms ${terms})`).toBeLessThanOrEqual(
      BACKWARD_TOL.atol + BACKWARD_TOL.rtol * Math.abs(dx[i] as number) + 1e-5 * terms,
    );
  }
  expectClose(gDgamma as Float32Array, ref.dgamma, BACKWARD_TOL, `${what} dγ`);
  expectClose(gDbeta as Float32Array, ref.dbeta, BACKWARD_TOL, `${what} dβ`);
  expectClose(gEval as Float32Array, evalY, FORWARD_TOL, `${what} evaluation`);
}

describe('batch_norm kernels against the Float64 twin', () => {
  it('training forward, running statistics, backward and evaluation: rows 1, 2, 7, 65, widths 1, 13, 1031', async () => {
    let seed = 20;
    for (const rows of [1, 2, 7, 65]) for (const cols of [1, 13, 1031]) await check(rows, cols, seed++);
  });

  it('evaluation on a 2D grid (limit forced to 4 workgroups per dimension)', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const [rows, cols] = [9, 150]; // 1350 elements: 6 workgroups of 256 → 2 × 3
    const x = randomArray(rows * cols, 3);
    const ones = Float32Array.from({ length: cols }, () => 1);
    const zeros = new Float32Array(cols);
    const expected = new Float64Array(rows * cols);
    batchNormEvalRef(
      x,
      ones,
      zeros,
      rows,
      cols,
      EPS,
      { mean: Float64Array.from(zeros), var: Float64Array.from(ones) },
      expected,
    );
    const output = emptyF32(ctx, 'bn.out', rows * cols);
    const op = await withValidation(ctx, () =>
      prepareBatchNormEval(ctx, scope, {
        rows,
        cols,
        input: upload(ctx, 'x', x),
        gamma: upload(ctx, 'g', ones),
        beta: upload(ctx, 'b', zeros),
        runningMean: upload(ctx, 'm', zeros),
        runningVar: upload(ctx, 'v', ones),
        eps: EPS,
        activation: kernelAct('linear'),
        output,
        maxWorkgroupsPerDimension: 4,
      }),
    );
    submitOps(ctx, [op]);
    expectClose(await ctx.readF32(output), expected, FORWARD_TOL, '2D grid');
    scope.destroy();
  });

  it('refuses a momentum outside [0, 1], naming it', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const b = emptyF32(ctx, 'b', 8);
    await expect(
      prepareBatchNormTrain(ctx, scope, {
        rows: 2,
        cols: 4,
        input: b,
        gamma: b,
        beta: b,
        eps: EPS,
        activation: kernelAct('relu'),
        output: b,
        runningMean: b,
        runningVar: b,
        stats: b,
        momentum: 2,
      }),
    ).rejects.toThrow('momentum = 2, expected [0, 1]');
    scope.destroy();
  });
});
