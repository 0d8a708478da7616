/**
 * affine: X ← X·scale + shift per column, in place (shaders/affine.wgsl, docs/maths.md §11): a network's
 * input standardisation and a regression head's unscaling, on the GPU. Float64 twin: `affineRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/affine.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import { checkBuffer, checkInt, grid2d, type WorkgroupTarget, workgroupLimit } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface AffineArgs {
  /** X: f32 [rows, cols], read and written. */
  values: BufferRef;
  /** scale then shift: f32 [2, cols], read. */
  coef: BufferRef;
  rows: number;
  cols: number;
  /** Testing only: split the workgroups over a 2D grid at this many per dimension. */
  maxWorkgroupsPerDimension?: number;
}

/** Invocations per workgroup, one element each. */
export const AFFINE_WG = 256;

export const AFFINE = /* @__PURE__ */ new Kernel('affine', source);

export function affineCall(args: AffineArgs, target: WorkgroupTarget, label = 'affine'): KernelCall {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  const count = rows * cols;
  checkBuffer(label, 'values', args.values, count * 4, `f32 [${rows}, ${cols}]`);
  checkBuffer(label, 'coef', args.coef, 2 * cols * 4, `f32 [2, ${cols}]`);
  return {
    label,
    entryPoint: 'affine',
    constants: { WG: AFFINE_WG },
    uniforms: { dims: { count, cols } },
    bindings: { X: args.values, coef: args.coef },
    workgroups: grid2d(Math.ceil(count / AFFINE_WG), workgroupLimit(target, label, args.maxWorkgroupsPerDimension)),
  };
}

export async function prepareAffine(
  ctx: GpuContext,
  scope: OpScope,
  args: AffineArgs,
  label = 'affine',
): Promise<GpuOp> {
  return AFFINE.prepare(ctx, scope, affineCall(args, ctx, label));
}

/** A per-column affine y = x·scale + shift, f32 (a network's input or output transform). */
export interface Affine {
  scale: Float32Array;
  shift: Float32Array;
}

/**
 * The GPU buffers of a network's transforms (PlanModel.transform in src/infer/plan.ts): each affine as
 * f32 [2, n], its scales then its shifts.
 */
export async function createTransform(
  ctx: GpuContext,
  affines: { input?: Affine; output?: Affine },
  label: string,
): Promise<{ input?: GPUBuffer; output?: GPUBuffer }> {
  const made: { input?: GPUBuffer; output?: GPUBuffer } = {};
  for (const side of ['input', 'output'] as const) {
    const a = affines[side];
    if (!a) continue;
    const coef = new Float32Array(2 * a.scale.length);
    coef.set(a.scale);
    coef.set(a.shift, a.scale.length);
    made[side] = await ctx.allocating(
      `the ${side} transform of ${label}`,
      () => ctx.createBufferWith(`${label}.${side}.affine`, coef, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST),
      (b) => ctx.releaseBuffer(b),
      'free GPU memory',
    );
  }
  return made;
}

/** What `addTransforms` needs of a forward plan (src/infer/plan.ts). */
export interface TransformedPlan {
  readonly batch: number;
  readonly scope: OpScope;
  /** X, the first layer's input. */
  readonly x: GPUBuffer;
  /** The logits Z_{L−1}, last. */
  readonly outputs: readonly GPUBuffer[];
  /** The plan's forward ops (the layers) and its outputs' ops. */
  readonly forward: GpuOp[];
  readonly probabilities: GpuOp[];
}

/**
 * A forward plan's transforms (docs/maths.md §11), in place: before its layers, X ← X·s_in + t_in; in a
 * prediction plan, after them, Z_{L−1} ← Z_{L−1}·s_out + t_out (a regression head's outputs unscaled:
 * such heads' outputs are the logits themselves, and nothing after reads them scaled).
 */
export async function addTransforms(
  ctx: GpuContext,
  plan: TransformedPlan,
  transform: { readonly input?: GPUBuffer; readonly output?: GPUBuffer },
  predicts: boolean | undefined,
  label: string,
): Promise<void> {
  const { batch: rows, scope, x, outputs } = plan;
  const { input, output } = transform;
  // (Each buffer holds exactly rows × cols f32: OpScope.storage sizes them so.)
  if (input) {
    const op = await prepareAffine(
      ctx,
      scope,
      { values: x, coef: input, rows, cols: x.size / 4 / rows },
      `${label}.inputs.affine`,
    );
    plan.forward.unshift(op);
  }
  const logits = outputs[outputs.length - 1];
  if (output && predicts) {
    const args = { values: logits, coef: output, rows, cols: logits.size / 4 / rows };
    plan.probabilities.push(await prepareAffine(ctx, scope, args, `${label}.outputs.affine`));
  }
}
