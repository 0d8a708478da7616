// argmax: out[r] = the first c with Z[r,c] = max_k Z[r,k]   (ties go to the lowest column)
//   The prediction of the softmax head; softmax is monotonic, so the argmax of Z is that of P.
// Z: [R, C] f32 read   out: [R] u32 write
// Two entry points, the same result:
//   argmax      one workgroup of WG invocations per row r = wid.x + wid.y·nwg.x (a 2D grid when R exceeds
//               the per-dimension limit); each invocation keeps the first strictly larger value over its
//               columns tid, tid + WG, ...; the tree reduction (rows.wgsl) prefers the lower index on
//               equal values.
//               For wide rows on GPUs.
//   argmax_row  one invocation per row r = gid.x + gid.y·nwg.x·WG, ceil(R / WG) workgroups (2D likewise),
//               scanning the row for the first strictly larger value: no workgroup memory, no barriers.
//               For narrow rows and CPU implementations (SwiftShader).

struct Dims { rows: u32, cols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;

override WG: u32 = 64;  // a power of two

#include "rows.wgsl"

@compute @workgroup_size(WG)
fn argmax(
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= dims.rows) { return; }  // the tail of a 2D grid (uniform per workgroup)
  let row = r * dims.cols;

  // Start from column 0, a real element: an invocation without columns never wins wrongly.
  var v = Z[row];
  var i = 0u;
  for (var c = tid; c < dims.cols; c += WG) {
    let z = Z[row + c];
    if (z > v) { v = z; i = c; }
  }
  let best = reduce_argmax(tid, v, i);
  if (tid == 0u) { out[r] = best.index; }
}

@compute @workgroup_size(WG)
fn argmax_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= dims.rows) { return; }
  let row = r * dims.cols;
  var v = Z[row];
  var i = 0u;
  for (var c = 1u; c < dims.cols; c++) {
    let z = Z[row + c];
    if (z > v) { v = z; i = c; }
  }
  out[r] = i;
}
