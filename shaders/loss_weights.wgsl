// loss_weights: the per-row weights of the loss heads (softmax_xent, sigmoid_bce, regression) for
// imbalanced data, under the WEIGHTED flag. Included with `#include "loss_weights.wgsl"`; the including
// shader declares `@binding(0..5)` and leaves `@binding(6)` to the weights.
//   WEIGHTED:   loss[r] = w_r·ℓ_r      dZ[r,:] = w_r·∂ℓ_r/∂Z[r,:] / B
//               so the batch loss Σ_r loss[r] / B is (1/B)·Σ_r w_r·ℓ_r: Keras' "sum over batch size"
//               (B counts every row, a row of weight 0 too: it adds loss 0 and dZ 0)
//   otherwise:  weighted(r, v) = v, and the kernel is the unweighted one, operation for operation
// weights: [R] f32 read (the batch's rows, gathered with the inputs), finite, ≥ 0

#if ${WEIGHTED}
@group(0) @binding(6) var<storage, read> weights: array<f32>;
#endif

// w_r·v (WEIGHTED), else v itself.
fn weighted(r: u32, v: f32) -> f32 {
#if ${WEIGHTED}
  return weights[r] * v;
#else
  return v;
#endif
}
