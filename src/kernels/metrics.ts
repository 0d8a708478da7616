/**
 * metrics: a step's loss and correct counts folded into a 32-byte running-statistics buffer on the GPU
 * (shaders/metrics.wgsl); read it with `ctx.read(stats)` + `decodeStats` when someone asks (once per
 * epoch, or every N steps), and zero it with `resetStats`. Float64 twin: `accumulateStatsRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/metrics.wgsl?raw';
import type { GpuContext, KernelPreference } from '../gpu/context.js';
import { checkBuffer, checkInt } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import { type BufferRef, binding, type GpuOp, type OpScope } from './op.js';

/** Size of the stats buffer: struct { loss_sum, loss_comp: f32; correct, count: u32; last_loss: f32; steps, non_finite, pad: u32 }. */
export const STATS_BYTES = 32;

export interface MetricsArgs {
  /** f32 [rows], read: the head's per-row loss (not divided by batchSize). */
  lossRows: BufferRef;
  /** u32 [rows], read: the head's per-row correct count. */
  correctRows: BufferRef;
  rows: number;
  /** B: last_loss = Σ lossRows / batchSize. Usually rows. */
  batchSize: number;
  /** STATS_BYTES, read-write, accumulated into. */
  stats: BufferRef;
  /**
   * 'tiled': one workgroup tree-reducing in workgroup memory (GPUs); 'direct': one invocation summing
   * the rows in order, no barriers (CPU implementations). Default: `ctx.kernelPreference`.
   */
  variant?: KernelPreference;
}

/** The running statistics, decoded. */
export interface Stats {
  /** Σ of every row's loss since the reset (Kahan-compensated); the mean loss per row is lossSum / count. */
  lossSum: number;
  /** Σ correctRows: rows predicted right (softmax), or outputs right (sigmoid: divide by count·C). */
  correct: number;
  /** Rows seen. */
  count: number;
  /** The last step's batch-mean loss, Σ lossRows / batchSize. */
  lastLoss: number;
  /** Steps accumulated. */
  steps: number;
  /** Steps whose loss was NaN or ±Inf (they are included in lossSum, which then is not finite either). */
  nonFinite: number;
}

/** Invocations of the single workgroup. */
export const METRICS_WG = 256;

export const METRICS = /* @__PURE__ */ new Kernel('metrics', source);

export function metricsCall(args: MetricsArgs, variant: KernelPreference, label = 'metrics'): KernelCall {
  const { rows, batchSize } = args;
  checkInt(label, 'rows', rows);
  if (!(batchSize > 0) || !Number.isFinite(batchSize)) {
    throw new Error(`${label}: batchSize = ${batchSize}, expected a positive number (the batch-mean divisor)`);
  }
  checkBuffer(label, 'lossRows', args.lossRows, rows * 4, `f32 [${rows}]`);
  checkBuffer(label, 'correctRows', args.correctRows, rows * 4, `u32 [${rows}]`);
  checkBuffer(label, 'stats', args.stats, STATS_BYTES, `the ${STATS_BYTES}-byte stats struct`);
  if (variant !== 'tiled' && variant !== 'direct') {
    throw new Error(`${label}: variant = '${String(variant)}', expected 'tiled' or 'direct'`);
  }
  return {
    label,
    entryPoint: variant === 'tiled' ? 'metrics' : 'metrics_direct',
    constants: variant === 'tiled' ? { WG: METRICS_WG } : {},
    uniforms: { dims: { rows, batch_size: batchSize } },
    bindings: { loss: args.lossRows, correct: args.correctRows, stats: { ...binding(args.stats), size: STATS_BYTES } },
    workgroups: [1],
  };
}

export async function prepareMetrics(
  ctx: GpuContext,
  scope: OpScope,
  args: MetricsArgs,
  label = 'metrics',
): Promise<GpuOp> {
  return METRICS.prepare(ctx, scope, metricsCall(args, args.variant ?? ctx.kernelPreference, label));
}

/** Zeroes the stats (queue.writeBuffer: ordered before the next submit). */
export function resetStats(ctx: GpuContext, stats: BufferRef): void {
  const { buffer, offset = 0 } = binding(stats);
  ctx.device.queue.writeBuffer(buffer, offset, new Uint8Array(STATS_BYTES));
}

/** Decodes the STATS_BYTES read back from a stats buffer. */
export function decodeStats(bytes: ArrayBuffer): Stats {
  if (bytes.byteLength < STATS_BYTES) {
    throw new Error(
      `decodeStats: got ${bytes.byteLength} bytes, expected ${STATS_BYTES} (read the whole stats buffer)`,
    );
  }
  const view = new DataView(bytes);
  const f32 = (i: number) => view.getFloat32(i * 4, true);
  const u32 = (i: number) => view.getUint32(i * 4, true);
  return {
    lossSum: f32(0) - f32(1),
    correct: u32(2),
    count: u32(3),
    lastLoss: f32(4),
    steps: u32(5),
    nonFinite: u32(6),
  };
}
