// dropout: inverted dropout whose mask is a hash of (element, step, seed, block)     (docs/maths.md §10)
//   keep[i] = (pcg4d(i, step, seed, block).x >> 8) ≥ threshold,   threshold = round(p·2²⁴),   s = 1/(1 − p)
//   dropout_forward   out[i] = keep[i] ? x[i]·s : 0
//   dropout_backward  dx[i]  = (keep[i] ? dout[i]·s : 0)·act'(V[i])   act' of the layer below (its module
//                     appended, src/kernels/act.ts); V its output A, or its input Z, as it declares
//   dropout_advance   step += 1: one invocation, after a training step's backward (the next step's masks)
// pcg4d (Jarzynski and Olano, JCGT 2020) is stateless 32-bit integer arithmetic: src/reference/dropout.ts
// computes the same masks bit for bit. Nothing of the mask is stored: the backward draws it again.
// x, out, dout, dx, V: [N] f32 (N = B·cols, row-major)   random: u32 [seed, step], the model's stream
// BACKWARD: the backward entry point is compiled (with the module it needs); off for the others.
// dispatch: ceil(N / WG) workgroups, numbered wid.x + wid.y·nwg.x (a 2D grid past the per-dimension
//           limit); one invocation per element. dropout_advance: one workgroup.

struct Dims { count: u32, block: u32, threshold: u32, scale: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> input: array<f32>;   // x (forward) or dout (backward)
@group(0) @binding(2) var<storage, read> values: array<f32>;  // V of the layer below (backward)
@group(0) @binding(3) var<storage, read_write> output: array<f32>;
@group(0) @binding(4) var<storage, read> random: array<u32>;
@group(0) @binding(5) var<storage, read_write> random_state: array<u32>;  // dropout_advance

override WG: u32 = 256;

// pcg4d's first output: the four words mixed twice (the second round needs only x).
fn pcg4d(a: vec4u) -> u32 {
  var v = a * 1664525u + 1013904223u;
  v.x += v.y * v.w;
  v.y += v.z * v.x;
  v.z += v.x * v.y;
  v.w += v.y * v.z;
  v ^= v >> vec4u(16u);
  return v.x + v.y * v.w;
}

// Whether element i is kept at this step.
fn keeps(i: u32) -> bool {
  return (pcg4d(vec4u(i, random[1], random[0], dims.block)) >> 8u) >= dims.threshold;
}

@compute @workgroup_size(WG)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= dims.count) { return; }
  output[i] = select(0.0, input[i] * dims.scale, keeps(i));
}

#if ${BACKWARD}
@compute @workgroup_size(WG)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= dims.count) { return; }
  output[i] = select(0.0, input[i] * dims.scale, keeps(i)) * activation_grad(values[i]);
}
#endif

@compute @workgroup_size(1)
fn dropout_advance() {
  random_state[1] += 1u;
}
