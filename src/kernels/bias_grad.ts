/**
 * bias_grad: db = Σ_rows G, the column sums of an output gradient (shaders/bias_grad.wgsl,
 * seeds 001, 002, 003). Float64 twin: `biasGradRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/bias_grad.wgsl?raw';
import type { GpuContext, KernelPreference } from '../gpu/context.js';
import { checkBuffer, checkInt } from './check.js';
import { type BufferRef, type GpuOp, makeOp, type OpScope } from './op.js';

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

export async function prepareBiasGrad(
  ctx: GpuContext,
  scope: OpScope,
  args: BiasGradArgs,
  label = 'bias_grad',
): Promise<GpuOp> {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  checkBuffer(label, 'grad', args.grad, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  checkBuffer(label, 'out', args.out, cols * 4, `f32 [${cols}]`);
  const variant = args.variant ?? ctx.kernelPreference;
  if (variant !== 'tiled' && variant !== 'direct') {
    throw new Error(`${label}: variant = '${String(variant)}', expected 'tiled' or 'direct'`);
  }
  const shape = variant === 'tiled' ? biasGradShape(cols) : { x: BIAS_GRAD_DIRECT_WG, y: 1 };
  const pipeline = await ctx.pipeline({
    shader: 'bias_grad',
    source,
    entryPoint: variant === 'tiled' ? 'bias_grad' : 'bias_grad_direct',
    constants: variant === 'tiled' ? { WG_X: shape.x, WG_Y: shape.y } : { WG_X: shape.x },
  });
  const dims = scope.uniform(`${label}.dims`, new Uint32Array([rows, cols, 0, 0]));
  return makeOp(ctx, label, pipeline, { 0: dims, 1: args.grad, 2: args.out }, [Math.ceil(cols / shape.x)]);
}
