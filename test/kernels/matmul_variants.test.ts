// Every matmul variant other than the two untuned defaults (test/kernels/matmul.test.ts has those),
// split-K, and db fused into dW: a file of its own so that the test runner's two workers share the
// matmul tests.
import { describe, expect, it } from 'vitest';
import { prepareBiasGrad } from '../../src/kernels/bias_grad.js';
import {
  MATMUL_VARIANTS,
  type MatmulArgs,
  type MatmulVariant,
  matmulUnsupported,
  prepareMatmul,
} from '../../src/kernels/matmul.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { emptyF32, upload, useGpuContext } from '../helpers/gpu.js';
import { type Case, checkMatmul, EPILOGUES, FORMS, type MatmulEpilogue, variantsOf } from '../helpers/matmul.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();
const check = (c: Case, seed: number, variant: MatmulVariant) => checkMatmul(gpu(), c, seed, variant);

// Every other variant, forced one by one: the three forms on awkward shapes (those a vec4 kernel
// accepts: the dimensions it reads as vec4 are multiples of 4), and the epilogues.
const OTHERS = Object.keys(MATMUL_VARIANTS).filter((v) => v !== 'tiled' && v !== 'direct');

const ALIGNED = [4, 12, 132, 260];

/** Awkward shapes the variant accepts for a form: the free dimensions from AWKWARD, the aligned ones from ALIGNED. */
function shapesFor(variant: string, form: (typeof FORMS)[number]): { M: number; N: number; K: number }[] {
  const shapes: { M: number; N: number; K: number }[] = [];
  for (const [i, M] of [1, 13, 127, 260].entries()) {
    for (const [j, N] of [1, 12, 257].entries()) {
      const K = [7, 132, 257, 4][(i + j) % 4] as number;
      shapes.push({ M, N, K });
    }
  }
  const vec4 = MATMUL_VARIANTS[variant as keyof typeof MATMUL_VARIANTS].family === 'vec4';
  if (!vec4) return shapes;
  // Round the dimensions a vec4 kernel reads as vec4 up to a multiple of 4 (or pick one from ALIGNED).
  const up = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);
  return shapes.map(({ M, N, K }, i) => {
    const s = { M, N: up(N), K };
    if (form.transposeA) s.M = up(M);
    else s.K = up(K);
    if (form.transposeB) s.K = up(s.K);
    if (i === 0) return { ...s, N: ALIGNED[1] as number };
    return s;
  });
}

describe.each(OTHERS)('matmul (%s) against the Float64 reference', (variant) => {
  for (const form of FORMS) {
    it(`${form.name} on awkward shapes`, async () => {
      let seed = 500;
      for (const s of shapesFor(variant, form)) {
        const c = { ...s, transposeA: form.transposeA, transposeB: form.transposeB };
        expect(matmulUnsupported({ ...c, a: 0, b: 0, out: 0 } as unknown as MatmulArgs, variant)).toBeUndefined();
        await check(c, seed++, variant);
      }
    });
  }

  // The tiled and direct variants share their epilogue code (store) with the defaults, tested with all
  // eleven above: here one of each kind (bias, an activation, one with constants, PRE, masks). The vec4
  // kernel has its own (store4): all eleven, once.
  const kinds: MatmulEpilogue[] = ['bias', 'bias_relu', 'bias_leakyRelu', 'bias_gelu', 'mask_tanh', 'mask_gelu'];
  it(`fuses ${variant === 'vec4' ? 'every epilogue' : 'each kind of epilogue'}`, async () => {
    const vec4 = MATMUL_VARIANTS[variant as keyof typeof MATMUL_VARIANTS].family === 'vec4';
    let seed = 700;
    for (const epilogue of variant === 'vec4' ? EPILOGUES : kinds) {
      const transposeB = epilogue.startsWith('mask');
      await check({ M: 127, N: vec4 ? 12 : 13, K: vec4 ? 260 : 257, transposeB, epilogue }, seed++, variant);
    }
  });
});

describe('split-K: slices added in a fixed order by a second dispatch', () => {
  const SPLITS = [
    'tiled/k2',
    'tiled/k16',
    'tiled.32x16/k4',
    'tiled.128x128/k8',
    'direct/k4',
    'direct.8x4/k16',
    'direct.4x4/k4',
  ];
  for (const variant of SPLITS) {
    it(`${variant}: the three forms with K awkward and slices of unequal length, and every epilogue`, async () => {
      let seed = 900;
      for (const form of FORMS) {
        for (const [M, N, K] of [
          [13, 7, 257],
          [127, 13, 1000],
          [1, 1, 31],
          [7, 257, 3],
        ] as const) {
          await check({ M, N, K, transposeA: form.transposeA, transposeB: form.transposeB }, seed++, variant);
        }
      }
      for (const epilogue of ['bias_relu', 'bias_gelu', 'mask_tanh', 'mask_gelu'] as const) {
        await check({ M: 13, N: 13, K: 257, transposeB: epilogue.startsWith('mask'), epilogue }, seed++, variant);
      }
    });
  }

  it('gives the same bits on every run (no atomics, no dependence on timing)', async () => {
    const ctx = gpu();
    const runs: Float32Array[] = [];
    for (let r = 0; r < 3; r++) {
      const scope = new OpScope(ctx);
      const out = emptyF32(ctx, 'split.out', 13 * 7);
      const op = await prepareMatmul(ctx, scope, {
        a: upload(ctx, 'a', randomArray(13 * 1000, 1)),
        b: upload(ctx, 'b', randomArray(1000 * 7, 2)),
        out,
        M: 13,
        N: 7,
        K: 1000,
        variant: 'tiled/k16',
      });
      submitOps(ctx, [op]);
      runs.push(await ctx.readF32(out));
      scope.destroy();
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
  });
});

describe('biasGrad: db = Σ_rows G from the dW = Aᵀ·G dispatch', () => {
  // Every tiled and direct variant (vec4 kernels do not fuse db), and two split-K forms (tiled only).
  const FUSING = [...variantsOf('tiled', 'direct'), 'tiled/k4', 'tiled.32x32/k2'];
  for (const variant of FUSING) {
    it(`${variant}: dW and db at awkward shapes (rows a multiple of the tile, and not)`, async () => {
      let seed = 1100;
      for (const [M, N, K] of [
        [1, 1, 1],
        [13, 10, 127],
        [64, 10, 128], // M + 1 spills into a new tile row
        [127, 257, 7],
        [128, 16, 257],
      ] as const) {
        await check({ M, N, K, transposeA: true, biasGrad: true }, seed++, variant);
      }
      await check({ M: 15, N: 9, K: 33, biasGrad: true }, seed++, variant); // A·B too
    });
  }

  it("direct kernels sum db as bias_grad_direct does (blocks of 64 rows): the same bits, on dW's own pipeline", async () => {
    const ctx = gpu();
    for (const [M, N, K] of [
      [13, 100, 133], // a table's first layer: three blocks of rows, the last short
      [100, 3, 200],
      [7, 9, 64],
      [5, 257, 65],
    ] as const) {
      const scope = new OpScope(ctx);
      const a = upload(ctx, 'a', randomArray(K * M, M + K));
      const g = upload(
        ctx,
        'g',
        randomArray(K * N, N + K).map((v) => v * 1e3 + 0.1),
      );
      const separate = emptyF32(ctx, 'db.separate', N);
      const ops = [await prepareBiasGrad(ctx, scope, { grad: g, rows: K, cols: N, out: separate, variant: 'direct' })];
      const fused: GPUBuffer[] = [];
      for (const variant of variantsOf('direct')) {
        const db = emptyF32(ctx, `db.${variant}`, N);
        const args = { a, b: g, out: emptyF32(ctx, 'dW', M * N), M, N, K, transposeA: true, biasGrad: db, variant };
        ops.push(await prepareMatmul(ctx, scope, args));
        fused.push(db);
      }
      submitOps(ctx, ops);
      const expected = await ctx.readF32(separate);
      for (const [i, db] of fused.entries()) {
        expect(await ctx.readF32(db), `${variantsOf('direct')[i]} ${M}×${N}×${K}`).toEqual(expected);
      }
      scope.destroy();
    }
  });

  it('direct split-K kernels do not fuse db (the sums would follow the slices, not bias_grad_direct)', () => {
    const buffer = { size: 64 } as GPUBuffer; // matmulUnsupported reads the shape only
    const args = { a: buffer, b: buffer, out: buffer, M: 4, N: 4, K: 4, transposeA: true, biasGrad: buffer };
    expect(matmulUnsupported(args, 'direct/k2')).toMatch(/direct split-K kernels do not fuse biasGrad/);
    expect(matmulUnsupported(args, 'direct')).toBeUndefined();
    expect(matmulUnsupported(args, 'tiled/k2')).toBeUndefined();
  });
});
