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
import { checkKeys, fail } from '../params.js';
import {
  ACTIVATIONS,
  type Activation,
  canonicalActivation,
  type ResolvedActivation,
  resolveActivation,
} from './activations/index.js';
import { linear } from './activations/linear.js';
import { canonicalHead, HEADS, type Head, resolveHeadOutputs } from './heads/outputs.js';
import { canonicalNorm, isNormLike, NORMS, type Norm, resolveDropout, resolveNorm } from './layers/norms.js';

export type { TargetKind, Targets } from '../reference/targets.js';
export type { Activation, ActivationName } from './activations/index.js';
export { ACTIVATIONS } from './activations/index.js';
export type { Head, HeadName } from './heads/outputs.js';
export { HEADS } from './heads/outputs.js';
export type { Norm, NormName } from './layers/norms.js';
export { NORMS } from './layers/norms.js';

/** A fully resolved network description. */
export interface MlpSpec {
  /** Layer widths, input first, output last: `[784, 256, 10]` has one hidden layer of 256. */
  readonly layers: readonly number[];
  /** One activation per hidden layer (`layers.length − 2` entries), canonical (see `canonicalActivation`). */
  readonly activations: readonly Activation[];
  /** Output head, canonical. */
  readonly head: Head;
  /**
   * One normalisation per hidden layer (null: none), canonical (`'layer'`, `'batch'`, or with parameters);
   * present only when some hidden layer has one, so that a plain network's spec is what it always was.
   */
  readonly norms?: readonly (Norm | null)[];
  /** One dropout probability per hidden layer (0: none); present only when some hidden layer has dropout. */
  readonly dropouts?: readonly number[];
}

/**
 * One hidden layer described whole, in `layers`: its width and, each optional, its activation (else the
 * network's `activation`), a normalisation and a dropout probability. It equals, in PyTorch,
 * `nn.Linear(fanIn, units), [nn.LayerNorm(units) | nn.BatchNorm1d(units)], activation, [nn.Dropout(p)]`.
 */
export interface HiddenLayer {
  /** Width: an integer in 1..2²⁰. */
  readonly units: number;
  /** Its activation; default: the network's `activation` for this layer. */
  readonly activation?: Activation;
  /**
   * `'layer'` (LayerNorm over the layer's units, per row), `'batch'` (BatchNorm1d over the batch, per
   * unit, with running statistics for evaluation), or with parameters: `{ name: 'layer', eps }`,
   * `{ name: 'batch', eps, momentum }`; null: none. Between the linear map and the activation.
   * Default: the network's `norm` for this layer.
   */
  readonly norm?: Norm | null;
  /** Dropout probability in [0, 1) after the activation (inverted dropout; none in evaluation). Default: the network's `dropout`. */
  readonly dropout?: number;
}

/** How a network is described by the user. */
export interface NetworkOptions {
  /**
   * Input width, hidden layers, output width, e.g. `[784, 256, 10]`. A hidden layer is its width or
   * an object `{ units, activation?, norm?, dropout? }` (HiddenLayer):
   * `[784, { units: 256, norm: 'layer', dropout: 0.2 }, 10]`.
   */
  layers: readonly (number | HiddenLayer)[];
  /**
   * Hidden activation: one for all hidden layers, or one per hidden layer. A name (`'relu'`, `'tanh'`,
   * `'sigmoid'`, `'linear'`, `'leakyRelu'`, `'gelu'`) or a name with parameters,
   * `{ name: 'leakyRelu', slope: 0.2 }`. Default `'relu'`.
   */
  activation?: Activation | readonly Activation[];
  /**
   * Normalisation of the hidden layers: one for all (`'layer'`, `'batch'`, or with parameters), or one
   * per hidden layer (null: none). Default none. A hidden layer's own `norm` takes precedence.
   */
  norm?: Norm | null | readonly (Norm | null)[];
  /**
   * Dropout after the hidden layers' activations: one probability in [0, 1) for all, or one per hidden
   * layer (0: none). Default 0. A hidden layer's own `dropout` takes precedence.
   */
  dropout?: number | readonly number[];
  /**
   * Output head and loss. Default `'softmax'` (cross-entropy over classes); `'sigmoid'` for binary or
   * multi-label outputs; `'mse'` or `'huber'` (`{ name: 'huber', delta }`) for regression.
   */
  head?: Head;
}

/** The largest width we accept for one layer (a sanity bound, far above any MLP we train). */
export const MAX_WIDTH = 1 << 20;

const HIDDEN_KEYS = ['units', 'activation', 'norm', 'dropout'];

/**
 * One value per hidden layer of a network option given once for all or as an array: `what` names one
 * value, `one` says what a single value may be (for errors), `resolve` checks each value.
 */
function perHidden<T>(
  given: unknown,
  hidden: number,
  arg: string,
  what: string,
  one: string,
  isOne: (v: unknown) => boolean,
  resolve: (v: unknown, arg: string) => T,
): T[] {
  if (Array.isArray(given)) {
    if (given.length !== hidden) fail(arg, given, `one ${what} or ${hidden} (one per hidden layer)`);
    return Array.from(given, (v, i) => resolve(v, `${arg}[${i}]`));
  }
  if (!isOne(given)) fail(arg, given, `${one}, or one per hidden layer`);
  return Array<T>(hidden).fill(resolve(given, arg));
}

/** Checks a network description and returns it resolved. Errors name the option, the value and what was expected. */
export function resolveSpec(options: NetworkOptions, arg = 'options'): MlpSpec {
  if (typeof options !== 'object' || options === null) fail(arg, options, 'an object { layers, activation?, head? }');
  const { layers } = options;
  if (!Array.isArray(layers) || layers.length < 2) {
    fail(`${arg}.layers`, layers, 'an array of at least two layer widths, input first, e.g. [784, 256, 10]');
  }
  // spread first, so that a hole is checked (as undefined), not skipped
  const given = [...layers] as unknown[];
  const hidden = given.length - 2;
  const objects: (Record<string, unknown> | undefined)[] = [];
  const widths = given.map((w, i) => {
    const isHidden = i > 0 && i < given.length - 1;
    if (isHidden && typeof w === 'object' && w !== null && !Array.isArray(w)) {
      checkKeys(`${arg}.layers[${i}]`, w, HIDDEN_KEYS);
      objects[i - 1] = w as Record<string, unknown>;
      const { units } = w as HiddenLayer;
      if (!Number.isInteger(units) || units < 1 || units > MAX_WIDTH) {
        fail(`${arg}.layers[${i}].units`, units, `an integer in 1..${MAX_WIDTH}`);
      }
      return units;
    }
    if (!Number.isInteger(w) || (w as number) < 1 || (w as number) > MAX_WIDTH) {
      fail(
        `${arg}.layers[${i}]`,
        w,
        isHidden
          ? `an integer in 1..${MAX_WIDTH}, or { units, activation?, norm?, dropout? }`
          : `an integer in 1..${MAX_WIDTH}`,
      );
    }
    return w as number;
  });
  // A hidden layer's own setting, else the network's (`null` is "none" for a norm, not "the default").
  const own = (i: number, key: string): unknown => objects[i]?.[key];
  const isAct = (a: unknown) => typeof a === 'string' || (typeof a === 'object' && a !== null);
  const act = options.activation === undefined ? 'relu' : options.activation; // null is not "the default"
  const activations = perHidden(
    act,
    hidden,
    `${arg}.activation`,
    'activation',
    `one of ${ACTIVATIONS.join(', ')}`,
    isAct,
    (a, at) => canonicalActivation(resolveActivation(a, at)),
  ).map((a, i) =>
    own(i, 'activation') === undefined
      ? a
      : canonicalActivation(resolveActivation(own(i, 'activation'), `${arg}.layers[${i + 1}].activation`)),
  );
  const norms = perHidden(
    options.norm === undefined ? null : options.norm,
    hidden,
    `${arg}.norm`,
    'norm',
    `one of ${NORMS.map((n) => `'${n}'`).join(', ')}, or null`,
    isNormLike,
    (n, at) => (n === null ? null : canonicalNorm(resolveNorm(n, at))),
  ).map((n, i) => {
    const o = own(i, 'norm');
    if (o === undefined) return n;
    return o === null ? null : canonicalNorm(resolveNorm(o, `${arg}.layers[${i + 1}].norm`));
  });
  const isP = (p: unknown) => typeof p === 'number';
  const dropouts = perHidden(
    options.dropout === undefined ? 0 : options.dropout,
    hidden,
    `${arg}.dropout`,
    'probability',
    'a probability in [0, 1)',
    isP,
    (p, at) => resolveDropout(p, at),
  ).map((p, i) =>
    own(i, 'dropout') === undefined ? p : resolveDropout(own(i, 'dropout'), `${arg}.layers[${i + 1}].dropout`),
  );
  const headGiven = options.head === undefined ? 'softmax' : options.head;
  if (typeof headGiven !== 'string' && (typeof headGiven !== 'object' || headGiven === null)) {
    fail(`${arg}.head`, headGiven, `one of ${HEADS.join(', ')}`);
  }
  const head = resolveHeadOutputs(headGiven, `${arg}.head`);
  const C = widths[widths.length - 1];
  if (C < head.outputs.minOutputs) {
    fail(
      `${arg}.layers[${widths.length - 1}]`,
      C,
      head.outputs.name === 'softmax'
        ? "at least 2 classes for the softmax head (use head: 'sigmoid' for one output)"
        : `at least ${head.outputs.minOutputs} outputs for the ${head.outputs.name} head`,
    );
  }
  return {
    layers: widths,
    activations,
    head: canonicalHead(head),
    ...(norms.some((n) => n !== null) && { norms }),
    ...(dropouts.some((p) => p > 0) && { dropouts }),
  };
}

/** A resolved spec as options again (`resolveSpec(specOptions(spec))` is `spec`): for files and checkpoints. */
export function specOptions(spec: MlpSpec): NetworkOptions {
  return {
    layers: spec.layers,
    activation: spec.activations,
    head: spec.head,
    ...(spec.norms && { norm: spec.norms }),
    ...(spec.dropouts && { dropout: spec.dropouts }),
  };
}

/**
 * A spec as files hold it, JSON `{ layers, activations, head, norms?, dropouts? }` (the keys of
 * MlpSpec): what `specOptions` gives, as text.
 */
export function specJson(spec: MlpSpec): string {
  const { layers, activations, head, norms, dropouts } = spec;
  return JSON.stringify({ layers, activations, head, ...(norms && { norms }), ...(dropouts && { dropouts }) });
}

/**
 * A spec read from a file's JSON (see specJson), checked like createMLP's options, `arg` naming it in
 * errors. Files hold it canonical: `layers` are widths (a hidden layer's norm and dropout are in
 * `norms` and `dropouts`).
 */
export function specFromJson(json: Readonly<Record<string, unknown>>, arg: string): MlpSpec {
  if (Array.isArray(json.layers)) {
    json.layers.forEach((w: unknown, i) => {
      if (typeof w !== 'number') fail(`${arg}.layers[${i}]`, w, `a width: an integer in 1..${MAX_WIDTH}`);
    });
  }
  return resolveSpec(
    {
      layers: json.layers as number[],
      activation: json.activations as Activation[],
      head: json.head as Head,
      ...(json.norms !== undefined && { norm: json.norms as Norm[] }),
      ...(json.dropouts !== undefined && { dropout: json.dropouts as number[] }),
    },
    arg,
  );
}

/** The normalisation of hidden layer `l` (0-based), or null. */
export function normOf(spec: MlpSpec, l: number): Norm | null {
  return spec.norms?.[l] ?? null;
}

/** The dropout probability after hidden layer `l` (0-based), 0 for none. */
export function dropoutOf(spec: MlpSpec, l: number): number {
  return spec.dropouts?.[l] ?? 0;
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
