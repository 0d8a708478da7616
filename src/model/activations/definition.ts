/**
 * An activation, defined once: its name, its parameters (a leaky ReLU's slope), its WGSL module (the
 * `activate` / `activation_grad` pair the matmul epilogues call), its Float64 twin, whether its
 * derivative is read from the output or needs the input, and the initialisation it wants. The GPU
 * plan, the Float64 network, initialisation, files, the CLI and the demo all read it from the
 * registry (index.ts); adding one is a new file here, a WGSL module in shaders/activations/ and a
 * registry line.
 */
import type { KernelActivation } from '../../kernels/act.js';
import type { ParamSpecs, ParamValues } from '../../params.js';

/** How a layer's weights start: normal with this standard deviation, or uniform in ±limit. */
export type InitDistribution = { kind: 'normal'; std: number } | { kind: 'uniform'; limit: number };

export interface ActivationDefinition<P extends string = string> {
  /** The name in options, files, `--activation` and the demo's menu. */
  readonly name: string;
  /** How menus show it: `ReLU`, `leaky ReLU`. */
  readonly title: string;
  /** The formula, one line (docs, `--help`). */
  readonly formula: string;
  /** The PyTorch module it matches. */
  readonly torch: string;
  /** Its parameters with defaults and ranges (none for most). */
  readonly params: ParamSpecs<P>;
  /** WGSL module defining `fn activate(x: f32) -> f32` and `fn activation_grad(v: f32) -> f32`. */
  readonly wgsl: string;
  /**
   * What `activation_grad` and `grad` take: the activation's output (ReLU, sigmoid, tanh: the
   * forward pass keeps it anyway) or its input Z (GELU: the forward pass then keeps Z as well).
   */
  readonly gradFrom: 'output' | 'input';
  /** WGSL override constants of the module for these parameters. */
  constants(params: ParamValues<P>): Record<string, number>;
  /** act(x), Float64. */
  forward(x: number, params: ParamValues<P>): number;
  /** act'(x) from v, the output or the input as `gradFrom` says, Float64. */
  grad(v: number, params: ParamValues<P>): number;
  /** The initial distribution of the weights of a layer [fanIn, fanOut] followed by this activation. */
  init(fanIn: number, fanOut: number, params: ParamValues<P>): InitDistribution;
}

/** He (Kaiming) normal, std = gain/√fanIn with gain² = 2: for ReLU-like activations. */
export function heNormal(fanIn: number, gainSquared = 2): InitDistribution {
  return { kind: 'normal', std: Math.sqrt(gainSquared / fanIn) };
}

/** Glorot (Xavier) uniform, ±√(6/(fanIn + fanOut)): for sigmoid, tanh and linear layers. */
export function glorotUniform(fanIn: number, fanOut: number): InitDistribution {
  return { kind: 'uniform', limit: Math.sqrt(6 / (fanIn + fanOut)) };
}

/** An activation with its parameters resolved: what a layer holds. */
export interface ResolvedActivation {
  readonly definition: ActivationDefinition;
  readonly params: ParamValues;
}

/** The module and constants a kernel appends for this activation (see kernels/act.ts). */
export function kernelActivation(a: ResolvedActivation): KernelActivation {
  return {
    name: `activations/${a.definition.name}`,
    source: a.definition.wgsl,
    constants: a.definition.constants(a.params),
    gradFrom: a.definition.gradFrom,
  };
}

/** The Float64 functions of this activation, its parameters bound. */
export function scalarActivation(a: ResolvedActivation): { forward(x: number): number; grad(v: number): number } {
  const { definition, params } = a;
  return { forward: (x) => definition.forward(x, params), grad: (v) => definition.grad(v, params) };
}
