/**
 * dropout: inverted dropout whose mask is a hash of (element, step, seed, block), drawn again by the
 * backward (shaders/dropout.wgsl; docs/maths.md §10). Float64 twin: src/reference/dropout.ts, which
 * draws the same masks bit for bit.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/dropout.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import { dropoutThreshold } from '../reference/dropout.js';
import type { KernelActivation } from './act.js';
import { checkBuffer, checkInt, grid2d, type WorkgroupTarget, workgroupLimit } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

interface DropoutCommon {
  /** Elements: rows × the layer's width. */
  count: number;
  /** Drop probability in [0, 1). */
  p: number;
  /** The block the layer is in: one of the hash's words, so that each dropout layer draws its own mask. */
  block: number;
  /** u32 [seed, step]: the model's random stream. */
  random: BufferRef;
  /** f32 [count], written. */
  output: BufferRef;
  /** Testing only: split the workgroups over a 2D grid at this many per dimension. */
  maxWorkgroupsPerDimension?: number;
}

/** out = keep·x/(1 − p). */
export interface DropoutForwardArgs extends DropoutCommon {
  direction: 'forward';
  /** x: f32 [count], read. */
  input: BufferRef;
}

/** dx = keep·dout/(1 − p) ⊙ act'(V) of the layer below. */
export interface DropoutBackwardArgs extends DropoutCommon {
  direction: 'backward';
  /** dout: f32 [count], read. */
  grad: BufferRef;
  /** The layer below's activation, and what its derivative reads (V: f32 [count]). */
  activation: KernelActivation;
  values: BufferRef;
}

export type DropoutArgs = DropoutForwardArgs | DropoutBackwardArgs;

/** Invocations per workgroup, one element each. */
export const DROPOUT_WG = 256;

export const DROPOUT = /* @__PURE__ */ new Kernel('dropout', source);

export function dropoutCall(args: DropoutArgs, target: WorkgroupTarget, label = 'dropout'): KernelCall {
  const { count, p, block } = args;
  checkInt(label, 'count', count);
  checkInt(label, 'block', block, 0);
  if (!(p >= 0 && p < 1)) throw new Error(`${label}: p = ${p}, expected a probability in [0, 1)`);
  const vector = `f32 [${count}]`;
  checkBuffer(label, 'output', args.output, count * 4, vector);
  checkBuffer(label, 'random', args.random, 8, 'u32 [seed, step]');
  const backward = args.direction === 'backward';
  if (backward) {
    checkBuffer(label, 'grad', args.grad, count * 4, vector);
    checkBuffer(label, 'values', args.values, count * 4, vector);
  } else checkBuffer(label, 'input', args.input, count * 4, vector);
  return {
    label,
    entryPoint: backward ? 'dropout_backward' : 'dropout_forward',
    flags: { BACKWARD: backward },
    modules: backward ? [args.activation] : [],
    constants: { WG: DROPOUT_WG, ...(backward ? args.activation.constants : {}) },
    uniforms: { dims: { count, block, threshold: dropoutThreshold(p), scale: 1 / (1 - p) } },
    bindings: backward
      ? { input: args.grad, values: args.values, output: args.output, random: args.random }
      : { input: args.input, output: args.output, random: args.random },
    workgroups: grid2d(Math.ceil(count / DROPOUT_WG), workgroupLimit(target, label, args.maxWorkgroupsPerDimension)),
  };
}

/** step += 1 in the model's random stream: after a training step, so that the next one draws new masks. */
export function dropoutAdvanceCall(random: BufferRef, label = 'dropout.advance'): KernelCall {
  checkBuffer(label, 'random', random, 8, 'u32 [seed, step]');
  return {
    label,
    entryPoint: 'dropout_advance',
    flags: { BACKWARD: false },
    bindings: { random_state: random },
    workgroups: [1],
  };
}

export async function prepareDropout(
  ctx: GpuContext,
  scope: OpScope,
  args: DropoutArgs,
  label = 'dropout',
): Promise<GpuOp> {
  return DROPOUT.prepare(ctx, scope, dropoutCall(args, ctx, label));
}

export async function prepareDropoutAdvance(
  ctx: GpuContext,
  scope: OpScope,
  random: BufferRef,
  label = 'dropout.advance',
): Promise<GpuOp> {
  return DROPOUT.prepare(ctx, scope, dropoutAdvanceCall(random, label));
}
