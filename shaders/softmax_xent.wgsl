// softmax_xent: loss[r] = logsumexp(Z[r,:]) − Σ_c Y[r,c]·Z[r,c];   dZ = (softmax(Z) − Y) / B      (seeds 000, 002, 004)
//   With m = max_c Z[r,c] and s = Σ_c exp(Z[r,c] − m) ≥ 1 (logsumexp = m + log s):
//     loss[r] = log s − Σ_c Y[r,c]·(Z[r,c] − m) + m·(1 − Σ_c Y[r,c])      (last term 0 when Y sums to 1)
//   Every exp() argument is ≤ 0 and log(softmax) is never taken, so loss and dZ are finite for any
//   finite Z (±1e30 included). The gradient (softmax − Y)/B is seed 000's result, B the batch mean.
//   correct[r] = [argmax_c Z[r,c] = label_r]   (dense Y: = argmax_c Y[r,c]); the first maximum wins ties.
//   WEIGHTED: loss[r] and dZ[r,:] times the row's weight w_r (loss_weights.wgsl); correct[r] unweighted.
// Z: [R, C] f32 read      labels: [R] u32 read (LABELS)  or  Y: [R, C] f32 read (DENSE: one-hot or soft)
// dZ: [R, C] f32 write    loss: [R] f32 write (per row, not divided by B)    correct: [R] u32 write
// weights: [R] f32 read (WEIGHTED)
// A label ≥ C cannot be checked on the GPU: it gives loss NaN (the metrics count the step as
// non-finite), correct 0 and dZ = softmax(Z)/B.
// Two entry points, the same formulas in the same three passes (1. max and its first index, 2. sums,
// 3. outputs); they differ only in who sums (summation order):
//   softmax_xent      one workgroup of WG invocations per row r = wid.x + wid.y·nwg.x (a 2D grid when R
//                     exceeds the per-dimension limit); invocations stride over the columns, then
//                     tree-reduce the max (with its first index) and the sums in workgroup memory
//                     (rows.wgsl).
//                     For wide rows on GPUs.
//   softmax_xent_row  one invocation per row r = gid.x + gid.y·nwg.x·WG, ceil(R / WG) workgroups (2D
//                     likewise), serial over the row's columns: no workgroup memory, no barriers. For
//                     narrow rows (C = 10 leaves 54 of 64 invocations idle in the workgroup form), and
//                     for CPU implementations (SwiftShader), where a barrier is a coroutine switch.

struct Dims { rows: u32, cols: u32, batch_size: f32, pad: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
#if ${LABELS}
@group(0) @binding(2) var<storage, read> labels: array<u32>;
#else
@group(0) @binding(2) var<storage, read> Y: array<f32>;
#endif
@group(0) @binding(3) var<storage, read_write> dZ: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> correct: array<u32>;

override WG: u32 = 64;  // a power of two

#include "rows.wgsl"
#include "loss_weights.wgsl"

// A quiet NaN, made at run time (a constant NaN is a WGSL compile error).
fn quiet_nan(bits: u32) -> f32 {
  return bitcast<f32>(bits);
}

// What pass 1 and 2 found for a row: m = max_c Z, its first index, s = Σ_c exp(Z − m); dense targets
// also the target row's first argmax, Σ_c Y and Σ_{c: Y≠0} Y·(Z − m) (zero with labels).
struct RowStats { m: f32, z_arg: u32, s: f32, y_arg: u32, y_sum: f32, y_dot: f32 }

// loss[r] and correct[r] (pass 3, once per row).
fn write_loss(r: u32, st: RowStats) {
#if ${LABELS}
  let label = labels[r];
  if (label < dims.cols) {
    loss[r] = weighted(r, log(st.s) - (Z[r * dims.cols + label] - st.m));
  } else {
    loss[r] = quiet_nan(0x7fc00000u);
  }
  correct[r] = select(0u, 1u, st.z_arg == label);
#else
  loss[r] = weighted(r, log(st.s) - st.y_dot + st.m * (1.0 - st.y_sum));
  correct[r] = select(0u, 1u, st.z_arg == st.y_arg);
#endif
}

// dZ[r,c] = w_r·(exp(Z[r,c] − m) / s − Y[r,c]) / B (pass 3, once per element; w_r = 1 unweighted).
fn write_grad(r: u32, c: u32, st: RowStats) {
  let i = r * dims.cols + c;
  let p = exp(Z[i] - st.m) / st.s;
#if ${LABELS}
  let y = select(0.0, 1.0, c == labels[r]);
#else
  let y = Y[i];
#endif
  dZ[i] = weighted(r, p - y) / dims.batch_size;
}

@compute @workgroup_size(WG)
fn softmax_xent(
  @builtin(local_invocation_index) tid: u32,
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
) {
  let r = wid.x + wid.y * nwg.x;
  if (r >= dims.rows) { return; }  // the tail of a 2D grid (uniform per workgroup)
  let C = dims.cols;
  let row = r * C;

  // 1. m = max_c Z[r,c] and its first index; dense: also the target row's argmax.
  //    Each invocation starts from column 0 (a real element, so it never wins wrongly) and keeps the
  //    first strictly larger value over its columns tid, tid + WG, ...
  var zm = Z[row];
  var zi = 0u;
#if ${DENSE}
  var ym = Y[row];
  var yi = 0u;
#endif
  for (var c = tid; c < C; c += WG) {
    let z = Z[row + c];
    if (z > zm) { zm = z; zi = c; }
#if ${DENSE}
    let y = Y[row + c];
    if (y > ym) { ym = y; yi = c; }
#endif
  }
  let z_best = reduce_argmax(tid, zm, zi);
  let m = z_best.value;
  let z_arg = z_best.index;
  var y_arg = 0u;
#if ${DENSE}
  y_arg = reduce_argmax(tid, ym, yi).index;
#endif

  // 2. s = Σ_c exp(Z[r,c] − m); dense: also Σ_c Y[r,c] and Σ_{c: Y≠0} Y[r,c]·(Z[r,c] − m)
  //    (terms with Y = 0 are skipped so that 0·(−huge) never enters).
  var sum_exp = 0.0;
  var y_sum = 0.0;
  var y_dot = 0.0;
  for (var c = tid; c < C; c += WG) {
    let z = Z[row + c];
    sum_exp += exp(z - m);
#if ${DENSE}
    let y = Y[row + c];
    y_sum += y;
    if (y != 0.0) { y_dot += y * (z - m); }
#endif
  }
  let s = reduce_sum(tid, sum_exp);
#if ${DENSE}
  y_sum = reduce_sum(tid, y_sum);
  y_dot = reduce_sum(tid, y_dot);
#endif
  let st = RowStats(m, z_arg, s, y_arg, y_sum, y_dot);

  // 3. loss and correct (one invocation), dZ (all).
  if (tid == 0u) { write_loss(r, st); }
  for (var c = tid; c < C; c += WG) { write_grad(r, c, st); }
}

@compute @workgroup_size(WG)
fn softmax_xent_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= dims.rows) { return; }
  let C = dims.cols;
  let row = r * C;

  // 1. m = max_c Z[r,c] and its first index (strictly larger replaces); dense: the target's argmax.
  var m = Z[row];
  var z_arg = 0u;
  var y_arg = 0u;
#if ${DENSE}
  var y_max = Y[row];
#endif
  for (var c = 1u; c < C; c++) {
    let z = Z[row + c];
    if (z > m) { m = z; z_arg = c; }
#if ${DENSE}
    let y = Y[row + c];
    if (y > y_max) { y_max = y; y_arg = c; }
#endif
  }

  // 2. s = Σ_c exp(Z[r,c] − m); dense: Σ_c Y[r,c] and Σ_{c: Y≠0} Y[r,c]·(Z[r,c] − m).
  var s = 0.0;
  var y_sum = 0.0;
  var y_dot = 0.0;
  for (var c = 0u; c < C; c++) {
    let z = Z[row + c];
    s += exp(z - m);
#if ${DENSE}
    let y = Y[row + c];
    y_sum += y;
    if (y != 0.0) { y_dot += y * (z - m); }
#endif
  }
  let st = RowStats(m, z_arg, s, y_arg, y_sum, y_dot);

  // 3. outputs.
  write_loss(r, st);
  for (var c = 0u; c < C; c++) { write_grad(r, c, st); }
}
