// metrics: folds one step's per-row results into running statistics on the GPU (nothing is read back)
//   total      = Σ_r loss[r]             (f32 tree sum over this step's rows)
//   loss_sum  += total                   (Kahan-compensated across steps: loss_comp holds the lost low part)
//   correct   += Σ_r correct[r]          count += R          steps += 1
//   last_loss  = total / B               (this step's batch-mean loss)
//   non_finite += [total is NaN or ±Inf] (tested on the bits, immune to fast-math assumptions)
//   A non-finite step is still added, so loss_sum turns NaN/Inf too: a diverged run never looks healthy.
// loss: [R] f32 read (softmax_xent / sigmoid_bce lossRows)   correct: [R] u32 read (correctRows)
// stats: the Stats struct below, 32 bytes, read-write (zero it with resetStats before an epoch)
// dispatch: metrics         one workgroup of WG invocations striding over the rows and tree-reducing in
//                             workgroup memory; invocation 0 then updates stats (GPUs).
//           metrics_direct  one workgroup of one invocation, no barriers (CPU implementations:
//                             SwiftShader, where a barrier is a coroutine switch); it sums the rows in
//                             blocks of 64, then the block sums, for a rounding error like the tree's.
//           One dispatch per step: steps in one submit run in order.

struct Dims { rows: u32, batch_size: f32, pad0: u32, pad1: u32 }
struct Stats {
  loss_sum: f32,
  loss_comp: f32,   // Kahan compensation: the true sum is loss_sum − loss_comp
  correct: u32,
  count: u32,       // rows seen
  last_loss: f32,
  steps: u32,
  non_finite: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> loss: array<f32>;
@group(0) @binding(2) var<storage, read> correct: array<u32>;
@group(0) @binding(3) var<storage, read_write> stats: Stats;

override WG: u32 = 256;  // a power of two

#include "rows.wgsl"

fn is_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u;
}

// Folds this step's loss total and correct count into stats.
fn update(total: f32, correct_rows: u32) {
  let y = total - stats.loss_comp;
  let t = stats.loss_sum + y;
  stats.loss_comp = (t - stats.loss_sum) - y;
  stats.loss_sum = t;
  stats.correct += correct_rows;
  stats.count += dims.rows;
  stats.last_loss = total / dims.batch_size;
  stats.steps += 1u;
  if (!is_finite(total)) { stats.non_finite += 1u; }
}

@compute @workgroup_size(WG)
fn metrics(@builtin(local_invocation_index) tid: u32) {
  var l = 0.0;
  var k = 0u;
  for (var r = tid; r < dims.rows; r += WG) {
    l += loss[r];
    k += correct[r];
  }
  let total_loss = reduce_sum(tid, l);
  let total_correct = reduce_sum_u32(tid, k);
  if (tid == 0u) { update(total_loss, total_correct); }
}

@compute @workgroup_size(1)
fn metrics_direct() {
  var l = 0.0;
  var k = 0u;
  for (var r0 = 0u; r0 < dims.rows; r0 += 64u) {
    var block = 0.0;
    for (var r = r0; r < min(r0 + 64u, dims.rows); r++) {
      block += loss[r];
      k += correct[r];
    }
    l += block;
  }
  update(l, k);
}
