import { describe, expect, it } from 'vitest';
import { GATHER_NO_LABEL, prepareGather } from '../../src/kernels/gather.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { gatherRef } from '../../src/reference/gather.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, uploadU32, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();

// Exact: a copy, and for u8 one correctly rounded f32 product byte·scale, which the expected values
// reproduce by rounding the Float64 reference (byte·fround(scale) is exact in Float64) to f32.
const EXACT = { atol: 0, rtol: 0 };
const SCALE = Math.fround(1 / 255);

/** n·cols bytes packed into u32 words, little-endian, the tail zero-padded. */
function packBytes(bytes: Uint8Array): Uint32Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return new Uint32Array(padded.buffer);
}

interface Case {
  source: 'u8' | 'f32';
  n: number;
  cols: number;
  rows: number;
  targetCols: number;
  /** Batch windows to gather, one submit each. */
  starts: number[];
  /** Replaces some indices with out-of-range ones. */
  outOfRange?: boolean;
  /** Gathers the rows' loss weights instead of the dense targets (8 storage buffers at most per shader). */
  weights?: boolean;
  maxWorkgroupsPerDimension?: number;
}

async function check(c: Case, seed: number): Promise<void> {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const { source, n, cols, rows, targetCols } = c;
  const bytes = Uint8Array.from(randomInts(n * cols, seed, 256));
  const floats = randomArray(n * cols, seed + 1, 100);
  const labels = randomInts(n, seed + 2, 10);
  const dense = randomArray(n * targetCols, seed + 3);
  const weights = randomArray(n, seed + 5, 3).map(Math.abs);
  const indexCount = Math.max(...c.starts) + rows;
  const indices = randomInts(indexCount, seed + 4, n);
  if (c.outOfRange) {
    for (let i = 0; i < indexCount; i += 5) indices[i] = [n, n + 7, 0xffffffff][(i / 5) % 3] as number;
  }

  const x = emptyF32(ctx, 'test.x', rows * cols);
  const y = emptyF32(ctx, 'test.y', rows);
  const yDense = emptyF32(ctx, 'test.yDense', rows * targetCols);
  const yWeights = emptyF32(ctx, 'test.yWeights', rows);
  await withValidation(ctx, async () => {
    const op = await prepareGather(ctx, scope, {
      source,
      images: source === 'u8' ? uploadU32(ctx, 'test.images', packBytes(bytes)) : upload(ctx, 'test.images', floats),
      labels: uploadU32(ctx, 'test.labels', labels),
      ...(c.weights
        ? { weights: upload(ctx, 'test.weights', weights), yWeights }
        : { denseTargets: upload(ctx, 'test.targets', dense), targetCols, yDense }),
      indices: uploadU32(ctx, 'test.indices', indices),
      rows,
      cols,
      n,
      scale: SCALE,
      x,
      y,
      maxWorkgroupsPerDimension: c.maxWorkgroupsPerDimension,
    });
    for (const start of c.starts) {
      op.setStart(start);
      submitOps(ctx, [op]);
      const what = `gather ${source} n=${n} ${rows}×${cols} ${c.weights ? 'weights' : `K=${targetCols}`} start=${start}`;

      const ex = new Float64Array(rows * cols);
      if (source === 'u8') gatherRef(bytes, n, cols, indices, start, rows, ex, SCALE);
      else gatherRef(floats, n, cols, indices, start, rows, ex);
      expectClose(await ctx.readF32(x, 0, rows * cols), Float32Array.from(ex), EXACT, `${what} x`);

      const ey = new Uint32Array(rows);
      gatherRef(labels, n, 1, indices, start, rows, ey, 1, GATHER_NO_LABEL);
      expect(Array.from(new Uint32Array(await ctx.read(y, 0, rows * 4))), `${what} y`).toEqual(Array.from(ey));

      if (c.weights) {
        const ew = new Float64Array(rows); // an index ≥ n gathers weight 0: the row has no influence
        gatherRef(weights, n, 1, indices, start, rows, ew);
        expectClose(await ctx.readF32(yWeights, 0, rows), ew, EXACT, `${what} yWeights`);
        continue;
      }
      const ed = new Float64Array(rows * targetCols);
      gatherRef(dense, n, targetCols, indices, start, rows, ed);
      expectClose(await ctx.readF32(yDense, 0, rows * targetCols), ed, EXACT, `${what} yDense`);
    }
  });
  scope.destroy();
}

describe('gather against the reference (exact)', () => {
  it('u8 pixels, cols not divisible by 4 (1, 7, 13, 785), rows 1, 7, 13, 127, several windows', async () => {
    let seed = 1;
    for (const cols of [1, 7, 13, 785]) {
      for (const rows of [1, 7, 13, 127]) {
        await check({ source: 'u8', n: 257, cols, rows, targetCols: 10, starts: [0, rows, 3] }, seed++);
      }
    }
  });

  it('u8 rows that start on a word (cols 4, 12, 784): one invocation per 4 pixels, targets wider or not', async () => {
    let seed = 20;
    for (const cols of [4, 12, 784]) {
      for (const rows of [1, 7, 13, 127]) {
        await check({ source: 'u8', n: 257, cols, rows, targetCols: rows === 7 ? 300 : 10, starts: [0, 3] }, seed++);
      }
    }
  });

  it('u8 at MNIST shape: 1000 rows of 784 bytes, labels and one-hot width 10', async () => {
    await check({ source: 'u8', n: 1000, cols: 784, rows: 257, targetCols: 10, starts: [0, 743] }, 40);
  });

  it('f32 source, and targets wider than the inputs', async () => {
    await check({ source: 'f32', n: 127, cols: 13, rows: 7, targetCols: 1000, starts: [0, 5] }, 50);
    await check({ source: 'f32', n: 1000, cols: 257, rows: 13, targetCols: 1, starts: [2] }, 51);
  });

  it('indices ≥ n read nothing: zero rows and GATHER_NO_LABEL', async () => {
    await check({ source: 'u8', n: 13, cols: 7, rows: 13, targetCols: 3, starts: [0, 4], outOfRange: true }, 60);
    await check({ source: 'f32', n: 13, cols: 7, rows: 13, targetCols: 3, starts: [0], outOfRange: true }, 61);
    await check({ source: 'u8', n: 13, cols: 8, rows: 13, targetCols: 3, starts: [0, 4], outOfRange: true }, 62);
  });

  it("the rows' loss weights with the labels, indices ≥ n giving weight 0, and over a 2D grid", async () => {
    await check({ source: 'u8', n: 257, cols: 13, rows: 127, targetCols: 0, starts: [0, 5], weights: true }, 80);
    await check(
      { source: 'f32', n: 13, cols: 7, rows: 13, targetCols: 0, starts: [0, 4], outOfRange: true, weights: true },
      81,
    );
    await check(
      {
        source: 'u8',
        n: 100,
        cols: 1,
        rows: 37,
        targetCols: 0,
        starts: [1],
        maxWorkgroupsPerDimension: 1,
        weights: true,
      },
      82,
    );
  });

  it('splits many workgroups over a 2D grid (limit forced to 4 per dimension)', async () => {
    await check(
      { source: 'u8', n: 100, cols: 77, rows: 37, targetCols: 10, starts: [1], maxWorkgroupsPerDimension: 4 },
      70,
    );
    await check(
      { source: 'u8', n: 100, cols: 148, rows: 37, targetCols: 10, starts: [1], maxWorkgroupsPerDimension: 4 },
      71,
    );
  });

  it('rejects a window past the indices, unpaired outputs and a missing scale with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'buf', 64);
    const base = {
      source: 'u8',
      images: buf,
      indices: emptyF32(ctx, 'idx', 10),
      rows: 4,
      cols: 3,
      n: 8,
      scale: SCALE,
      x: buf,
    } as const;
    const op = await prepareGather(ctx, scope, base);
    op.setStart(6);
    expect(() => op.setStart(7)).toThrow(
      'gather: start = 7, expected an integer in 0..6 (indices holds 10, the batch reads 4)',
    );
    await expect(prepareGather(ctx, scope, { ...base, labels: buf })).rejects.toThrow(/labels .* and y .* go together/);
    await expect(prepareGather(ctx, scope, { ...base, weights: buf })).rejects.toThrow(
      'gather: weights (f32 [n]) and yWeights (f32 [rows]) go together: give both or neither',
    );
    await expect(prepareGather(ctx, scope, { ...base, weights: emptyF32(ctx, 'w', 7), yWeights: buf })).rejects.toThrow(
      'gather: weights binds 28 bytes, expected at least 32 for f32 [8]',
    );
    await expect(prepareGather(ctx, scope, { ...base, scale: undefined })).rejects.toThrow(/scale = undefined/);
    await expect(prepareGather(ctx, scope, { ...base, n: 100 })).rejects.toThrow(
      'gather: images binds 256 bytes, expected at least 300 for u8 [100, 3]',
    );
    scope.destroy();
  });
});
