/**
 * activation: A = act(Z) and its backward dZ = dA ⊙ act'(A), elementwise, for the cases the matmul
 * epilogue does not cover (shaders/activation.wgsl, seed 001). Float64 twins: `activationForwardRef`,
 * `activationBackwardRef`.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/activation.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import type { Activation } from '../model/spec.js';
import { withActivations } from './act.js';
import { checkBuffer, checkInt, grid2d, workgroupLimit } from './check.js';
import { type BufferRef, type GpuOp, makeOp, type OpScope } from './op.js';

interface ActivationCommon {
  kind: Activation;
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

/** output = grad ⊙ act'(activationOutput). */
export interface ActivationBackwardArgs extends ActivationCommon {
  direction: 'backward';
  /** A = act(Z): f32 [count], read; act' is computed from it. */
  activationOutput: BufferRef;
  /** dA: f32 [count], read. */
  grad: BufferRef;
}

export type ActivationArgs = ActivationForwardArgs | ActivationBackwardArgs;

/** The shader's ACT codes (the same as matmul.wgsl's). */
export const ACTIVATION_CODE: Readonly<Record<Activation, number>> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3 };

/** Invocations per workgroup, one element each. */
export const ACTIVATION_WG = 256;

export async function prepareActivation(
  ctx: GpuContext,
  scope: OpScope,
  args: ActivationArgs,
  label = 'activation',
): Promise<GpuOp> {
  const { kind, count, direction } = args;
  if (!(kind in ACTIVATION_CODE)) {
    throw new Error(`${label}: kind = '${String(kind)}', expected relu, sigmoid, tanh or linear`);
  }
  if (direction !== 'forward' && direction !== 'backward') {
    throw new Error(`${label}: direction = '${String(direction)}', expected 'forward' or 'backward'`);
  }
  checkInt(label, 'count', count);
  const vector = `f32 [${count}]`;
  checkBuffer(label, 'output', args.output, count * 4, vector);
  if (args.direction === 'forward') {
    checkBuffer(label, 'input', args.input, count * 4, vector);
  } else {
    checkBuffer(label, 'activationOutput', args.activationOutput, count * 4, vector);
    checkBuffer(label, 'grad', args.grad, count * 4, vector);
  }
  const pipeline = await ctx.pipeline({
    shader: 'activation',
    source: withActivations(source),
    entryPoint: `activation_${direction}`,
    constants: { WG: ACTIVATION_WG, ACT: ACTIVATION_CODE[kind] },
  });
  const dims = scope.uniform(`${label}.dims`, new Uint32Array([count, 0, 0, 0]));
  const entries =
    args.direction === 'forward'
      ? { 0: dims, 1: args.input, 3: args.output }
      : { 0: dims, 1: args.activationOutput, 2: args.grad, 3: args.output };
  return makeOp(
    ctx,
    label,
    pipeline,
    entries,
    grid2d(Math.ceil(count / ACTIVATION_WG), workgroupLimit(ctx, label, args.maxWorkgroupsPerDimension)),
  );
}
