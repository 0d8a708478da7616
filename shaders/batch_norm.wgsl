// batch_norm_eval: y[r,c] = γ_c·(x[r,c] − m_c)·1/√(v_c + ε) + β_c,   out = act(y)         (docs/maths.md §10)
//   m, v: the running mean and variance (torch.nn.BatchNorm1d in eval mode); act the block's activation
//   (its module appended, src/kernels/act.ts). Training: shaders/batch_norm_train.wgsl.
// X, out: [R, C] f32   γ, β, running_mean, running_var: [C]
// dispatch: ceil(R·C / WG) workgroups, numbered wid.x + wid.y·nwg.x (2D past the per-dimension limit);
//           one invocation per element.

struct Dims { rows: u32, cols: u32, eps: f32, pad0: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read> running_mean: array<f32>;
@group(0) @binding(5) var<storage, read> running_var: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn batch_norm_eval(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= dims.rows * dims.cols) { return; }
  let c = i % dims.cols;
  let rho = 1.0 / sqrt(running_var[c] + dims.eps);
  out[i] = activate(gamma[c] * ((X[i] - running_mean[c]) * rho) + beta[c]);
}
