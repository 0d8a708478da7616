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

/** Hidden-layer activation. `linear` is the identity. */
export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'linear';

/**
 * Output head and its loss.
 * - `softmax`: softmax + cross-entropy, `L = mean_r(logsumexp(Z_r) − Σ_c Y_rc Z_rc)` (seeds 000, 001, 002, 004).
 * - `sigmoid`: sigmoid + binary cross-entropy per output, summed over outputs, mean over rows (seed 003).
 * Both give the output gradient `∂L/∂Z = (ŷ − y)/B`.
 */
export type Head = 'softmax' | 'sigmoid';

export const ACTIVATIONS: readonly Activation[] = ['relu', 'sigmoid', 'tanh', 'linear'];
export const HEADS: readonly Head[] = ['softmax', 'sigmoid'];

/** A fully resolved network description. */
export interface MlpSpec {
  /** Layer widths, input first, output last: `[784, 256, 10]` has one hidden layer of 256. */
  readonly layers: readonly number[];
  /** One activation per hidden layer (`layers.length − 2` entries). */
  readonly activations: readonly Activation[];
  /** Output head. */
  readonly head: Head;
}

/**
 * Targets for a batch.
 * - `labels`: one class index per row (softmax head only), `0 ≤ label < C`.
 * - `dense`: a `[B, C]` matrix: one-hot or soft targets (softmax, rows summing to 1),
 *   or per-output probabilities in [0, 1] (sigmoid head).
 */
export type Targets =
  | { readonly kind: 'labels'; readonly labels: Uint32Array }
  | { readonly kind: 'dense'; readonly values: Float32Array | Float64Array };

/** Number of dense layers (weight matrices). */
export function layerCount(spec: MlpSpec): number {
  return spec.layers.length - 1;
}

/** Activation applied after dense layer `l` (0-based); the last layer has none (the head follows). */
export function activationOf(spec: MlpSpec, l: number): Activation {
  return l < spec.activations.length ? spec.activations[l] : 'linear';
}

/** Shapes of layer `l`'s parameters: W is [fanIn, fanOut], b is [fanOut]. */
export function layerShape(spec: MlpSpec, l: number): { fanIn: number; fanOut: number } {
  return { fanIn: spec.layers[l], fanOut: spec.layers[l + 1] };
}
