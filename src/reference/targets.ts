/**
 * Targets for a batch, as the loss heads and their Float64 twins take them.
 * - `labels`: one class index per row (the softmax head), `0 ≤ label < C`.
 * - `dense`: a `[B, C]` matrix: one-hot or soft targets (softmax, rows summing to 1), per-output
 *   probabilities in [0, 1] (sigmoid), or values (regression heads).
 */
export type Targets =
  | { readonly kind: 'labels'; readonly labels: Uint32Array }
  | { readonly kind: 'dense'; readonly values: Float32Array | Float64Array };

/** What a batch's targets are: class indices or dense rows. */
export type TargetKind = Targets['kind'];
