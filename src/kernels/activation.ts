/**
 * activation: A = act(Z) and its backward dZ = dA ⊙ act'(V), elementwise, for the cases the matmul
 * epilogue does not cover — the sigmoid head's probabilities (shaders/activation.wgsl, seed 001).
 * Float64 twins: `activationForwardRef`, `activationBackwardRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/activation.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import type { KernelActivation } from './act.js';
import { checkBuffer, checkInt, grid2d, type WorkgroupTarget, workgroupLimit } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

interface ActivationCommon {
  activation: KernelActivation;
  /** Number of elements (any shape, flattened). */
  count: number;
  /** f32 [count], written. */
  output: BufferRef;
  /** Testing only: split the workgroups over a 2D grid at this many per dimension. */
  maxWorkgroupsPerDimension?: number;
}

/** output = act(input). */
export interface ActivationForwardArgs extends ActivationCommon {
  direction: 'forward';
  /** Z: f32 [count], read. */
  input: BufferRef;
}

/** output = grad ⊙ act'(values). */
export interface ActivationBackwardArgs extends ActivationCommon {
  direction: 'backward';
  /** V: f32 [count], read: the activation's output, or its input when it says `gradFrom: 'input'`. */
  values: BufferRef;
  /** dA: f32 [count], read. */
  grad: BufferRef;
}

export type ActivationArgs = ActivationForwardArgs | ActivationBackwardArgs;

/** Invocations per workgroup, one element each. */
export const ACTIVATION_WG = 256;

export const ACTIVATION = /* @__PURE__ */ new Kernel('activation', source);

export function activationCall(args: ActivationArgs, target: WorkgroupTarget, label = 'activation'): KernelCall {
  const { count, direction, activation } = args;
  if (direction !== 'forward' && direction !== 'backward') {
    throw new Error(`${label}: direction = '${String(direction)}', expected 'forward' or 'backward'`);
  }
  checkInt(label, 'count', count);
  const vector = `f32 [${count}]`;
  checkBuffer(label, 'output', args.output, count * 4, vector);
  if (args.direction === 'forward') {
    checkBuffer(label, 'input', args.input, count * 4, vector);
  } else {
    checkBuffer(label, 'values', args.values, count * 4, vector);
    checkBuffer(label, 'grad', args.grad, count * 4, vector);
  }
  return {
    label,
    entryPoint: `activation_${direction}`,
    modules: [activation],
    constants: { WG: ACTIVATION_WG, ...activation.constants },
    uniforms: { dims: { count } },
    bindings:
      args.direction === 'forward'
        ? { input: args.input, output: args.output }
        : { input: args.values, grad: args.grad, output: args.output },
    workgroups: grid2d(Math.ceil(count / ACTIVATION_WG), workgroupLimit(target, label, args.maxWorkgroupsPerDimension)),
  };
}

export async function prepareActivation(
  ctx: GpuContext,
  scope: OpScope,
  args: ActivationArgs,
  label = 'activation',
): Promise<GpuOp> {
  return ACTIVATION.prepare(ctx, scope, activationCall(args, ctx, label));
}
