/**
 * matmul: C[M,N] = op(A)·op(B) with fused epilogues (shaders/matmul.wgsl, seeds 001, 002, 004).
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/matmul.wgsl?raw';
import type { GpuContext, KernelPreference } from '../gpu/context.js';
import type { Activation } from '../model/spec.js';
import type { MatmulEpilogue } from '../reference/matmul.js';
import { withActivations } from './act.js';
import { type BufferRef, type GpuOp, makeOp, type OpScope } from './op.js';

export type { MatmulEpilogue };

export interface MatmulArgs {
  /** op(A) is M×K: A is [M,K], or [K,M] with transposeA. */
  a: BufferRef;
  /** op(B) is K×N: B is [K,N], or [N,K] with transposeB. */
  b: BufferRef;
  /** C: [M,N], written. */
  out: BufferRef;
  M: number;
  N: number;
  K: number;
  transposeA?: boolean;
  transposeB?: boolean;
  epilogue?: MatmulEpilogue;
  /** [N], for the `bias*` epilogues. */
  bias?: BufferRef;
  /** [M,N] activation output, for the `mask_*` epilogues. */
  activationOutput?: BufferRef;
  /**
   * 'tiled' stages tiles in workgroup memory (GPUs); 'direct' reads global memory with no workgroup
   * memory or barriers (CPU implementations such as SwiftShader). Default: `ctx.kernelPreference`.
   */
  variant?: MatmulVariant;
}

/** Which matmul kernel: see MatmulArgs.variant. */
export type MatmulVariant = KernelPreference;

const ACT_CODE: Record<Activation, number> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3 };

/** The tiled kernel: 16×16 invocations, each accumulating 4×4 outputs over K-slices of 16. */
export const MATMUL_WG = { x: 16, y: 16, k: 16, rows: 4, cols: 4 } as const;
/** The direct kernel (no workgroup memory): 4×4 invocations, each computing a 16×8 block of C. */
export const MATMUL_DIRECT_WG = { x: 4, y: 4, rows: 16, cols: 8 } as const;

export async function prepareMatmul(
  ctx: GpuContext,
  scope: OpScope,
  args: MatmulArgs,
  label = 'matmul',
): Promise<GpuOp> {
  const { M, N, K } = args;
  for (const [name, v] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: ${name} = ${v}, expected a positive integer`);
  }
  const epilogue = args.epilogue ?? 'none';
  const bias = epilogue.startsWith('bias');
  const mask = epilogue.startsWith('mask');
  const act = (epilogue.split('_')[1] ?? 'linear') as Activation;
  if (bias && !args.bias) throw new Error(`${label}: epilogue '${epilogue}' needs a bias buffer`);
  if (mask && !args.activationOutput) throw new Error(`${label}: epilogue '${epilogue}' needs activationOutput`);
  const variant = args.variant ?? ctx.kernelPreference;
  if (variant !== 'tiled' && variant !== 'direct') {
    throw new Error(`${label}: variant = '${String(variant)}', expected 'tiled' or 'direct'`);
  }
  const shape = variant === 'tiled' ? MATMUL_WG : MATMUL_DIRECT_WG;
  const pipeline = await ctx.pipeline({
    shader: 'matmul',
    source: withActivations(source),
    entryPoint: variant === 'tiled' ? 'matmul' : 'matmul_direct',
    flags: { BIAS: bias, MASK: mask },
    constants: {
      WG_X: shape.x,
      WG_Y: shape.y,
      ...(variant === 'tiled' ? { TILE_K: MATMUL_WG.k } : {}),
      TRANSPOSE_A: args.transposeA ? 1 : 0,
      TRANSPOSE_B: args.transposeB ? 1 : 0,
      ACT: ACT_CODE[act],
    },
  });
  const dims = scope.uniform(`${label}.dims`, new Uint32Array([M, N, K, 0]));
  const tileM = shape.y * shape.rows;
  const tileN = shape.x * shape.cols;
  return makeOp(
    ctx,
    label,
    pipeline,
    {
      0: dims,
      1: args.a,
      2: args.b,
      3: args.out,
      4: bias ? args.bias : undefined,
      5: mask ? args.activationOutput : undefined,
    },
    [Math.ceil(N / tileN), Math.ceil(M / tileM)],
  );
}
