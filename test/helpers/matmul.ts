/** The matmul kernel tests' shared case check (test/kernels/matmul.test.ts, matmul_variants.test.ts). */
import type { GpuContext } from '../../src/gpu/context.js';
import {
  MATMUL_VARIANTS,
  type MatmulArgs,
  type MatmulFamily,
  type MatmulVariant,
  prepareMatmul,
} from '../../src/kernels/matmul.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import type { ActivationName } from '../../src/model/spec.js';
import { biasGradRef } from '../../src/reference/bias_grad.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { gradFromInput, kernelAct, refAct } from './activations.js';
import { expectClose } from './close.js';
import { emptyF32, upload, withValidation } from './gpu.js';
import { randomArray } from './random.js';

/** The epilogues a dense layer fuses: 'bias', 'bias_<activation>' (forward), 'mask_<activation>' (backward). */
export type MatmulEpilogue = 'none' | 'bias' | `bias_${ActivationName}` | `mask_${ActivationName}`;

function epilogueActivation(epilogue: MatmulEpilogue): ActivationName | undefined {
  const name = epilogue.split('_')[1];
  return name as ActivationName | undefined;
}

// fp32 accumulation of K products of O(1) terms drifts like √K·2⁻²⁴ in practice; 1e-5·√K leaves
// ~100× headroom for a different summation order (fma, tiling, split-K) while an indexing bug gives O(1) errors.
export const matmulTol = (K: number) => ({ atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 });

export interface Case {
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
  epilogue?: MatmulEpilogue;
  /** Also db = Σ_k op(B)[k,n] from the same dispatch (biasGrad). */
  biasGrad?: boolean;
}

/** One product on the GPU in `variant` against matmulRef (and db against biasGradRef), inside a validation scope. */
export async function checkMatmul(ctx: GpuContext, c: Case, seed: number, variant: MatmulVariant): Promise<void> {
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

export const AWKWARD = [1, 7, 13, 127, 257];
export const FORMS = [
  { name: 'A·B', transposeA: false, transposeB: false },
  { name: 'A·Bᵀ', transposeA: false, transposeB: true },
  { name: 'Aᵀ·B', transposeA: true, transposeB: false },
] as const;

export const EPILOGUES: MatmulEpilogue[] = [
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

/** Every variant of these families, from the table itself: a variant added there is tested here. */
export function variantsOf(...families: MatmulFamily[]): string[] {
  return Object.entries(MATMUL_VARIANTS)
    .filter(([, spec]) => families.includes(spec.family))
    .map(([name]) => name);
}
