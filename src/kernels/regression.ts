/**
 * regression: the mean-squared-error and Huber heads, loss and output gradient in one dispatch
 * (shaders/regression.wgsl). Float64 twins: `mseRef`, `huberRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/regression.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import {
  checkBuffer,
  type LossHeadArgs,
  lossHeadDims,
  lossHeadResources,
  rowGrid,
  type WorkgroupTarget,
} from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface RegressionArgs extends LossHeadArgs {
  /** `'mse'`: ℓ(d) = d²; `'huber'`: ½d² within δ, δ(|d| − ½δ) beyond. */
  loss: 'mse' | 'huber';
  /** Huber's δ (> 0); ignored for mse. */
  delta?: number;
  /** Y: f32 [rows, cols], read. */
  targets: BufferRef;
  /** Testing only: split the rows over a 2D grid at this many workgroups per dimension. */
  maxWorkgroupsPerDimension?: number;
}

/** Rows per workgroup (one invocation each). */
export const REGRESSION_WG = 64;

export const REGRESSION = /* @__PURE__ */ new Kernel('regression', source);

export function regressionCall(args: RegressionArgs, target: WorkgroupTarget, label = 'regression'): KernelCall {
  const { rows, cols, loss } = args;
  const dims = lossHeadDims(label, args);
  if (loss !== 'mse' && loss !== 'huber') throw new Error(`${label}: loss = '${String(loss)}', expected mse or huber`);
  const delta = args.delta ?? 1;
  if (loss === 'huber' && !(delta > 0 && Number.isFinite(delta))) {
    throw new Error(`${label}: delta = ${delta}, expected a finite number > 0`);
  }
  checkBuffer(label, 'targets', args.targets, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  const shared = lossHeadResources(args);
  return {
    label,
    entryPoint: 'regression',
    flags: shared.flags,
    constants: { WG: REGRESSION_WG, HUBER: loss === 'huber' ? 1 : 0 },
    uniforms: { dims: { ...dims, delta } },
    bindings: { ...shared.bindings, Y: args.targets },
    workgroups: rowGrid(target, label, rows, 'row', REGRESSION_WG, args.maxWorkgroupsPerDimension),
  };
}

export async function prepareRegression(
  ctx: GpuContext,
  scope: OpScope,
  args: RegressionArgs,
  label = 'regression',
): Promise<GpuOp> {
  return REGRESSION.prepare(ctx, scope, regressionCall(args, ctx, label));
}
