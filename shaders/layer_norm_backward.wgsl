// layer_norm_backward: the gradients of y = γ·x̂ + β, x̂[r,c] = (x[r,c] − μ_r)·ρ_r   (docs/maths.md §10)
//   layer_norm_backward     dx[r,c] = ρ_r·(g[r,c] − (1/C)·Σ_k g[r,k] − x̂[r,c]·(1/C)·Σ_k g[r,k]·x̂[r,k])·act'(V[r,c]),
//                           g = dy·γ; act' of the layer below (its module appended), V its A or Z
//   layer_norm_param_grad   dγ_c = Σ_r dy[r,c]·x̂[r,c],   dβ_c = Σ_r dy[r,c]
// x̂ is recomputed from x and the forward's statistics (stats [R, 2]: μ_r, ρ_r), not stored.
// X, dY, V, dX: [R, C] f32   γ: [C]   dγ, dβ: [C] written
// dispatch: layer_norm_backward: one workgroup of WG invocations per row r = wid.x + wid.y·nwg.x,
//           tree-reduced (rows.wgsl; GPUs); layer_norm_backward_row: one invocation per row, serial
//           (CPU implementations). layer_norm_param_grad: one invocation per column c = gid.x, serial
//           over the rows in blocks of 64 (as bias_grad_direct), ceil(C / WG) workgroups.

struct Dims { rows: u32, cols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> stats: array<f32>;
@group(0) @binding(4) var<storage, read> dY: array<f32>;
@group(0) @binding(5) var<storage, read> V: array<f32>;
@group(0) @binding(6) var<storage, read_write> dX: array<f32>;
@group(0) @binding(7) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbeta: array<f32>;

override WG: u32 = 64;  // a power of two

#include "rows.wgsl"

fn x_hat(i: u32, r: u32) -> f32 {
  return (X[i] - stats[2u * r]) * stats[2u * r + 1u];
}

@compute @workgroup_size(WG)
fn layer_norm_backward(
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= dims.rows) { return; }  // uniform per workgroup
  let C = dims.cols;
  let row = r * C;
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = tid; c < C; c += WG) {
    let g = dY[row + c] * gamma[c];
    s1 += g;
    s2 += g * x_hat(row + c, r);
  }
  let m1 = reduce_sum(tid, s1) / f32(C);
  let m2 = reduce_sum(tid, s2) / f32(C);
  let rho = stats[2u * r + 1u];
  for (var c = tid; c < C; c += WG) {
    let i = row + c;
    dX[i] = rho * (dY[i] * gamma[c] - m1 - x_hat(i, r) * m2) * activation_grad(V[i]);
  }
}

@compute @workgroup_size(WG)
fn layer_norm_backward_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= dims.rows) { return; }
  let C = dims.cols;
  let row = r * C;
  var s1 = 0.0;
  var s2 = 0.0;
  for (var c = 0u; c < C; c++) {
    let g = dY[row + c] * gamma[c];
    s1 += g;
    s2 += g * x_hat(row + c, r);
  }
  let m1 = s1 / f32(C);
  let m2 = s2 / f32(C);
  let rho = stats[2u * r + 1u];
  for (var c = 0u; c < C; c++) {
    let i = row + c;
    dX[i] = rho * (dY[i] * gamma[c] - m1 - x_hat(i, r) * m2) * activation_grad(V[i]);
  }
}

@compute @workgroup_size(WG)
fn layer_norm_param_grad(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let C = dims.cols;
  if (c >= C) { return; }
  var dg = 0.0;
  var db = 0.0;
  for (var r0 = 0u; r0 < dims.rows; r0 += 64u) {
    var bg = 0.0;
    var bb = 0.0;
    for (var r = r0; r < min(r0 + 64u, dims.rows); r++) {
      let i = r * C + c;
      bg += dY[i] * x_hat(i, r);
      bb += dY[i];
    }
    dg += bg;
    db += bb;
  }
  dgamma[c] = dg;
  dbeta[c] = db;
}
