/**
 * optimizer: one in-place SGD / momentum / Adam update of a flat parameter buffer, with L2 weight decay
 * on its first `decayCount` elements (shaders/optimizer.wgsl). Float64 twins: `sgdRef`, `momentumRef`,
 * `adamRef`. The hyperparameters live in a uniform that `setHyper` rewrites (queue.writeBuffer), so a
 * learning-rate schedule or Adam's step count never rebuilds the op.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/optimizer.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import { checkBuffer, checkInt, grid2d, workgroupLimit } from './check.js';
import { type BufferRef, type GpuOp, makeOp, type OpScope } from './op.js';

export type OptimizerKind = 'sgd' | 'momentum' | 'adam';

/** Hyperparameters of one update. Defaults follow PyTorch. */
export interface OptimizerHyper {
  lr: number;
  /** μ for 'momentum'; default 0.9. */
  momentum?: number;
  /** Adam β1; default 0.9. */
  beta1?: number;
  /** Adam β2; default 0.999. */
  beta2?: number;
  /** Adam ε; default 1e-8. */
  eps?: number;
  /** L2 coefficient added to the gradient of elements [0, decayCount); default 0. */
  weightDecay?: number;
  /** t, the number of this update, 1-based (Adam's bias correction 1/(1 − β^t)). */
  step: number;
}

export interface OptimizerArgs {
  kind: OptimizerKind;
  /** W: f32 [count], updated in place. */
  params: BufferRef;
  /** G: f32 [count], read. */
  grads: BufferRef;
  /** f32 [count], the momentum buffer (kind 'momentum'), updated in place; start it at 0. */
  velocity?: BufferRef;
  /** f32 [count], Adam's first moment, updated in place; start it at 0. */
  m?: BufferRef;
  /** f32 [count], Adam's second moment, updated in place; start it at 0. */
  v?: BufferRef;
  /** Number of elements updated. */
  count: number;
  /** Elements [0, decayCount) get L2 weight decay g' = g + wd·w, the rest none. 0 ≤ decayCount ≤ count. */
  decayCount: number;
  /** Testing only: split the workgroups over a 2D grid at this many per dimension. */
  maxWorkgroupsPerDimension?: number;
}

/** Invocations per workgroup. */
export const OPTIMIZER_WG = 256;
/** Elements (f32, or vec4f when count is a multiple of 4) each invocation updates. */
export const OPTIMIZER_PER_INVOCATION = 4;

export async function prepareOptimizer(
  ctx: GpuContext,
  scope: OpScope,
  args: OptimizerArgs,
  label = 'optimizer',
): Promise<GpuOp & { setHyper(h: OptimizerHyper): void }> {
  const { kind, count, decayCount } = args;
  if (kind !== 'sgd' && kind !== 'momentum' && kind !== 'adam') {
    throw new Error(`${label}: kind = '${String(kind)}', expected 'sgd', 'momentum' or 'adam'`);
  }
  checkInt(label, 'count', count);
  if (!Number.isInteger(decayCount) || decayCount < 0 || decayCount > count) {
    throw new Error(`${label}: decayCount = ${decayCount}, expected an integer in 0..${count} (the decayed elements)`);
  }
  const vector = `f32 [${count}]`;
  checkBuffer(label, 'params', args.params, count * 4, vector);
  checkBuffer(label, 'grads', args.grads, count * 4, vector);
  if (kind === 'momentum') {
    if (!args.velocity) throw new Error(`${label}: kind 'momentum' needs a velocity buffer (f32 [${count}], zeros)`);
    checkBuffer(label, 'velocity', args.velocity, count * 4, vector);
  }
  if (kind === 'adam') {
    if (!args.m || !args.v) throw new Error(`${label}: kind 'adam' needs m and v buffers (f32 [${count}] each, zeros)`);
    checkBuffer(label, 'm', args.m, count * 4, vector);
    checkBuffer(label, 'v', args.v, count * 4, vector);
  }

  // vec4 elements when the count allows (binding offsets are multiples of 256 bytes, so aligned).
  const vec4 = count % 4 === 0;
  const elements = vec4 ? count / 4 : count;
  const pipeline = await ctx.pipeline({
    shader: 'optimizer',
    source,
    entryPoint: 'optimizer',
    flags: { MOMENTUM: kind === 'momentum', ADAM: kind === 'adam', VEC4: vec4 },
    constants: { WG: OPTIMIZER_WG, PER: OPTIMIZER_PER_INVOCATION },
  });
  const dims = scope.uniform(`${label}.dims`, new Uint32Array([elements, decayCount, 0, 0]));
  const hyper = scope.uniform(`${label}.hyper`, new Float32Array(8));
  const op = makeOp(
    ctx,
    label,
    pipeline,
    {
      0: dims,
      1: hyper,
      2: args.params,
      3: args.grads,
      4: kind === 'momentum' ? args.velocity : kind === 'adam' ? args.m : undefined,
      5: kind === 'adam' ? args.v : undefined,
    },
    grid2d(
      Math.ceil(elements / (OPTIMIZER_WG * OPTIMIZER_PER_INVOCATION)),
      workgroupLimit(ctx, label, args.maxWorkgroupsPerDimension),
    ),
  );
  let hyperSet = false;
  return {
    label,
    encode(pass) {
      if (!hyperSet) throw new Error(`${label}: call setHyper({ lr, step, ... }) before encoding the update`);
      op.encode(pass);
    },
    setHyper(h) {
      ctx.device.queue.writeBuffer(hyper, 0, hyperWords(kind, h, label));
      hyperSet = true;
    },
  };
}

/** The Hyper uniform: lr, μ, β1, β2, ε, wd, 1/(1 − β1^t), 1/(1 − β2^t), the corrections in double precision. */
function hyperWords(kind: OptimizerKind, h: OptimizerHyper, label: string): Float32Array<ArrayBuffer> {
  const { lr, momentum = 0.9, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0, step } = h;
  const nonNegative = (name: string, value: number): void => {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new Error(`${label}: ${name} = ${value}, expected a finite number ≥ 0`);
    }
  };
  nonNegative('lr', lr);
  nonNegative('weightDecay', weightDecay);
  let k1 = 1;
  let k2 = 1;
  if (kind === 'momentum') nonNegative('momentum', momentum);
  if (kind === 'adam') {
    for (const [name, beta] of [
      ['beta1', beta1],
      ['beta2', beta2],
    ] as const) {
      if (!(beta >= 0 && beta < 1)) throw new Error(`${label}: ${name} = ${beta}, expected a number in [0, 1)`);
    }
    nonNegative('eps', eps);
    if (!Number.isInteger(step) || step < 1) {
      throw new Error(`${label}: step = ${step}, expected an integer ≥ 1 (the first Adam update is step 1)`);
    }
    k1 = 1 / (1 - beta1 ** step);
    k2 = 1 / (1 - beta2 ** step);
  }
  return new Float32Array([lr, momentum, beta1, beta2, eps, weightDecay, k1, k2]);
}
