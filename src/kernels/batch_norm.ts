/**
 * batch_norm: BatchNorm1d and its activation — in evaluation from the running statistics
 * (shaders/batch_norm.wgsl), in training from the batch's, with the running statistics' update and the
 * backward (shaders/batch_norm_train.wgsl); docs/maths.md §10. Float64 twin: src/reference/batch_norm.ts.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/batch_norm.wgsl?raw';
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import trainSource from '../../shaders/batch_norm_train.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import type { KernelActivation } from './act.js';
import { checkBuffer, checkInt, grid2d, type WorkgroupTarget, workgroupLimit } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import { type NormBackwardArgs, normBackwardBindings } from './norm.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

interface BatchNormCommon {
  rows: number;
  cols: number;
  /** X: f32 [rows, cols], read. */
  input: BufferRef;
  /** γ: f32 [cols], read. */
  gamma: BufferRef;
}

export interface BatchNormForwardArgs extends BatchNormCommon {
  beta: BufferRef;
  eps: number;
  /** The block's activation, applied to y. */
  activation: KernelActivation;
  /** act(y): f32 [rows, cols], written. */
  output: BufferRef;
  /** f32 [cols] each: read in evaluation, updated in training. */
  runningMean: BufferRef;
  runningVar: BufferRef;
  /** Testing only (evaluation): split the workgroups over a 2D grid at this many per dimension. */
  maxWorkgroupsPerDimension?: number;
}

export interface BatchNormTrainArgs extends BatchNormForwardArgs {
  /** PyTorch's momentum m: running ← (1 − m)·running + m·batch. */
  momentum: number;
  /** y: f32 [rows, cols], written when given (the activation's derivative reads its input). */
  pre?: BufferRef;
  /** μ_c, then ρ_c: f32 [2, cols], written (the backward reads them). */
  stats: BufferRef;
}

/** The backward's arguments (NormBackwardArgs; `stats` μ_c then ρ_c: f32 [2, cols]). */
export type BatchNormBackwardArgs = NormBackwardArgs;

/** Invocations per workgroup: elements (evaluation), or columns (training). */
export const BATCH_NORM_WG = 256;
export const BATCH_NORM_TRAIN_WG = 64;

export const BATCH_NORM = /* @__PURE__ */ new Kernel('batch_norm', source);
export const BATCH_NORM_TRAIN = /* @__PURE__ */ new Kernel('batch_norm_train', trainSource);

function check(
  label: string,
  args: BatchNormCommon,
  matrices: Record<string, BufferRef | undefined>,
  vectors: Record<string, BufferRef>,
): void {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  for (const [name, ref] of Object.entries(matrices)) {
    if (ref) checkBuffer(label, name, ref, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  }
  for (const [name, ref] of Object.entries({ gamma: args.gamma, ...vectors })) {
    checkBuffer(label, name, ref, cols * 4, `f32 [${cols}]`);
  }
}

function checkEps(label: string, eps: number): void {
  if (!(eps > 0)) throw new Error(`${label}: eps = ${eps}, expected a positive number`);
}

/** Evaluation: y from the running statistics, elementwise. */
export function batchNormEvalCall(
  args: BatchNormForwardArgs,
  target: WorkgroupTarget,
  label = 'batch_norm',
): KernelCall {
  const { rows, cols, activation } = args;
  check(
    label,
    args,
    { input: args.input, output: args.output },
    {
      beta: args.beta,
      runningMean: args.runningMean,
      runningVar: args.runningVar,
    },
  );
  checkEps(label, args.eps);
  return {
    label,
    entryPoint: 'batch_norm_eval',
    modules: [activation],
    constants: { WG: BATCH_NORM_WG, ...activation.constants },
    uniforms: { dims: { rows, cols, eps: args.eps } },
    bindings: {
      X: args.input,
      gamma: args.gamma,
      beta: args.beta,
      running_mean: args.runningMean,
      running_var: args.runningVar,
      out: args.output,
    },
    workgroups: grid2d(
      Math.ceil((rows * cols) / BATCH_NORM_WG),
      workgroupLimit(target, label, args.maxWorkgroupsPerDimension),
    ),
  };
}

/** Training forward: the batch's statistics, kept for the backward, and the running statistics updated. */
export function batchNormTrainCall(args: BatchNormTrainArgs, label = 'batch_norm.train'): KernelCall {
  const { rows, cols, activation, momentum } = args;
  check(
    label,
    args,
    { input: args.input, output: args.output, pre: args.pre },
    {
      beta: args.beta,
      runningMean: args.runningMean,
      runningVar: args.runningVar,
    },
  );
  checkBuffer(label, 'stats', args.stats, cols * 8, `f32 [2, ${cols}]`);
  checkEps(label, args.eps);
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`${label}: momentum = ${momentum}, expected [0, 1]`);
  return {
    label,
    entryPoint: 'batch_norm_forward',
    flags: { PRE: args.pre !== undefined },
    modules: [activation],
    constants: { WG: BATCH_NORM_TRAIN_WG, ...activation.constants },
    uniforms: {
      dims: {
        rows,
        cols,
        eps: args.eps,
        momentum,
        keep: 1 - momentum, // in double, rounded once (as the optimizers' 1 − β)
        unbiased: rows > 1 ? rows / (rows - 1) : 0,
        update_var: rows > 1 ? 1 : 0, // one row has no unbiased variance: running_var stays
      },
    },
    bindings: {
      X: args.input,
      gamma: args.gamma,
      beta: args.beta,
      out: args.output,
      pre: args.pre,
      stats: args.stats,
      running_mean: args.runningMean,
      running_var: args.runningVar,
    },
    workgroups: [Math.ceil(cols / BATCH_NORM_TRAIN_WG)],
  };
}

export function batchNormBackwardCall(args: BatchNormBackwardArgs, label = 'batch_norm.backward'): KernelCall {
  const { rows, cols, below } = args;
  check(
    label,
    args,
    { input: args.input, grad: args.grad, values: args.values, inputGrad: args.inputGrad },
    { gammaGrad: args.gammaGrad, betaGrad: args.betaGrad },
  );
  checkBuffer(label, 'stats', args.stats, cols * 8, `f32 [2, ${cols}]`);
  return {
    label,
    entryPoint: 'batch_norm_backward',
    flags: { PRE: false },
    modules: [below],
    constants: { WG: BATCH_NORM_TRAIN_WG, ...below.constants },
    // the forward's fields of the shared Dims, unused by the backward
    uniforms: { dims: { rows, cols, eps: 0, momentum: 0, keep: 0, unbiased: 0, update_var: 0 } },
    bindings: { ...normBackwardBindings(args), dgamma: args.gammaGrad, dbeta: args.betaGrad },
    workgroups: [Math.ceil(cols / BATCH_NORM_TRAIN_WG)],
  };
}

export async function prepareBatchNormEval(
  ctx: GpuContext,
  scope: OpScope,
  args: BatchNormForwardArgs,
  label?: string,
): Promise<GpuOp> {
  return BATCH_NORM.prepare(ctx, scope, batchNormEvalCall(args, ctx, label));
}

export async function prepareBatchNormTrain(
  ctx: GpuContext,
  scope: OpScope,
  args: BatchNormTrainArgs,
  label?: string,
): Promise<GpuOp> {
  return BATCH_NORM_TRAIN.prepare(ctx, scope, batchNormTrainCall(args, label));
}

export async function prepareBatchNormBackward(
  ctx: GpuContext,
  scope: OpScope,
  args: BatchNormBackwardArgs,
  label?: string,
): Promise<GpuOp> {
  return BATCH_NORM_TRAIN.prepare(ctx, scope, batchNormBackwardCall(args, label));
}
