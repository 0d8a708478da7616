/**
 * layer_norm: LayerNorm and its activation per row (shaders/layer_norm.wgsl), and its gradients
 * (shaders/layer_norm_backward.wgsl); docs/maths.md §10. Float64 twin: src/reference/layer_norm.ts.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/layer_norm.wgsl?raw';
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import backwardSource from '../../shaders/layer_norm_backward.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import type { KernelActivation } from './act.js';
import { checkBuffer, checkInt, type RowVariant, rowGrid, rowVariant, type WorkgroupTarget } from './check.js';
import { Kernel, type KernelCall } from './kernel.js';
import { type NormBackwardArgs, normBackwardBindings } from './norm.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

interface LayerNormCommon {
  rows: number;
  cols: number;
  /** X: f32 [rows, cols], read. */
  input: BufferRef;
  /** γ: f32 [cols], read. */
  gamma: BufferRef;
  /** Testing only: split the rows over a 2D grid at this many workgroups per dimension. */
  maxWorkgroupsPerDimension?: number;
  /** One invocation or one workgroup per row; default from `rowVariant` (narrow rows, CPU adapters: 'row'). */
  variant?: RowVariant;
}

export interface LayerNormForwardArgs extends LayerNormCommon {
  /** β: f32 [cols], read. */
  beta: BufferRef;
  eps: number;
  /** The activation applied to y (the block's). */
  activation: KernelActivation;
  /** act(y): f32 [rows, cols], written. */
  output: BufferRef;
  /** y: f32 [rows, cols], written when given (training, an activation whose derivative reads its input). */
  pre?: BufferRef;
  /** μ_r, ρ_r: f32 [rows, 2], written when given (training: the backward reads them). */
  stats?: BufferRef;
}

/** The backward's arguments (NormBackwardArgs; `stats` μ_r, ρ_r: f32 [rows, 2]), dγ and dβ apart. */
export type LayerNormBackwardArgs = Omit<NormBackwardArgs, 'gammaGrad' | 'betaGrad'> &
  Pick<LayerNormCommon, 'variant' | 'maxWorkgroupsPerDimension'>;

export interface LayerNormParamGradArgs {
  rows: number;
  cols: number;
  input: BufferRef;
  stats: BufferRef;
  grad: BufferRef;
  /** dγ, dβ: f32 [cols], written. */
  gammaGrad: BufferRef;
  betaGrad: BufferRef;
  /**
   * The backward's module (the layer below's activation): this entry point does not call it, but the
   * shader's other entry point does, and WGSL compiles the whole module. The same module as the
   * backward's keeps it one shader.
   */
  below: KernelActivation;
}

/** Invocations per workgroup: per row ('workgroup'), or rows per workgroup ('row'). */
export const LAYER_NORM_WG = 64;

export const LAYER_NORM = /* @__PURE__ */ new Kernel('layer_norm', source);
export const LAYER_NORM_BACKWARD = /* @__PURE__ */ new Kernel('layer_norm_backward', backwardSource);

function checkRows(label: string, args: LayerNormCommon, names: Record<string, BufferRef | undefined>): void {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  for (const [name, ref] of Object.entries(names)) {
    if (ref) checkBuffer(label, name, ref, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  }
  checkBuffer(label, 'gamma', args.gamma, cols * 4, `f32 [${cols}]`);
}

export function layerNormCall(args: LayerNormForwardArgs, target: WorkgroupTarget, label = 'layer_norm'): KernelCall {
  const { rows, cols, activation } = args;
  checkRows(label, args, { input: args.input, output: args.output, pre: args.pre });
  checkBuffer(label, 'beta', args.beta, cols * 4, `f32 [${cols}]`);
  if (args.stats) checkBuffer(label, 'stats', args.stats, rows * 8, `f32 [${rows}, 2]`);
  if (!(args.eps > 0)) throw new Error(`${label}: eps = ${args.eps}, expected a positive number`);
  const variant = rowVariant(target, label, cols, args.variant);
  return {
    label,
    entryPoint: variant === 'row' ? 'layer_norm_row' : 'layer_norm',
    flags: { PRE: args.pre !== undefined, SAVE: args.stats !== undefined },
    modules: [activation],
    constants: { WG: LAYER_NORM_WG, ...activation.constants },
    uniforms: { dims: { rows, cols, eps: args.eps } },
    bindings: { X: args.input, gamma: args.gamma, beta: args.beta, out: args.output, pre: args.pre, stats: args.stats },
    workgroups: rowGrid(target, label, rows, variant, LAYER_NORM_WG, args.maxWorkgroupsPerDimension),
  };
}

export function layerNormBackwardCall(
  args: LayerNormBackwardArgs,
  target: WorkgroupTarget,
  label = 'layer_norm.backward',
): KernelCall {
  const { rows, cols, below } = args;
  checkRows(label, args, { input: args.input, grad: args.grad, values: args.values, inputGrad: args.inputGrad });
  checkBuffer(label, 'stats', args.stats, rows * 8, `f32 [${rows}, 2]`);
  const variant = rowVariant(target, label, cols, args.variant);
  return {
    label,
    entryPoint: variant === 'row' ? 'layer_norm_backward_row' : 'layer_norm_backward',
    modules: [below],
    constants: { WG: LAYER_NORM_WG, ...below.constants },
    uniforms: { dims: { rows, cols } },
    bindings: normBackwardBindings(args as NormBackwardArgs),
    workgroups: rowGrid(target, label, rows, variant, LAYER_NORM_WG, args.maxWorkgroupsPerDimension),
  };
}

export function layerNormParamGradCall(args: LayerNormParamGradArgs, label = 'layer_norm.param_grad'): KernelCall {
  const { rows, cols } = args;
  checkInt(label, 'rows', rows);
  checkInt(label, 'cols', cols);
  for (const [name, ref] of [
    ['input', args.input],
    ['grad', args.grad],
  ] as const) {
    checkBuffer(label, name, ref, rows * cols * 4, `f32 [${rows}, ${cols}]`);
  }
  checkBuffer(label, 'stats', args.stats, rows * 8, `f32 [${rows}, 2]`);
  checkBuffer(label, 'gammaGrad', args.gammaGrad, cols * 4, `f32 [${cols}]`);
  checkBuffer(label, 'betaGrad', args.betaGrad, cols * 4, `f32 [${cols}]`);
  return {
    label,
    entryPoint: 'layer_norm_param_grad',
    modules: [args.below],
    constants: { WG: LAYER_NORM_WG, ...args.below.constants },
    uniforms: { dims: { rows, cols } },
    bindings: { X: args.input, stats: args.stats, dY: args.grad, dgamma: args.gammaGrad, dbeta: args.betaGrad },
    workgroups: [Math.ceil(cols / LAYER_NORM_WG)],
  };
}

export async function prepareLayerNorm(
  ctx: GpuContext,
  scope: OpScope,
  args: LayerNormForwardArgs,
  label?: string,
): Promise<GpuOp> {
  return LAYER_NORM.prepare(ctx, scope, layerNormCall(args, ctx, label));
}

export async function prepareLayerNormBackward(
  ctx: GpuContext,
  scope: OpScope,
  args: NormBackwardArgs & Pick<LayerNormCommon, 'variant' | 'maxWorkgroupsPerDimension'>,
  label = 'layer_norm.backward',
): Promise<GpuOp[]> {
  return [
    await LAYER_NORM_BACKWARD.prepare(ctx, scope, layerNormParamGradCall(args, `${label}.dgamma+dbeta`)),
    await LAYER_NORM_BACKWARD.prepare(ctx, scope, layerNormBackwardCall(args, ctx, `${label}.dInput`)),
  ];
}
