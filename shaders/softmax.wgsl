// softmax: P[r,c] = exp(Z[r,c] − m_r) / Σ_k exp(Z[r,k] − m_r),  m_r = max_k Z[r,k]         (seeds 000, 001, 004)
//   Subtracting the row maximum leaves P unchanged and keeps every exp() in (0, 1]: no overflow, and the
//   sum is ≥ 1. Used for prediction; training uses the fused softmax_xent.
// Z: [R, C] f32 read   P: [R, C] f32 write
// Two entry points, the same formula:
//   softmax      one workgroup of WG invocations per row r = wid.x + wid.y·nwg.x (a 2D grid when R exceeds
//                the per-dimension limit); invocations stride over the columns, then tree-reduce the max
//                and the sum in workgroup memory (rows.wgsl). For wide rows on GPUs.
//   softmax_row  one invocation per row r = gid.x + gid.y·nwg.x·WG, ceil(R / WG) workgroups (2D likewise),
//                serial over the row: no workgroup memory, no barriers. For narrow rows and CPU
//                implementations (SwiftShader).

struct Dims { rows: u32, cols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read_write> P: array<f32>;

override WG: u32 = 64;  // a power of two

#include "rows.wgsl"

@compute @workgroup_size(WG)
fn softmax(
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= dims.rows) { return; }  // the tail of a 2D grid (uniform per workgroup)
  let C = dims.cols;
  let row = r * C;

  // m = max_c Z[r,c]; every invocation starts from Z[r,0], a real element of the row.
  var m = Z[row];
  for (var c = tid; c < C; c += WG) { m = max(m, Z[row + c]); }
  let row_max = reduce_argmax(tid, m, 0u).value;

  // s = Σ_c exp(Z[r,c] − m)
  var sum = 0.0;
  for (var c = tid; c < C; c += WG) { sum += exp(Z[row + c] - row_max); }
  let total = reduce_sum(tid, sum);

  for (var c = tid; c < C; c += WG) { P[row + c] = exp(Z[row + c] - row_max) / total; }
}

@compute @workgroup_size(WG)
fn softmax_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= dims.rows) { return; }
  let row = r * dims.cols;
  var m = Z[row];
  for (var c = 1u; c < dims.cols; c++) { m = max(m, Z[row + c]); }
  var total = 0.0;
  for (var c = 0u; c < dims.cols; c++) { total += exp(Z[row + c] - m); }
  for (var c = 0u; c < dims.cols; c++) { P[row + c] = exp(Z[row + c] - m) / total; }
}
