import { describe, expect, it } from 'vitest';
import {
  MATMUL_VARIANTS,
  type MatmulArgs,
  type MatmulFamily,
  type MatmulVariant,
  matmulUnsupported,
  prepareMatmul,
} from '../../src/kernels/matmul.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import type { ActivationName } from '../../src/model/spec.js';
import { biasGradRef } from '../../src/reference/bias_grad.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { gradFromInput, kernelAct, refAct } from '../helpers/activations.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

/** The epilogues a dense layer fuses: 'bias', 'bias_<activation>' (forward), 'mask_<activation>' (backward). */
type MatmulEpilogue = 'none' | 'bias' | `bias_${ActivationName}` | `mask_${ActivationName}`;

function epilogueActivation(epilogue: MatmulEpilogue): ActivationName | undefined {
  const name = epilogue.split('_')[1];
  return name as ActivationName | undefined;
}

// fp32 accumulation of K products of O(1) terms drifts like √K·2⁻²⁴ in practice; 1e-5·√K leaves
// ~100× headroom for a different summation order (fma, tiling, split-K) while an indexing bug gives O(1) errors.
const gpu = useGpuContext();

const matmulTol = (K: number) => ({ atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 });

interface Case {
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
  epilogue?: MatmulEpilogue;
  /** Also db = Σ_k op(B)[k,n] from the same dispatch (biasGrad). */
  biasGrad?: boolean;
}

async function check(c: Case, seed: number, variant: MatmulVariant): Promise<void> {
  const ctx = gpu();
  const { M, N, K } = c;
  const epilogue = c.epilogue ?? 'none';
  const kind = epilogueActivation(epilogue);
  const isBias = epilogue.startsWith('bias');
  const isMask = epilogue.startsWith('mask');
  const a = randomArray(M * K, seed);
  const b = randomArray(K * N, seed + 1);
  const bias = randomArray(N, seed + 2);
  // What the mask epilogues read: activation outputs, in (0, 1) for sigmoid, (−1, 1) for tanh, ≥ 0 with exact
  // zeros for relu (and leaky ReLU's outputs), or pre-activations Z for GELU.
  const act = randomArray(M * N, seed + 3).map((v, i) =>
    kind === 'relu' ? (i % 5 === 0 ? 0 : Math.max(v, 0)) : kind === 'sigmoid' ? (v + 1) / 2 : v,
  );
  const expected = new Float64Array(M * N);
  const pre = kind && isBias && gradFromInput(kind) ? new Float64Array(M * N) : undefined;
  matmulRef(a, b, expected, {
    ...c,
    bias: isBias ? bias : undefined,
    activation: kind && refAct(kind),
    mask: isMask ? act : undefined,
    preActivation: pre,
  });
  // db = Σ_k op(B)[k, n]: the column sums of B [K,N], or the row sums of B [N,K].
  const expectedDb = new Float64Array(N);
  if (c.biasGrad) {
    if (c.transposeB) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) expectedDb[n] += b[n * K + k];
    else biasGradRef(b, K, N, expectedDb);
  }

  const scope = new OpScope(ctx);
  const out = emptyF32(ctx, 'test.C', M * N);
  const preOut = pre ? emptyF32(ctx, 'test.Z', M * N) : undefined;
  const dbOut = c.biasGrad ? emptyF32(ctx, 'test.db', N) : undefined;
  const got = await withValidation(ctx, async () => {
    const args: MatmulArgs = {
      M,
      N,
      K,
      transposeA: c.transposeA,
      transposeB: c.transposeB,
      variant,
      a: upload(ctx, 'test.A', a),
      b: upload(ctx, 'test.B', b),
      out,
    };
    if (isBias) args.bias = upload(ctx, 'test.bias', bias);
    if (kind) args.activation = kernelAct(kind);
    if (isMask) args.mask = upload(ctx, 'test.act', act);
    if (preOut) args.preActivation = preOut;
    if (dbOut) args.biasGrad = dbOut;
    const op = await prepareMatmul(ctx, scope, args);
    submitOps(ctx, [op]);
    return {
      out: await ctx.readF32(out, 0, M * N),
      pre: preOut && (await ctx.readF32(preOut, 0, M * N)),
      db: dbOut && (await ctx.readF32(dbOut, 0, N)),
    };
  });
  scope.destroy();
  // GELU's tanh adds a few ulp of its output on top of the product's rounding.
  const tol = kind === 'gelu' ? { atol: matmulTol(K).atol + 2e-6, rtol: 2e-6 } : matmulTol(K);
  expectClose(got.out, expected, tol, `matmul ${variant} ${JSON.stringify(c)}`);
  if (pre && got.pre) expectClose(got.pre, pre, matmulTol(K), `matmul ${variant} Z ${JSON.stringify(c)}`);
  if (got.db) expectClose(got.db, expectedDb, matmulTol(K), `matmul ${variant} db ${JSON.stringify(c)}`);
}

const AWKWARD = [1, 7, 13, 127, 257];
const FORMS = [
  { name: 'A·B', transposeA: false, transposeB: false },
  { name: 'A·Bᵀ', transposeA: false, transposeB: true },
  { name: 'Aᵀ·B', transposeA: true, transposeB: false },
] as const;

const EPILOGUES: MatmulEpilogue[] = [
  'bias',
  'bias_relu',
  'bias_sigmoid',
  'bias_tanh',
  'bias_leakyRelu',
  'bias_gelu',
  'mask_relu',
  'mask_sigmoid',
  'mask_tanh',
  'mask_leakyRelu',
  'mask_gelu',
];

// The two untuned defaults get the whole grid: 'tiled' (workgroup memory, GPUs) and 'direct' (no barriers, CPUs).
describe.each(['tiled', 'direct'] as const)('matmul (%s) against the Float64 reference', (variant) => {
  for (const form of FORMS) {
    it(`${form.name} on every awkward M, N, K combination of 1, 7, 13, 127, 257`, async () => {
      let seed = 100;
      for (const M of AWKWARD) {
        for (const N of [1, 13, 257]) {
          for (const K of [1, 7, 127]) {
            await check({ M, N, K, transposeA: form.transposeA, transposeB: form.transposeB }, seed++, variant);
          }
        }
      }
    });
    it(`${form.name} at MLP shapes (batch 1000 × 784 → 257, and 784 / 1000 as K)`, async () => {
      await check({ M: 1000, N: 257, K: 784, ...form }, 7, variant);
      await check({ M: 127, N: 1000, K: 13, ...form }, 8, variant);
      await check({ M: 13, N: 10, K: 1000, ...form }, 9, variant);
    });
  }

  for (const epilogue of EPILOGUES) {
    it(`fuses the '${epilogue}' epilogue`, async () => {
      const transposeB = epilogue.startsWith('mask'); // the backward form G·Wᵀ carries the mask
      await check({ M: 127, N: 13, K: 257, transposeB, epilogue }, 31, variant);
      await check({ M: 7, N: 257, K: 1, transposeB, epilogue }, 32, variant);
    });
  }

  it('ReLU epilogue: exactly 0 for negative and zero pre-activations, identity above', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    // A = I (3×3), B = diag values, bias 0: Z = B; relu(Z) must be exact.
    const z = new Float32Array([-2, 0, 3.5]);
    const a = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const b = new Float32Array([z[0], 0, 0, 0, z[1], 0, 0, 0, z[2]].map(Number));
    const out = emptyF32(ctx, 'relu.out', 9);
    const op = await prepareMatmul(ctx, scope, {
      a: upload(ctx, 'a', a),
      b: upload(ctx, 'b', b),
      out,
      M: 3,
      N: 3,
      K: 3,
      variant,
      activation: kernelAct('relu'),
      bias: upload(ctx, 'bias', [0, 0, 0]),
    });
    submitOps(ctx, [op]);
    const got = await ctx.readF32(out);
    expect([got[0], got[4], got[8]]).toEqual([0, 0, 3.5]);
    scope.destroy();
  });
});

// Every other variant, forced one by one: the three forms on awkward shapes (those a vec4 kernel
// accepts: the dimensions it reads as vec4 are multiples of 4), and the epilogues.
const OTHERS = Object.keys(MATMUL_VARIANTS).filter((v) => v !== 'tiled' && v !== 'direct');

/** Every variant of these families, from the table itself: a variant added there is tested here. */
function variantsOf(...families: MatmulFamily[]): string[] {
  return Object.entries(MATMUL_VARIANTS)
    .filter(([, spec]) => families.includes(spec.family))
    .map(([name]) => name);
}
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
  const SPLITS = ['tiled/k2', 'tiled/k16', 'tiled.32x16/k4', 'tiled.128x128/k8', 'direct/k4', 'direct.8x4/k16'];
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

describe('biasGrad: db = Σ_rows G from the dW = Aᵀ·G dispatch (an extra row of ones in op(A))', () => {
  // Every tiled and direct variant (vec4 kernels do not fuse db), and two split-K forms.
  const FUSING = [...variantsOf('tiled', 'direct'), 'tiled/k4', 'direct/k2'];
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
});

describe('matmul', () => {
  it("takes the context's kernel preference by default: direct on a software adapter, else tiled", () => {
    const ctx = gpu();
    expect(ctx.kernelPreference).toBe(ctx.adapter?.isSoftware ? 'direct' : 'tiled');
  });

  it('the tiled variants agree bit for bit (each element: fma over k in order)', async () => {
    const ctx = gpu();
    const outputs: Float32Array[] = [];
    const a = randomArray(132 * 260, 3);
    const b = randomArray(260 * 68, 4);
    const variants = variantsOf('tiled', 'vec4');
    expect(variants.length).toBeGreaterThanOrEqual(7);
    for (const variant of variants) {
      const scope = new OpScope(ctx);
      const out = emptyF32(ctx, 'bits.out', 132 * 68);
      const op = await prepareMatmul(ctx, scope, {
        a: upload(ctx, 'a', a),
        b: upload(ctx, 'b', b),
        out,
        M: 132,
        N: 68,
        K: 260,
        variant,
        bias: upload(ctx, 'bias', randomArray(68, 5)),
        activation: kernelAct('tanh'),
      });
      submitOps(ctx, [op]);
      outputs.push(await ctx.readF32(out));
      scope.destroy();
    }
    for (const o of outputs.slice(1)) expect(o).toEqual(outputs[0]);
  });

  it('rejects bad arguments and unknown or unfitting variants with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 4);
    await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, mask: buf })).rejects.toThrow(
      /a mask needs the activation/,
    );
    await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 0, N: 2, K: 1 })).rejects.toThrow(
      /M = 0, expected a positive integer/,
    );
    for (const variant of ['fast', 'vec4/k4', 'tiled/k3', 'tiled/k4/k2']) {
      await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, variant })).rejects.toThrow(
        `matmul: variant = '${variant}', expected one of tiled, tiled.32x32`,
      );
    }
    await expect(
      prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, variant: 'vec4' }),
    ).rejects.toThrow("variant 'vec4' cannot compute this: vec4 kernels need N % 4 = 0 (N = 2)");
    await expect(
      prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 1, N: 1, K: 1, biasGrad: buf, bias: buf }),
    ).rejects.toThrow(/biasGrad \(dW = Aᵀ·G with db\) takes no bias/);
    scope.destroy();
  });
});
