import { describe, expect, it } from 'vitest';
import { type MatmulArgs, type MatmulVariant, prepareMatmul } from '../../src/kernels/matmul.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import type { ActivationName } from '../../src/model/spec.js';
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
// ~100× headroom for a different summation order (fma, tiling) while an indexing bug gives O(1) errors.
const gpu = useGpuContext();

const matmulTol = (K: number) => ({ atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 });

interface Case {
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
  epilogue?: MatmulEpilogue;
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

  const scope = new OpScope(ctx);
  const out = emptyF32(ctx, 'test.C', M * N);
  const preOut = pre ? emptyF32(ctx, 'test.Z', M * N) : undefined;
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
    const op = await prepareMatmul(ctx, scope, args);
    submitOps(ctx, [op]);
    return {
      out: await ctx.readF32(out, 0, M * N),
      pre: preOut && (await ctx.readF32(preOut, 0, M * N)),
    };
  });
  scope.destroy();
  // GELU's tanh adds a few ulp of its output on top of the product's rounding.
  const tol = kind === 'gelu' ? { atol: matmulTol(K).atol + 2e-6, rtol: 2e-6 } : matmulTol(K);
  expectClose(got.out, expected, tol, `matmul ${variant} ${JSON.stringify(c)}`);
  if (pre && got.pre) expectClose(got.pre, pre, matmulTol(K), `matmul ${variant} Z ${JSON.stringify(c)}`);
}

const AWKWARD = [1, 7, 13, 127, 257];
const FORMS = [
  { name: 'A·B', transposeA: false, transposeB: false },
  { name: 'A·Bᵀ', transposeA: false, transposeB: true },
  { name: 'Aᵀ·B', transposeA: true, transposeB: false },
] as const;

// Every test runs both kernels: 'tiled' (workgroup memory, GPUs) and 'direct' (no barriers, CPUs).
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

describe('matmul', () => {
  it("takes the context's kernel preference by default: direct on a software adapter, else tiled", () => {
    const ctx = gpu();
    expect(ctx.kernelPreference).toBe(ctx.adapter?.isSoftware ? 'direct' : 'tiled');
  });

  it('rejects a mask without its activation or non-positive dimensions with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 4);
    await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, mask: buf })).rejects.toThrow(
      /a mask needs the activation/,
    );
    await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 0, N: 2, K: 1 })).rejects.toThrow(
      /M = 0, expected a positive integer/,
    );
    const variant = 'fast' as MatmulVariant;
    await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, variant })).rejects.toThrow(
      "matmul: variant = 'fast', expected 'tiled' or 'direct'",
    );
    scope.destroy();
  });
});
