// activation: A = act(Z) elementwise (activation_forward), and dZ = dA ⊙ act'(V) (activation_backward)   (seed 001)
//   act and act' are an activation module's activate() and activation_grad() (shaders/activations/,
//   appended by src/kernels/activation.ts), the same functions as matmul.wgsl's fused epilogues, so both
//   paths give the same A. V is the activation's output A, or its input Z, as the module declares.
// forward:  input Z: [N] f32 read                              output A: [N] f32 write
// backward: input V: [N] f32 read (A or Z)  grad dA: [N] f32 read   output dZ: [N] f32 write
// dispatch: ceil(N / WG) workgroups, numbered wid.x + wid.y·nwg.x (a 2D grid past the per-dimension
//           limit); one invocation per element.

struct Dims { count: u32, pad0: u32, pad1: u32, pad2: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;  // backward only
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

override WG: u32 = 256;

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
