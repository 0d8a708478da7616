/**
 * The shape of a network, shared by the GPU scheduler and the Float64 reference.
 *
 * Layout (everywhere in this project): tensors are row-major, batch first.
 *   X: [B, D]   inputs, one example per row
 *   W_l: [n_{l-1}, n_l]   so that Z_l = A_{l-1}·W_l + b_l   (seed 004: x N×D, W1 D×H, W2 H×C)
 *   b_l: [n_l]
 *   A_l = act_l(Z_l)
 * Shape letters: B batch, D inputs, H hidden, C classes (outputs).
 */
import { fail } from '../params.js';
import {
  ACTIVATIONS,
  type Activation,
  canonicalActivation,
  type ResolvedActivation,
  resolveActivation,
} from './activations/index.js';
import { linear } from './activations/linear.js';
import { canonicalHead, HEADS, type Head, resolveHeadOutputs } from './heads/outputs.js';

export type { TargetKind, Targets } from '../reference/targets.js';
export type { Activation, ActivationName } from './activations/index.js';
export { ACTIVATIONS } from './activations/index.js';
export type { Head, HeadName } from './heads/outputs.js';
export { HEADS } from './heads/outputs.js';

/** A fully resolved network description. */
export interface MlpSpec {
  /** Layer widths, input first, output last: `[784, 256, 10]` has one hidden layer of 256. */
  readonly layers: readonly number[];
  /** One activation per hidden layer (`layers.length − 2` entries), canonical (see `canonicalActivation`). */
  readonly activations: readonly Activation[];
  /** Output head, canonical. */
  readonly head: Head;
}

/** How a network is described by the user. */
export interface NetworkOptions {
  /** Layer widths, input first, output last, e.g. `[784, 256, 10]`. */
  layers: readonly number[];
  /**
   * Hidden activation: one for all hidden layers, or one per hidden layer. A name (`'relu'`, `'tanh'`,
   * `'sigmoid'`, `'linear'`, `'leakyRelu'`, `'gelu'`) or a name with parameters,
   * `{ name: 'leakyRelu', slope: 0.2 }`. Default `'relu'`.
   */
  activation?: Activation | readonly Activation[];
  /**
   * Output head and loss. Default `'softmax'` (cross-entropy over classes); `'sigmoid'` for binary or
   * multi-label outputs; `'mse'` or `'huber'` (`{ name: 'huber', delta }`) for regression.
   */
  head?: Head;
}

/** The largest width we accept for one layer (a sanity bound, far above any MLP we train). */
export const MAX_WIDTH = 1 << 20;

/** Checks a network description and returns it resolved. Errors name the option, the value and what was expected. */
export function resolveSpec(options: NetworkOptions, arg = 'options'): MlpSpec {
  if (typeof options !== 'object' || options === null) fail(arg, options, 'an object { layers, activation?, head? }');
  const { layers } = options;
  if (!Array.isArray(layers) || layers.length < 2) {
    fail(`${arg}.layers`, layers, 'an array of at least two layer widths, input first, e.g. [784, 256, 10]');
  }
  // spread first, so that a hole is checked (as undefined), not skipped
  [...layers].forEach((w, i) => {
    if (!Number.isInteger(w) || w < 1 || w > MAX_WIDTH) fail(`${arg}.layers[${i}]`, w, `an integer in 1..${MAX_WIDTH}`);
  });
  const hidden = layers.length - 2;
  const act = options.activation === undefined ? 'relu' : options.activation; // null is not "the default"
  let activations: Activation[];
  if (Array.isArray(act)) {
    if (act.length !== hidden) fail(`${arg}.activation`, act, `one activation or ${hidden} (one per hidden layer)`);
    activations = Array.from(act, (a, i) => canonicalActivation(resolveActivation(a, `${arg}.activation[${i}]`)));
  } else {
    if (typeof act !== 'string' && (typeof act !== 'object' || act === null)) {
      fail(`${arg}.activation`, act, `one of ${ACTIVATIONS.join(', ')}, or one per hidden layer`);
    }
    activations = Array<Activation>(hidden).fill(canonicalActivation(resolveActivation(act, `${arg}.activation`)));
  }
  const given = options.head === undefined ? 'softmax' : options.head;
  if (typeof given !== 'string' && (typeof given !== 'object' || given === null)) {
    fail(`${arg}.head`, given, `one of ${HEADS.join(', ')}`);
  }
  const head = resolveHeadOutputs(given, `${arg}.head`);
  const C = layers[layers.length - 1];
  if (C < head.outputs.minOutputs) {
    fail(
      `${arg}.layers[${layers.length - 1}]`,
      C,
      head.outputs.name === 'softmax'
        ? "at least 2 classes for the softmax head (use head: 'sigmoid' for one output)"
        : `at least ${head.outputs.minOutputs} outputs for the ${head.outputs.name} head`,
    );
  }
  return { layers: [...layers], activations, head: canonicalHead(head) };
}

/** Number of dense layers (weight matrices). */
export function layerCount(spec: MlpSpec): number {
  return spec.layers.length - 1;
}

/** Shapes of layer `l`'s parameters: W is [fanIn, fanOut], b is [fanOut]. */
export function layerShape(spec: MlpSpec, l: number): { fanIn: number; fanOut: number } {
  return { fanIn: spec.layers[l], fanOut: spec.layers[l + 1] };
}

/** Activation after dense layer `l` (0-based), resolved; the last layer's is linear (the head follows). */
export function activationOf(spec: MlpSpec, l: number): ResolvedActivation {
  return l < spec.activations.length ? resolveActivation(spec.activations[l]) : { definition: linear, params: {} };
}

/** The head's name (`'softmax'`, `'huber'`, …), without its parameters. */
export function headName(spec: MlpSpec): string {
  return typeof spec.head === 'string' ? spec.head : spec.head.name;
}
