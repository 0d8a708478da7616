// rows: the workgroup reductions of the row kernels' one-workgroup-per-row entry points (softmax,
// softmax_xent, argmax, sigmoid_bce) and of metrics. Included with `#include "rows.wgsl"`; the
// including shader declares `override WG: u32`, a power of two: the workgroup's invocations.
// Each function takes every invocation's value, tree-reduces it in workgroup memory (strides WG/2,
// WG/4, …, 1) and returns the result to every invocation. They contain barriers: call them from
// uniform control flow, every invocation of the workgroup.

var<workgroup> red_f32: array<f32, WG>;
var<workgroup> red_u32: array<u32, WG>;

// A value and where it is: a row's maximum and its column.
struct ArgMax { value: f32, index: u32 }

// (w, j) beats (v, i): larger, or equal with a lower index (the first maximum wins ties).
fn beats(w: f32, j: u32, v: f32, i: u32) -> bool {
  return w > v || (w == v && j < i);
}

// The largest v over the workgroup with its index; equal values go to the lowest index.
fn reduce_argmax(tid: u32, v: f32, i: u32) -> ArgMax {
  red_f32[tid] = v;
  red_u32[tid] = i;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s && beats(red_f32[tid + s], red_u32[tid + s], red_f32[tid], red_u32[tid])) {
      red_f32[tid] = red_f32[tid + s];
      red_u32[tid] = red_u32[tid + s];
    }
    workgroupBarrier();
  }
  let best = ArgMax(red_f32[0], red_u32[0]);
  workgroupBarrier();  // everyone has read the result before the arrays are reused
  return best;
}

// Σ v over the workgroup (tree order).
fn reduce_sum(tid: u32, v: f32) -> f32 {
  red_f32[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red_f32[tid] += red_f32[tid + s]; }
    workgroupBarrier();
  }
  let total = red_f32[0];
  workgroupBarrier();
  return total;
}

// Σ v over the workgroup, u32.
fn reduce_sum_u32(tid: u32, v: u32) -> u32 {
  red_u32[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red_u32[tid] += red_u32[tid + s]; }
    workgroupBarrier();
  }
  let total = red_u32[0];
  workgroupBarrier();
  return total;
}
