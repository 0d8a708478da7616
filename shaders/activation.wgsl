// activation: A = act(Z) elementwise (activation_forward), and dZ = dA ⊙ act'(A) (activation_backward)   (seed 001)
//   relu:    A = max(Z, 0)                      act'(A) = [A > 0]   (0 at exactly 0: seed 004's s > 0)
//   sigmoid: A = 1 / (1 + exp(−clamp(Z, ±88)))   act'(A) = A·(1 − A)
//   tanh:    A = tanh(clamp(Z, ±15))             act'(A) = 1 − A²
//   linear:  A = Z                              act'(A) = 1
//   The clamps are matmul.wgsl's (its fused ACT epilogue), so both paths give the same A: exp stays
//   finite, and tanh(±15) is ±1 in f32 already. act' is read from the activation OUTPUT A.
// forward:  input Z: [N] f32 read                               output A: [N] f32 write
// backward: input A: [N] f32 read (activation output)  grad dA: [N] f32 read   output dZ: [N] f32 write
// dispatch: ceil(N / WG) workgroups, numbered wid.x + wid.y·nwg.x (a 2D grid past the per-dimension
//           limit); one invocation per element.

struct Dims { count: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;  // backward only
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

override WG: u32 = 256;
// 0 linear, 1 relu, 2 sigmoid, 3 tanh (the codes of matmul.wgsl's ACT)
override ACT: u32 = 0;

// activate() and activation_grad(): act.wgsl, appended by src/kernels/activation.ts.

@compute @workgroup_size(WG)
fn activation_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= dims.count) { return; }
  output[i] = activate(input[i]);
}

@compute @workgroup_size(WG)
fn activation_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= dims.count) { return; }
  output[i] = grad[i] * activation_grad(input[i]);
}
