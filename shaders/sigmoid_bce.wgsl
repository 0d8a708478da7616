// sigmoid_bce: sigmoid + binary cross-entropy per output, summed over the row's outputs            (seed 003)
//   loss[r]    = Σ_c −[Y log σ(Z) + (1 − Y) log(1 − σ(Z))] = Σ_c max(Z, 0) − Z·Y + log1p(exp(−|Z|))
//   dZ         = (σ(Z) − Y) / B
//   correct[r] = #{c : (Z[r,c] > 0) = (Y[r,c] > 0.5)}            (σ(z) > 0.5 ⇔ z > 0)
//   exp(−|z|) ∈ (0, 1] never overflows, so loss and dZ are finite for any finite Z (±1e30 included);
//   σ is evaluated in the stable form 1/(1 + e) for z ≥ 0 and e/(1 + e) below, e = exp(−|z|).
//   WEIGHTED: loss[r] and dZ[r,:] times the row's weight w_r (loss_weights.wgsl); correct[r] unweighted.
// Z: [R, C] f32 read   Y: [R, C] f32 read, in [0, 1]   dZ: [R, C] f32 write
// loss: [R] f32 write (per row, not divided by B)   correct: [R] u32 write   weights: [R] f32 read (WEIGHTED)
// Two entry points, the same per-element terms; they differ only in who sums them:
//   sigmoid_bce      one workgroup of WG invocations per row r = wid.x + wid.y·nwg.x (a 2D grid when R
//                    exceeds the per-dimension limit); invocations stride over the columns, then
//                    tree-reduce the row's loss and count in workgroup memory (rows.wgsl). For wide rows on GPUs.
//   sigmoid_bce_row  one invocation per row r = gid.x + gid.y·nwg.x·WG, ceil(R / WG) workgroups (2D
//                    likewise), serial over the row: no workgroup memory, no barriers. For narrow rows
//                    and CPU implementations (SwiftShader).

struct Dims { rows: u32, cols: u32, batch_size: f32, pad: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dZ: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> correct: array<u32>;

override WG: u32 = 64;  // a power of two

#include "rows.wgsl"
#include "loss_weights.wgsl"

// log(1 + x) for x in [0, 1], accurate to a few ulp relative (WGSL has no log1p, and log(1 + x)
// loses all of a small x). log(1 + x) = 2·atanh(t) with t = x/(2 + x) ∈ [0, 1/3]:
//   2·(t + t³/3 + t⁵/5 + ...); with t² ≤ 1/9 the terms after t¹⁷/17 are below 2⁻²⁴ of the sum.
fn log1p_unit(x: f32) -> f32 {
  let t = x / (2.0 + x);
  let t2 = t * t;
  var p = 1.0 / 17.0;
  p = fma(p, t2, 1.0 / 15.0);
  p = fma(p, t2, 1.0 / 13.0);
  p = fma(p, t2, 1.0 / 11.0);
  p = fma(p, t2, 1.0 / 9.0);
  p = fma(p, t2, 1.0 / 7.0);
  p = fma(p, t2, 1.0 / 5.0);
  p = fma(p, t2, 1.0 / 3.0);
  p = fma(p, t2, 1.0);
  return 2.0 * t * p;
}

struct Term { loss: f32, correct: u32 }

// Element i = r·C + c of row r: writes dZ[i] and returns its (unweighted) loss and whether it is right.
fn bce_term(r: u32, i: u32) -> Term {
  let z = Z[i];
  let y = Y[i];
  let e = exp(-abs(z));
  let sigma = select(e / (1.0 + e), 1.0 / (1.0 + e), z >= 0.0);
  dZ[i] = weighted(r, sigma - y) / dims.batch_size;
  return Term(max(z, 0.0) - z * y + log1p_unit(e), select(0u, 1u, (z > 0.0) == (y > 0.5)));
}

@compute @workgroup_size(WG)
fn sigmoid_bce(
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= dims.rows) { return; }  // the tail of a 2D grid (uniform per workgroup)
  let row = r * dims.cols;

  var row_loss = 0.0;
  var row_correct = 0u;
  for (var c = tid; c < dims.cols; c += WG) {
    let t = bce_term(r, row + c);
    row_loss += t.loss;
    row_correct += t.correct;
  }
  let total_loss = reduce_sum(tid, row_loss);
  let total_correct = reduce_sum_u32(tid, row_correct);
  if (tid == 0u) {
    loss[r] = weighted(r, total_loss);
    correct[r] = total_correct;
  }
}

@compute @workgroup_size(WG)
fn sigmoid_bce_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= dims.rows) { return; }
  let row = r * dims.cols;
  var row_loss = 0.0;
  var row_correct = 0u;
  for (var c = 0u; c < dims.cols; c++) {
    let t = bce_term(r, row + c);
    row_loss += t.loss;
    row_correct += t.correct;
  }
  loss[r] = weighted(r, row_loss);
  correct[r] = row_correct;
}
