import { describe, expect, it } from 'vitest';
import type { KernelPreference } from '../../src/gpu/context.js';
import { decodeStats, prepareMetrics, resetStats, STATS_BYTES } from '../../src/kernels/metrics.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { accumulateStatsRef, emptyStatsRef } from '../../src/reference/metrics.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, uploadU32, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();

// Σ of R positive f32 losses as per-lane sums then a tree: error ~(R/256 + log2 256)·2⁻²⁴ relative,
// under 1e-6 for R ≤ 4096; Kahan keeps the cross-step sum at that. Counts are exact integers.
const SUM_TOL = { atol: 0, rtol: 1e-6 };

// Every test runs both kernels: a tree in workgroup memory ('tiled', GPUs) and one invocation ('direct', CPUs).
describe.each(['tiled', 'direct'] as const)('metrics (%s): per-row results folded into stats', (variant) => {
  it('two steps accumulate like the reference (rows 1000 then 257, batch sizes 1000 and 300)', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const stats = emptyF32(ctx, 'test.stats', STATS_BYTES / 4);
    const steps = [
      { rows: 1000, batchSize: 1000, seed: 1 },
      { rows: 257, batchSize: 300, seed: 2 },
    ];
    const expected = emptyStatsRef();
    const got = await withValidation(ctx, async () => {
      resetStats(ctx, stats);
      for (const { rows, batchSize, seed } of steps) {
        const loss = randomArray(rows, seed, 3).map(Math.abs);
        const correct = randomInts(rows, seed + 1, 2);
        accumulateStatsRef(expected, loss, correct, batchSize);
        const op = await prepareMetrics(ctx, scope, {
          variant,
          lossRows: upload(ctx, 'test.loss', loss),
          correctRows: uploadU32(ctx, 'test.correct', correct),
          rows,
          batchSize,
          stats,
        });
        submitOps(ctx, [op]);
      }
      return decodeStats(await ctx.read(stats));
    });
    scope.destroy();
    expectClose([got.lossSum, got.lastLoss], [expected.lossSum, expected.lastLoss], SUM_TOL, 'loss sums');
    expect({ correct: got.correct, count: got.count, steps: got.steps, nonFinite: got.nonFinite }).toEqual({
      correct: expected.correct,
      count: 1257,
      steps: 2,
      nonFinite: 0,
    });
  });

  it('several steps in one submit, a NaN step counted as non-finite, and resetStats', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const stats = emptyF32(ctx, 'test.stats', STATS_BYTES / 4);
    const got = await withValidation(ctx, async () => {
      resetStats(ctx, stats);
      const good = await prepareMetrics(ctx, scope, {
        variant,
        lossRows: upload(ctx, 'test.loss', [1, 2, 3, 4, 5, 6, 7]),
        correctRows: uploadU32(ctx, 'test.correct', [1, 1, 0, 1, 0, 0, 1]),
        rows: 7,
        batchSize: 7,
        stats,
      });
      const bad = await prepareMetrics(ctx, scope, {
        variant,
        lossRows: upload(ctx, 'test.nan', [1, Number.NaN]),
        correctRows: uploadU32(ctx, 'test.c2', [1, 0]),
        rows: 2,
        batchSize: 2,
        stats,
      });
      submitOps(ctx, [good, good, good]);
      const before = decodeStats(await ctx.read(stats));
      submitOps(ctx, [bad]);
      const after = decodeStats(await ctx.read(stats));
      resetStats(ctx, stats);
      const reset = decodeStats(await ctx.read(stats));
      return { before, after, reset };
    });
    scope.destroy();
    expect(got.before).toEqual({ lossSum: 84, correct: 12, count: 21, lastLoss: 4, steps: 3, nonFinite: 0 });
    expect(got.after.nonFinite).toBe(1);
    expect(got.after.steps).toBe(4);
    expect(Number.isNaN(got.after.lastLoss)).toBe(true);
    expect(got.reset).toEqual({ lossSum: 0, correct: 0, count: 0, lastLoss: 0, steps: 0, nonFinite: 0 });
  });

  it('Kahan keeps 1000 small steps on a large sum accurate', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const stats = emptyF32(ctx, 'test.stats', STATS_BYTES / 4);
    const got = await withValidation(ctx, async () => {
      resetStats(ctx, stats);
      const big = await prepareMetrics(ctx, scope, {
        variant,
        lossRows: upload(ctx, 'test.big', [1e6]),
        correctRows: uploadU32(ctx, 'test.c', [0]),
        rows: 1,
        batchSize: 1,
        stats,
      });
      const small = await prepareMetrics(ctx, scope, {
        variant,
        lossRows: upload(ctx, 'test.small', [0.01]),
        correctRows: uploadU32(ctx, 'test.c', [0]),
        rows: 1,
        batchSize: 1,
        stats,
      });
      submitOps(ctx, [big, ...new Array(1000).fill(small)]);
      return decodeStats(await ctx.read(stats));
    });
    scope.destroy();
    // naive f32: 1e6 + 0.01 rounds back to 1e6 every time (ulp 0.0625), losing all 10
    expectClose([got.lossSum], [1e6 + 1000 * Math.fround(0.01)], { atol: 0.1, rtol: 0 }, 'Kahan sum');
  });
});

describe('metrics', () => {
  it('decodeStats and prepareMetrics reject short buffers and an unknown variant with a clear message', async () => {
    expect(() => decodeStats(new ArrayBuffer(16))).toThrow('decodeStats: got 16 bytes, expected 32');
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 4);
    await expect(
      prepareMetrics(ctx, scope, { lossRows: buf, correctRows: buf, rows: 4, batchSize: 4, stats: buf }),
    ).rejects.toThrow('metrics: stats binds 16 bytes, expected at least 32 for the 32-byte stats struct');
    const stats = emptyF32(ctx, 'stats', STATS_BYTES / 4);
    const variant = 'fast' as KernelPreference;
    await expect(
      prepareMetrics(ctx, scope, { lossRows: buf, correctRows: buf, rows: 4, batchSize: 4, stats, variant }),
    ).rejects.toThrow("metrics: variant = 'fast', expected 'tiled' or 'direct'");
    scope.destroy();
  });
});
