// layer_norm: y[r,c] = γ_c·(x[r,c] − μ_r)·ρ_r + β_c,   out = act(y)                      (docs/maths.md §10)
//   μ_r = (1/C)·Σ_c x[r,c],   ρ_r = 1/√((1/C)·Σ_c (x[r,c] − μ_r)² + ε)   (torch.nn.LayerNorm, biased variance)
//   The variance is taken about the mean (two passes), not as E[x²] − μ², which cancels badly in f32.
//   act is the block's activation (its module appended, src/kernels/act.ts). Training keeps y when the
//   activation's derivative reads its input (PRE) and μ_r, ρ_r for the backward (SAVE: stats [R, 2]).
// X, out, pre: [R, C] f32   γ, β: [C]   stats: [R, 2] (μ, ρ)
// Two entry points, the same formula:
//   layer_norm      one workgroup of WG invocations per row r = wid.x + wid.y·nwg.x; invocations stride
//                   over the columns and tree-reduce in workgroup memory (rows.wgsl). Wide rows, GPUs.
//   layer_norm_row  one invocation per row r = gid.x + gid.y·nwg.x·WG, serial over the row: no barriers.
//                   Narrow rows and CPU implementations (SwiftShader).

struct Dims { rows: u32, cols: u32, eps: f32, pad0: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
#if ${PRE}
@group(0) @binding(5) var<storage, read_write> pre: array<f32>;
#endif
#if ${SAVE}
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
#endif

override WG: u32 = 64;  // a power of two

#include "rows.wgsl"

// Writes element i = row + c: y = γ_c·(x − μ)·ρ + β_c, out = act(y) (and y kept).
fn normalize(i: u32, c: u32, mean: f32, rho: f32) {
  let y = gamma[c] * ((X[i] - mean) * rho) + beta[c];
#if ${PRE}
  pre[i] = y;
#endif
  out[i] = activate(y);
}

fn save(r: u32, mean: f32, rho: f32) {
#if ${SAVE}
  stats[2u * r] = mean;
  stats[2u * r + 1u] = rho;
#endif
}

@compute @workgroup_size(WG)
fn layer_norm(
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= dims.rows) { return; }  // the tail of a 2D grid (uniform per workgroup)
  let C = dims.cols;
  let row = r * C;
  var sum = 0.0;
  for (var c = tid; c < C; c += WG) { sum += X[row + c]; }
  let mean = reduce_sum(tid, sum) / f32(C);
  var sq = 0.0;
  for (var c = tid; c < C; c += WG) { let d = X[row + c] - mean; sq += d * d; }
  let rho = 1.0 / sqrt(reduce_sum(tid, sq) / f32(C) + dims.eps);
  for (var c = tid; c < C; c += WG) { normalize(row + c, c, mean, rho); }
  if (tid == 0u) { save(r, mean, rho); }
}

@compute @workgroup_size(WG)
fn layer_norm_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= dims.rows) { return; }
  let C = dims.cols;
  let row = r * C;
  var sum = 0.0;
  for (var c = 0u; c < C; c++) { sum += X[row + c]; }
  let mean = sum / f32(C);
  var sq = 0.0;
  for (var c = 0u; c < C; c++) { let d = X[row + c] - mean; sq += d * d; }
  let rho = 1.0 / sqrt(sq / f32(C) + dims.eps);
  for (var c = 0u; c < C; c++) { normalize(row + c, c, mean, rho); }
  save(r, mean, rho);
}
