/**
 * gather: copies a batch out of a data set resident on the GPU, row `indices[start + r]` for r < rows,
 * converting u8 pixels to f32 on the way, with its targets and loss weights (shaders/gather.wgsl).
 * Float64 twin: `gatherRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/gather.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import { bindingBytes, checkBuffer, checkInt, grid2d, type WorkgroupTarget, workgroupLimit } from './check.js';
import { Kernel, type KernelCall, type KernelOp } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

/** What `y[r]` holds when `indices[start + r] ≥ n`: no class at all (softmax_xent then reports a NaN loss). */
export const GATHER_NO_LABEL = 0xffffffff;

export interface GatherArgs {
  /** 'u8': images holds bytes packed in u32 words (little-endian); 'f32': images holds f32. */
  source: 'u8' | 'f32';
  /** S: [n, cols], row-major; for 'u8' n·cols bytes padded to a multiple of 4 (rows need not be word-aligned). */
  images: BufferRef;
  /** u32 [n], read; requires y. */
  labels?: BufferRef;
  /** T: f32 [n, targetCols], read; requires targetCols and yDense. */
  denseTargets?: BufferRef;
  targetCols?: number;
  /** u32 [≥ start + rows], read: row r of the batch is data-set row indices[start + r]. */
  indices: BufferRef;
  rows: number;
  cols: number;
  /** Rows in the data set: an index ≥ n reads nothing and yields zeros (and GATHER_NO_LABEL in y). */
  n: number;
  /** u8 only, required there: x = byte·scale (1/255 maps pixels to [0, 1]). */
  scale?: number;
  /** X: f32 [rows, cols], written. */
  x: BufferRef;
  /** u32 [rows], written with the gathered labels. */
  y?: BufferRef;
  /** f32 [rows, targetCols], written with the gathered target rows. */
  yDense?: BufferRef;
  /** W: f32 [n], read: each data-set row's loss weight; requires yWeights. */
  weights?: BufferRef;
  /** f32 [rows], written with the gathered weights (0 where the index is ≥ n). */
  yWeights?: BufferRef;
  /** Testing only: split the workgroups over a 2D grid at this many per dimension. */
  maxWorkgroupsPerDimension?: number;
}

/** Invocations per workgroup, one output element each. */
export const GATHER_WG = 256;

export const GATHER = /* @__PURE__ */ new Kernel('gather', source);

export function gatherCall(args: GatherArgs, target: WorkgroupTarget, label = 'gather'): KernelCall {
  const { source: kind, rows, cols, n } = args;
  if (kind !== 'u8' && kind !== 'f32') throw new Error(`${label}: source = '${String(kind)}', expected 'u8' or 'f32'`);
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  checkInt(label, 'n', n);
  if (kind === 'u8' && !Number.isFinite(args.scale)) {
    throw new Error(
      `${label}: scale = ${args.scale}, expected a finite number for a u8 source (x = byte·scale, e.g. 1/255)`,
    );
  }
  if (n * cols > 0xffffffff) throw new Error(`${label}: n·cols = ${n * cols} elements exceed 32-bit addressing`);
  const imageBytes = kind === 'u8' ? Math.ceil((n * cols) / 4) * 4 : n * cols * 4;
  checkBuffer(label, 'images', args.images, imageBytes, `${kind} [${n}, ${cols}]`);
  checkBuffer(label, 'indices', args.indices, rows * 4, `u32 [≥ start + ${rows}]`);
  checkBuffer(label, 'x', args.x, rows * cols * 4, `f32 [${rows}, ${cols}]`);

  if ((args.labels === undefined) !== (args.y === undefined)) {
    throw new Error(`${label}: labels (u32 [n]) and y (u32 [rows]) go together: give both or neither`);
  }
  if (args.labels && args.y) {
    checkBuffer(label, 'labels', args.labels, n * 4, `u32 [${n}]`);
    checkBuffer(label, 'y', args.y, rows * 4, `u32 [${rows}]`);
  }
  const dense = args.denseTargets !== undefined;
  if (dense !== (args.yDense !== undefined) || dense !== (args.targetCols !== undefined)) {
    throw new Error(
      `${label}: denseTargets (f32 [n, targetCols]), targetCols and yDense go together: give all or none`,
    );
  }
  if ((args.weights === undefined) !== (args.yWeights === undefined)) {
    throw new Error(`${label}: weights (f32 [n]) and yWeights (f32 [rows]) go together: give both or neither`);
  }
  if (args.weights && args.yWeights) {
    checkBuffer(label, 'weights', args.weights, n * 4, `f32 [${n}]`);
    checkBuffer(label, 'yWeights', args.yWeights, rows * 4, `f32 [${rows}]`);
  }
  const targetCols = args.targetCols ?? 0;
  if (args.denseTargets && args.yDense) {
    checkInt(label, 'targetCols', targetCols);
    checkBuffer(label, 'denseTargets', args.denseTargets, n * targetCols * 4, `f32 [${n}, ${targetCols}]`);
    checkBuffer(label, 'yDense', args.yDense, rows * targetCols * 4, `f32 [${rows}, ${targetCols}]`);
  }
  // u8 rows that start on a word: one invocation per word of 4 pixels.
  const words = kind === 'u8' && cols % 4 === 0;
  const threads = Math.max(words ? (rows * cols) / 4 : rows * cols, rows * targetCols, rows);
  return {
    label,
    entryPoint: 'gather',
    flags: { LABELS: args.labels !== undefined, DENSE: dense, WORDS: words, WEIGHTED: args.weights !== undefined },
    constants: { WG: GATHER_WG, SOURCE_U8: kind === 'u8' ? 1 : 0 },
    uniforms: { dims: gatherDims(args, 0) },
    bindings: {
      images: args.images,
      indices: args.indices,
      X: args.x,
      labels: args.labels,
      y: args.y,
      targets: args.denseTargets,
      y_dense: args.yDense,
      row_weights: args.weights,
      w: args.yWeights,
    },
    workgroups: grid2d(Math.ceil(threads / GATHER_WG), workgroupLimit(target, label, args.maxWorkgroupsPerDimension)),
  };
}

/** The dims uniform's fields for a batch starting at `start`. */
function gatherDims(args: GatherArgs, start: number): Record<string, number> {
  return {
    rows: args.rows,
    cols: args.cols,
    n: args.n,
    start,
    target_cols: args.targetCols ?? 0,
    scale: args.source === 'u8' ? (args.scale as number) : 1,
  };
}

/**
 * Prepares the gather; `setStart(start)` selects the window indices[start, start + rows). It writes a
 * uniform with queue.writeBuffer, which takes effect at the next submit: every dispatch of this op
 * inside one submit sees the same start (prepare one op per step to batch several steps in a submit).
 * The start is 0 until set.
 */
export async function prepareGather(
  ctx: GpuContext,
  scope: OpScope,
  args: GatherArgs,
  label = 'gather',
): Promise<GpuOp & { setStart(start: number): void }> {
  const op: KernelOp = await GATHER.prepare(ctx, scope, gatherCall(args, ctx, label));
  const indexCapacity = Math.floor(bindingBytes(args.indices) / 4);
  const { rows } = args;
  return {
    label,
    encode: op.encode,
    setStart(start) {
      if (!Number.isInteger(start) || start < 0 || start + rows > indexCapacity) {
        throw new Error(
          `${label}: start = ${start}, expected an integer in 0..${indexCapacity - rows} (indices holds ${indexCapacity}, the batch reads ${rows})`,
        );
      }
      op.setUniform('dims', gatherDims(args, start));
    },
  };
}
