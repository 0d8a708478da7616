/**
 * sigmoid_bce: the fused sigmoid + binary cross-entropy head, forward and backward in one dispatch
 * (shaders/sigmoid_bce.wgsl, seed 003). Float64 twin: `sigmoidBceRef`, `correctRowsRef(…, 'sigmoid')`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/sigmoid_bce.wgsl?raw';
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

export interface SigmoidBceArgs extends Pick<LossHeadArgs, 'weights'> {
  /** Z: f32 [rows, cols], read. */
  logits: BufferRef;
  rows: number;
  cols: number;
  /** B, the divisor of the batch-mean loss: dZ = (σ(Z) − Y) / batchSize. Usually rows. */
  batchSize: number;
  /** Y: f32 [rows, cols] in [0, 1], read. */
  targets: BufferRef;
  /** dZ: f32 [rows, cols], written. */
  gradLogits: BufferRef;
  /** f32 [rows], written: Σ_c of the binary cross-entropy of the row (not divided by batchSize). */
  lossRows: BufferRef;
  /** u32 [rows], written: the number of outputs c with (Z > 0) = (Y > 0.5). */
  correctRows: BufferRef;
  /** Testing only: split the rows over a 2D grid at this many workgroups per dimension. */
  maxWorkgroupsPerDimension?: number;
  /** One invocation or one workgroup per row; default from `rowVariant` (narrow rows: 'row'). */
  variant?: RowVariant;
}

/** Invocations per workgroup: per row ('workgroup'), or rows per workgroup ('row'). */
export const SIGMOID_BCE_WG = 64;

export const SIGMOID_BCE = /* @__PURE__ */ new Kernel('sigmoid_bce', source);

export function sigmoidBceCall(args: SigmoidBceArgs, target: WorkgroupTarget, label = 'sigmoid_bce'): KernelCall {
  const { rows, cols } = args;
  const dims = lossHeadDims(label, args);
  checkBuffer(label, 'targets', args.targets, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  const variant = rowVariant(target, label, cols, args.variant);
  const shared = lossHeadResources(args);
  return {
    label,
    entryPoint: variant === 'row' ? 'sigmoid_bce_row' : 'sigmoid_bce',
    flags: shared.flags,
    constants: { WG: SIGMOID_BCE_WG },
    uniforms: { dims },
    bindings: { ...shared.bindings, Y: args.targets },
    workgroups: rowGrid(target, label, rows, variant, SIGMOID_BCE_WG, args.maxWorkgroupsPerDimension),
  };
}

export async function prepareSigmoidBce(
  ctx: GpuContext,
  scope: OpScope,
  args: SigmoidBceArgs,
  label = 'sigmoid_bce',
): Promise<GpuOp> {
  return SIGMOID_BCE.prepare(ctx, scope, sigmoidBceCall(args, ctx, label));
}
