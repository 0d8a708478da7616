// bias_grad: db[c] = Σ_r G[r,c], the gradient of a bias broadcast over the batch          (seeds 001, 002, 003)
// G: [R, C] f32 read   db: [C] f32 write
// dispatch: ceil(C / WG_X) workgroups of WG_X × WG_Y invocations. Invocation (x, y) of workgroup w
//           sums column c = w·WG_X + x over rows y, y + WG_Y, ... (consecutive x read consecutive
//           addresses), then the WG_Y partial sums of each column are tree-reduced in workgroup memory.
//           The wrapper picks WG_X ≈ C (at most 32) so that narrow outputs still use 256 invocations.
//           (GPUs.)
//   bias_grad_direct (CPU implementations: SwiftShader, where a barrier is a coroutine switch):
//           ceil(C / WG_X) workgroups of WG_X × 1 invocations; invocation c sums column c over all rows
//           with no workgroup memory and no barriers, in blocks of 64 rows (the block sums added in
//           turn keep the rounding error ~(64 + R/64)·2⁻²⁴, like the tree's, rather than R·2⁻²⁴).

struct Dims { rows: u32, cols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> db: array<f32>;

override WG_X: u32 = 16;  // columns per workgroup
override WG_Y: u32 = 16;  // row lanes per column, a power of two

var<workgroup> partial: array<f32, WG_X * WG_Y>;  // [WG_Y][WG_X]

@compute @workgroup_size(WG_X, WG_Y)
fn bias_grad(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let c = wid.x * WG_X + lid.x;
  var acc = 0.0;
  if (c < dims.cols) {
    for (var r = lid.y; r < dims.rows; r += WG_Y) {
      acc += G[r * dims.cols + c];
    }
  }
  partial[lid.y * WG_X + lid.x] = acc;
  workgroupBarrier();
  for (var s = WG_Y / 2u; s > 0u; s >>= 1u) {
    if (lid.y < s) {
      partial[lid.y * WG_X + lid.x] += partial[(lid.y + s) * WG_X + lid.x];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && c < dims.cols) {
    db[c] = partial[lid.x];
  }
}

@compute @workgroup_size(WG_X)
fn bias_grad_direct(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= dims.cols) { return; }
  var acc = 0.0;
  for (var r0 = 0u; r0 < dims.rows; r0 += 64u) {
    var block = 0.0;
    for (var r = r0; r < min(r0 + 64u, dims.rows); r++) { block += G[r * dims.cols + c]; }
    acc += block;
  }
  db[c] = acc;
}
