/**
 * softmax_xent: the fused softmax + cross-entropy head, forward and backward in one dispatch
 * (shaders/softmax_xent.wgsl, seeds 000, 002, 004). Float64 twin: `softmaxXentRef`, `correctRowsRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/softmax_xent.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import {
  checkBuffer,
  type LossHeadArgs,
  lossHeadDims,
  lossHeadResources,
  type RowVariant,
  rowGrid,
  rowVariant,
  type WorkgroupTarget,
} from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface SoftmaxXentArgs extends Pick<LossHeadArgs, 'weights'> {
  /** Z: f32 [rows, cols], read. */
  logits: BufferRef;
  rows: number;
  cols: number;
  /** B, the divisor of the batch-mean loss: dZ = (softmax(Z) − Y) / batchSize. Usually rows. */
  batchSize: number;
  /** u32 [rows], class indices in 0..cols−1. Exactly one of labels and targets. */
  labels?: BufferRef;
  /** Y: f32 [rows, cols], one-hot or soft targets (rows summing to 1). Exactly one of labels and targets. */
  targets?: BufferRef;
  /** dZ: f32 [rows, cols], written. */
  gradLogits: BufferRef;
  /** f32 [rows], written: logsumexp(Z_r) − Σ_c Y_rc·Z_rc (not divided by batchSize; NaN for a label ≥ cols). */
  lossRows: BufferRef;
  /** u32 [rows], written: 1 where argmax Z_r equals the label (or the target row's argmax), else 0. */
  correctRows: BufferRef;
  /** Testing only: split the rows over a 2D grid at this many workgroups per dimension. */
  maxWorkgroupsPerDimension?: number;
  /** One invocation or one workgroup per row; default from `rowVariant` (narrow rows: 'row'). */
  variant?: RowVariant;
}

/** Invocations per workgroup: per row ('workgroup'), or rows per workgroup ('row'). */
export const SOFTMAX_XENT_WG = 64;

export const SOFTMAX_XENT = /* @__PURE__ */ new Kernel('softmax_xent', source);

export function softmaxXentCall(args: SoftmaxXentArgs, target: WorkgroupTarget, label = 'softmax_xent'): KernelCall {
  const { rows, cols } = args;
  const dims = lossHeadDims(label, args);
  if ((args.labels === undefined) === (args.targets === undefined)) {
    throw new Error(`${label}: give exactly one of labels (u32 [rows]) and targets (f32 [rows, cols])`);
  }
  const useLabels = args.labels !== undefined;
  if (args.labels) checkBuffer(label, 'labels', args.labels, rows * 4, `u32 [${rows}]`);
  if (args.targets) checkBuffer(label, 'targets', args.targets, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  const variant = rowVariant(target, label, cols, args.variant);
  const shared = lossHeadResources(args);
  return {
    label,
    entryPoint: variant === 'row' ? 'softmax_xent_row' : 'softmax_xent',
    flags: { LABELS: useLabels, DENSE: !useLabels, ...shared.flags },
    constants: { WG: SOFTMAX_XENT_WG },
    uniforms: { dims },
    bindings: { ...shared.bindings, labels: args.labels, Y: args.targets },
    workgroups: rowGrid(target, label, rows, variant, SOFTMAX_XENT_WG, args.maxWorkgroupsPerDimension),
  };
}

export async function prepareSoftmaxXent(
  ctx: GpuContext,
  scope: OpScope,
  args: SoftmaxXentArgs,
  label = 'softmax_xent',
): Promise<GpuOp> {
  return SOFTMAX_XENT.prepare(ctx, scope, softmaxXentCall(args, ctx, label));
}
