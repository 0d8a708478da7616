/**
 * softmax: P = softmax(Z) row-wise, max-subtracted, for prediction (shaders/softmax.wgsl,
 * seeds 000, 001, 004). Float64 twin: `softmaxRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/softmax.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import { checkBuffer, checkInt, type RowVariant, rowGrid, rowVariant, type WorkgroupTarget } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface SoftmaxArgs {
  /** Z: f32 [rows, cols], read. */
  logits: BufferRef;
  rows: number;
  cols: number;
  /** P: f32 [rows, cols], written (may not alias logits). */
  probs: BufferRef;
  /** Testing only: split the rows over a 2D grid at this many workgroups per dimension. */
  maxWorkgroupsPerDimension?: number;
  /** One invocation or one workgroup per row; default from `rowVariant` (narrow rows: 'row'). */
  variant?: RowVariant;
}

/** Invocations per workgroup: per row ('workgroup'), or rows per workgroup ('row'). */
export const SOFTMAX_WG = 64;

export const SOFTMAX = /* @__PURE__ */ new Kernel('softmax', source);

export function softmaxCall(args: SoftmaxArgs, target: WorkgroupTarget, label = 'softmax'): KernelCall {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  checkBuffer(label, 'logits', args.logits, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  checkBuffer(label, 'probs', args.probs, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  const variant = rowVariant(target, label, cols, args.variant);
  return {
    label,
    entryPoint: variant === 'row' ? 'softmax_row' : 'softmax',
    constants: { WG: SOFTMAX_WG },
    uniforms: { dims: { rows, cols } },
    bindings: { Z: args.logits, P: args.probs },
    workgroups: rowGrid(target, label, rows, variant, SOFTMAX_WG, args.maxWorkgroupsPerDimension),
  };
}

export async function prepareSoftmax(
  ctx: GpuContext,
  scope: OpScope,
  args: SoftmaxArgs,
  label = 'softmax',
): Promise<GpuOp> {
  return SOFTMAX.prepare(ctx, scope, softmaxCall(args, ctx, label));
}
