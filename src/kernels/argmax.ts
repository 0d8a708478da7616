/**
 * argmax: the predicted class of each row, the first maximum on ties (shaders/argmax.wgsl).
 * Float64 twin: `argmaxRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/argmax.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import { checkBuffer, checkInt, type RowVariant, rowGrid, rowVariant, type WorkgroupTarget } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface ArgmaxArgs {
  /** Z: f32 [rows, cols], read. */
  logits: BufferRef;
  rows: number;
  cols: number;
  /** u32 [rows], written. */
  out: BufferRef;
  /** Testing only: split the rows over a 2D grid at this many workgroups per dimension. */
  maxWorkgroupsPerDimension?: number;
  /** One invocation or one workgroup per row; default from `rowVariant` (narrow rows: 'row'). */
  variant?: RowVariant;
}

/** Invocations per workgroup: per row ('workgroup'), or rows per workgroup ('row'). */
export const ARGMAX_WG = 64;

export const ARGMAX = /* @__PURE__ */ new Kernel('argmax', source);

export function argmaxCall(args: ArgmaxArgs, target: WorkgroupTarget, label = 'argmax'): KernelCall {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  checkBuffer(label, 'logits', args.logits, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  checkBuffer(label, 'out', args.out, rows * 4, `u32 [${rows}]`);
  const variant = rowVariant(target, label, cols, args.variant);
  return {
    label,
    entryPoint: variant === 'row' ? 'argmax_row' : 'argmax',
    constants: { WG: ARGMAX_WG },
    uniforms: { dims: { rows, cols } },
    bindings: { Z: args.logits, out: args.out },
    workgroups: rowGrid(target, label, rows, variant, ARGMAX_WG, args.maxWorkgroupsPerDimension),
  };
}

export async function prepareArgmax(
  ctx: GpuContext,
  scope: OpScope,
  args: ArgmaxArgs,
  label = 'argmax',
): Promise<GpuOp> {
  return ARGMAX.prepare(ctx, scope, argmaxCall(args, ctx, label));
}
