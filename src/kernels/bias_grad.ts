/**
 * bias_grad: db = Σ_rows G, the column sums of an output gradient (shaders/bias_grad.wgsl,
 * seeds 001, 002, 003). Float64 twin: `biasGradRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/bias_grad.wgsl?raw';
import type { GpuContext, KernelPreference } from '../gpu/context.js';
import { checkBuffer, checkInt } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface BiasGradArgs {
  /** G: f32 [rows, cols], read. */
  grad: BufferRef;
  rows: number;
  cols: number;
  /** db: f32 [cols], written (overwritten, not accumulated). */
  out: BufferRef;
  /**
   * 'tiled': row lanes tree-reduced in workgroup memory (GPUs); 'direct': one invocation per column,
   * serial over the rows, no barriers (CPU implementations). Default: `ctx.kernelPreference`.
   */
  variant?: KernelPreference;
}

/** Columns per workgroup of the direct variant (one invocation each). */
export const BIAS_GRAD_DIRECT_WG = 64;

/** Invocations per workgroup; split into WG_X columns × WG_Y row lanes. */
export const BIAS_GRAD_INVOCATIONS = 256;

/** Columns per workgroup: the power of two ≥ cols, at most 32; the other 256 / WG_X invocations split the rows. */
export function biasGradShape(cols: number): { x: number; y: number } {
  let x = 1;
  while (x < cols && x < 32) x *= 2;
  return { x, y: BIAS_GRAD_INVOCATIONS / x };
}

export const BIAS_GRAD = /* @__PURE__ */ new Kernel('bias_grad', source);

export function biasGradCall(args: BiasGradArgs, variant: KernelPreference, label = 'bias_grad'): KernelCall {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  checkBuffer(label, 'grad', args.grad, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  checkBuffer(label, 'out', args.out, cols * 4, `f32 [${cols}]`);
  if (variant !== 'tiled' && variant !== 'direct') {
    throw new Error(`${label}: variant = '${String(variant)}', expected 'tiled' or 'direct'`);
  }
  const shape = variant === 'tiled' ? biasGradShape(cols) : { x: BIAS_GRAD_DIRECT_WG, y: 1 };
  return {
    label,
    entryPoint: variant === 'tiled' ? 'bias_grad' : 'bias_grad_direct',
    constants: variant === 'tiled' ? { WG_X: shape.x, WG_Y: shape.y } : { WG_X: shape.x },
    uniforms: { dims: { rows, cols } },
    bindings: { G: args.grad, db: args.out },
    workgroups: [Math.ceil(cols / shape.x)],
  };
}

export async function prepareBiasGrad(
  ctx: GpuContext,
  scope: OpScope,
  args: BiasGradArgs,
  label = 'bias_grad',
): Promise<GpuOp> {
  return BIAS_GRAD.prepare(ctx, scope, biasGradCall(args, args.variant ?? ctx.kernelPreference, label));
}
