/**
 * matmul: C[M,N] = op(A)·op(B) with fused epilogues (shaders/matmul.wgsl, seeds 001, 002, 004).
 * Float64 twin: `matmulRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import linearModule from '../../shaders/activations/linear.wgsl?raw';
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/matmul.wgsl?raw';
import type { GpuContext, KernelPreference } from '../gpu/context.js';
import type { KernelActivation } from './act.js';
import { checkBuffer } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

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
  /** [N]: C = op(A)·op(B) + bias, then the activation (a dense layer's forward pass). */
  bias?: BufferRef;
  /**
   * Forward (no `mask`): C = act(op(A)·op(B) [+ bias]). Backward (with `mask`): C = op(A)·op(B) ⊙ act'(mask).
   * Default: none (linear).
   */
  activation?: KernelActivation;
  /** [M,N]: the values act' is read from — the activation's output or input, as it declares. */
  mask?: BufferRef;
  /** [M,N], written: Z = op(A)·op(B) + bias before the activation (activations whose act' needs Z). */
  preActivation?: BufferRef;
  /**
   * 'tiled' stages tiles in workgroup memory (GPUs); 'direct' reads global memory with no workgroup
   * memory or barriers (CPU implementations such as SwiftShader). Default: `ctx.kernelPreference`.
   */
  variant?: MatmulVariant;
}

/** Which matmul kernel: see MatmulArgs.variant. */
export type MatmulVariant = KernelPreference;

/** The tiled kernel: 16×16 invocations, each accumulating 4×4 outputs over K-slices of 16. */
export const MATMUL_WG = { x: 16, y: 16, k: 16, rows: 4, cols: 4 } as const;
/** The direct kernel (no workgroup memory): 4×4 invocations, each computing a 16×8 block of C. */
export const MATMUL_DIRECT_WG = { x: 4, y: 4, rows: 16, cols: 8 } as const;

export const MATMUL = /* @__PURE__ */ new Kernel('matmul', source);

const LINEAR: KernelActivation = {
  name: 'activations/linear',
  source: linearModule,
  constants: {},
  gradFrom: 'output',
};

/** The dispatch a set of arguments describes (no GPU work: the contract tests resolve it on the CPU). */
export function matmulCall(args: MatmulArgs, variant: MatmulVariant, label = 'matmul'): KernelCall {
  const { M, N, K } = args;
  for (const [name, v] of [
    ['M', M],
    ['N', N],
    ['K', K],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: ${name} = ${v}, expected a positive integer`);
  }
  if (variant !== 'tiled' && variant !== 'direct') {
    throw new Error(`${label}: variant = '${String(variant)}', expected 'tiled' or 'direct'`);
  }
  if (args.mask && !args.activation) throw new Error(`${label}: a mask needs the activation whose derivative it reads`);
  if (args.mask && (args.bias || args.preActivation)) {
    throw new Error(`${label}: a mask (backward) cannot be combined with bias or preActivation (forward)`);
  }
  const a = args.transposeA ? `f32 [${K}, ${M}]` : `f32 [${M}, ${K}]`;
  const b = args.transposeB ? `f32 [${N}, ${K}]` : `f32 [${K}, ${N}]`;
  checkBuffer(label, 'a', args.a, M * K * 4, a);
  checkBuffer(label, 'b', args.b, K * N * 4, b);
  checkBuffer(label, 'out', args.out, M * N * 4, `f32 [${M}, ${N}]`);
  if (args.bias) checkBuffer(label, 'bias', args.bias, N * 4, `f32 [${N}]`);
  if (args.mask) checkBuffer(label, 'mask', args.mask, M * N * 4, `f32 [${M}, ${N}]`);
  if (args.preActivation) checkBuffer(label, 'preActivation', args.preActivation, M * N * 4, `f32 [${M}, ${N}]`);
  const activation = args.activation ?? LINEAR;
  const shape = variant === 'tiled' ? MATMUL_WG : MATMUL_DIRECT_WG;
  return {
    label,
    entryPoint: variant === 'tiled' ? 'matmul' : 'matmul_direct',
    flags: { BIAS: args.bias !== undefined, MASK: args.mask !== undefined, PRE: args.preActivation !== undefined },
    modules: [activation],
    constants: {
      WG_X: shape.x,
      WG_Y: shape.y,
      ...(variant === 'tiled' ? { TILE_K: MATMUL_WG.k } : {}),
      TRANSPOSE_A: args.transposeA ? 1 : 0,
      TRANSPOSE_B: args.transposeB ? 1 : 0,
      ...activation.constants,
    },
    uniforms: { dims: { M, N, K } },
    bindings: { A: args.a, B: args.b, C: args.out, bias: args.bias, mask: args.mask, pre: args.preActivation },
    workgroups: [Math.ceil(N / (shape.x * shape.cols)), Math.ceil(M / (shape.y * shape.rows))],
  };
}

export async function prepareMatmul(
  ctx: GpuContext,
  scope: OpScope,
  args: MatmulArgs,
  label = 'matmul',
): Promise<GpuOp> {
  return MATMUL.prepare(ctx, scope, matmulCall(args, args.variant ?? ctx.kernelPreference, label));
}
