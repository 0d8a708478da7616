/**
 * matmul: C[M,N] = op(A)·op(B) with fused epilogues (shaders/matmul.wgsl, seeds 001, 002, 004).
 */
import source from '../../shaders/matmul.wgsl?raw';
import type { GpuContext } from '../gpu/context';
import type { Activation } from '../model/spec';
import type { MatmulEpilogue } from '../reference/matmul';
import { type BufferRef, type GpuOp, makeOp, type OpScope } from './op';

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
}

const ACT_CODE: Record<Activation, number> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3 };

export const MATMUL_WG = { x: 16, y: 16, k: 16, rows: 4, cols: 4 } as const;

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
  const pipeline = await ctx.pipeline({
    shader: 'matmul',
    source,
    entryPoint: 'matmul',
    flags: { BIAS: bias, MASK: mask },
    constants: {
      WG_X: MATMUL_WG.x,
      WG_Y: MATMUL_WG.y,
      TILE_K: MATMUL_WG.k,
      TRANSPOSE_A: args.transposeA ? 1 : 0,
      TRANSPOSE_B: args.transposeB ? 1 : 0,
      ACT: ACT_CODE[act],
    },
  });
  const dims = scope.uniform(`${label}.dims`, new Uint32Array([M, N, K, 0]));
  const tileM = MATMUL_WG.y * MATMUL_WG.rows;
  const tileN = MATMUL_WG.x * MATMUL_WG.cols;
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
