/**
 * matmul figures: C[M,N] = op(A)·op(B) in the three forms a dense layer uses, at square sizes and
 * at the shapes of the benchmark MLPs (with the epilogues they fuse there). GFLOP/s counts 2·M·N·K.
 * Checked against `matmulRef`: in full up to FULL_CHECK_MACS multiply-adds, else at sampled
 * elements, each a 1×1 `matmulRef` (a Float64 dot product) of a row of op(A) and a column of op(B).
 */
import { type MatmulArgs, prepareMatmul } from '../src/kernels/matmul.js';
import { kernelActivation, scalarActivation } from '../src/model/activations/definition.js';
import { relu } from '../src/model/activations/relu.js';
import { matmulRef } from '../src/reference/matmul.js';
import { type KernelCase, uploadTo } from './case.js';
import { CheckBuilder, randomF32, sampleIndices, seedOf, type Tolerance } from './verify.js';

export type MatmulForm = 'A·B' | 'A·Bᵀ' | 'Aᵀ·B';

/** What the benchmarked matmul fuses: nothing, a bias, a bias and ReLU (a hidden layer's forward), or ReLU's mask (its backward). */
export type MatmulEpilogue = 'none' | 'bias' | 'bias_relu' | 'mask_relu';

const RELU = { definition: relu, params: {} };
export const MATMUL_FORMS: readonly MatmulForm[] = ['A·B', 'A·Bᵀ', 'Aᵀ·B'];

export interface MatmulShape {
  form: MatmulForm;
  M: number;
  N: number;
  K: number;
  /** Default 'none'. */
  epilogue?: MatmulEpilogue;
  /** Where the shape comes from: `square`, or e.g. `M layer 1 forward`. */
  origin: string;
}

/** The kernel under test; the tests substitute a wrong one to see the check fail. */
export type MatmulKernel = typeof prepareMatmul;

/** Outputs up to this many multiply-adds are checked in full (≈ 0.1 s of Float64 in JS). */
export const FULL_CHECK_MACS = 2 ** 25;
/** Elements checked when the output is too large to check in full. */
export const SAMPLED_ELEMENTS = 512;

/**
 * Inputs are uniform in [−1, 1]; fp32 accumulation of K terms errs by about 2⁻²⁴·√K·|terms|, so
 * 1e-5·√K absolute with 1e-5 relative (as test/kernels/matmul.test.ts), while a wrong index errs by O(√K).
 */
export function matmulTolerance(K: number): Tolerance {
  return { atol: 1e-5 * Math.sqrt(K), rtol: 1e-5 };
}

export function matmulName(s: MatmulShape): string {
  const epilogue = s.epilogue && s.epilogue !== 'none' ? ` +${s.epilogue}` : '';
  const origin = s.origin === 'square' ? '' : ` (${s.origin})`;
  return `matmul ${s.form} ${s.M}×${s.N}×${s.K}${epilogue}${origin}`;
}

export function matmulCase(shape: MatmulShape, kernel: MatmulKernel = prepareMatmul): KernelCase {
  const { form, M, N, K } = shape;
  const epilogue = shape.epilogue ?? 'none';
  const transposeA = form === 'Aᵀ·B';
  const transposeB = form === 'A·Bᵀ';
  const hasBias = epilogue.startsWith('bias');
  const hasMask = epilogue.startsWith('mask');
  const name = matmulName(shape);
  const bindings: Record<string, number> = { a: M * K * 4, b: K * N * 4, out: M * N * 4 };
  if (hasBias) bindings.bias = N * 4;
  if (hasMask) bindings.mask = M * N * 4;
  return {
    suite: 'matmul',
    name,
    params: { form, M, N, K, epilogue, origin: shape.origin },
    unit: 'GFLOP/s',
    work: 2 * M * N * K,
    bindings,
    async prepare(ctx, scope) {
      const seed = seedOf(name);
      const a = randomF32(M * K, seed); // [M,K], or [K,M] with transposeA
      const b = randomF32(K * N, seed + 1); // [K,N], or [N,K] with transposeB
      const bias = hasBias ? randomF32(N, seed + 2) : undefined;
      // An activation output: ReLU of uniform values, so about half are exactly 0 (masked).
      const act = hasMask ? randomF32(M * N, seed + 3).map((v) => Math.max(v, 0)) : undefined;
      const out = scope.storage(`${name}.out`, M * N * 4);
      const args: MatmulArgs = {
        a: uploadTo(ctx, scope, `${name}.a`, a),
        b: uploadTo(ctx, scope, `${name}.b`, b),
        out,
        M,
        N,
        K,
        transposeA,
        transposeB,
      };
      if (bias) args.bias = uploadTo(ctx, scope, `${name}.bias`, bias);
      if (epilogue.endsWith('relu')) args.activation = kernelActivation(RELU);
      if (act) args.mask = uploadTo(ctx, scope, `${name}.act`, act);
      const op = await kernel(ctx, scope, args, name);
      return {
        ops: [op],
        async verify() {
          const got = await ctx.readF32(out, 0, M * N);
          const tol = matmulTolerance(K);
          const rule = `|gpu − ref| ≤ ${tol.atol.toPrecision(2)} + ${tol.rtol}·|ref|`;
          const activation = epilogue.endsWith('relu') ? scalarActivation(RELU) : undefined;
          const opts = { M, N, K, transposeA, transposeB, bias, activation, mask: act };
          if (M * N * K <= FULL_CHECK_MACS) {
            const ref = new Float64Array(M * N);
            matmulRef(a, b, ref, opts);
            return new CheckBuilder('full', 'abs', rule).abs('C', got, ref, tol).result();
          }
          const indices = sampleIndices(M * N, SAMPLED_ELEMENTS, seed + 4);
          const ref = new Float64Array(M * N);
          const row = new Float64Array(K);
          const col = new Float64Array(K);
          const one = new Float64Array(1);
          for (const i of indices) {
            const m = Math.floor(i / N);
            const n = i % N;
            for (let k = 0; k < K; k++) {
              row[k] = transposeA ? a[k * M + m] : a[m * K + k];
              col[k] = transposeB ? b[n * K + k] : b[k * N + n];
            }
            matmulRef(row, col, one, {
              M: 1,
              N: 1,
              K,
              activation,
              bias: bias ? [bias[n]] : undefined,
              mask: act ? [act[i]] : undefined,
            });
            ref[i] = one[0];
          }
          return new CheckBuilder('sampled', 'abs', rule).abs('C', got, ref, tol, indices).result();
        },
      };
    },
  };
}
