// batch_norm_train: BatchNorm1d in training, forward and backward, one invocation per column c
//                                                                                    (docs/maths.md §10)
//   batch_norm_forward   μ_c = (1/B)·Σ_r x[r,c],  σ²_c = (1/B)·Σ_r (x[r,c] − μ_c)²  (two passes), ρ_c = 1/√(σ²_c + ε)
//                        y = γ_c·(x − μ_c)·ρ_c + β_c,   out = act(y)   (y kept when act' reads it: PRE)
//                        stats: μ_c and ρ_c for the backward
//                        running_mean ← (1 − m)·running_mean + m·μ_c
//                        running_var  ← (1 − m)·running_var + m·σ²_c·B/(B − 1)   (B > 1; PyTorch's convention)
//   batch_norm_backward  dγ_c = Σ_r dy·x̂,  dβ_c = Σ_r dy
//                        dx[r,c] = (γ_c·ρ_c/B)·(B·dy[r,c] − dβ_c − x̂[r,c]·dγ_c)·act'(V[r,c])   (the layer below's act')
// 1 − m, m and B/(B − 1) come from the CPU in double precision (as the optimizers' 1 − β).
// X, out, pre, dY, V, dX: [B, C] f32   γ, β, running statistics, dγ, dβ: [C]   stats: [2, C] (μ, then ρ)
// dispatch: ceil(C / WG) workgroups, invocation c = gid.x serial over the rows (sums in blocks of 64 rows).

struct Dims { rows: u32, cols: u32, eps: f32, momentum: f32, keep: f32, unbiased: f32, update_var: u32, pad0: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> gamma: array<f32>;
@group(0) @binding(3) var<storage, read> beta: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
#if ${PRE}
@group(0) @binding(5) var<storage, read_write> pre: array<f32>;
#endif
@group(0) @binding(6) var<storage, read_write> stats: array<f32>;
@group(0) @binding(7) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(8) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(9) var<storage, read> dY: array<f32>;
@group(0) @binding(10) var<storage, read> V: array<f32>;
@group(0) @binding(11) var<storage, read_write> dX: array<f32>;
@group(0) @binding(12) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(13) var<storage, read_write> dbeta: array<f32>;

override WG: u32 = 64;

// Σ_r f(r) over the column, in blocks of 64 rows (rounding ~(64 + B/64)·2⁻²⁴ rather than B·2⁻²⁴).
fn column_mean(c: u32) -> f32 {
  var acc = 0.0;
  for (var r0 = 0u; r0 < dims.rows; r0 += 64u) {
    var block = 0.0;
    for (var r = r0; r < min(r0 + 64u, dims.rows); r++) { block += X[r * dims.cols + c]; }
    acc += block;
  }
  return acc / f32(dims.rows);
}

fn column_variance(c: u32, mean: f32) -> f32 {
  var acc = 0.0;
  for (var r0 = 0u; r0 < dims.rows; r0 += 64u) {
    var block = 0.0;
    for (var r = r0; r < min(r0 + 64u, dims.rows); r++) { let d = X[r * dims.cols + c] - mean; block += d * d; }
    acc += block;
  }
  return acc / f32(dims.rows);
}

@compute @workgroup_size(WG)
fn batch_norm_forward(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let C = dims.cols;
  if (c >= C) { return; }
  let mean = column_mean(c);
  let variance = column_variance(c, mean);
  let rho = 1.0 / sqrt(variance + dims.eps);
  for (var r = 0u; r < dims.rows; r++) {
    let i = r * C + c;
    let y = gamma[c] * ((X[i] - mean) * rho) + beta[c];
#if ${PRE}
    pre[i] = y;
#endif
    out[i] = activate(y);
  }
  stats[c] = mean;
  stats[C + c] = rho;
  running_mean[c] = dims.keep * running_mean[c] + dims.momentum * mean;
  if (dims.update_var != 0u) {
    running_var[c] = dims.keep * running_var[c] + dims.momentum * (variance * dims.unbiased);
  }
}

@compute @workgroup_size(WG)
fn batch_norm_backward(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  let C = dims.cols;
  if (c >= C) { return; }
  let mean = stats[c];
  let rho = stats[C + c];
  var sum_dy = 0.0;
  var sum_dy_xh = 0.0;
  for (var r0 = 0u; r0 < dims.rows; r0 += 64u) {
    var b1 = 0.0;
    var b2 = 0.0;
    for (var r = r0; r < min(r0 + 64u, dims.rows); r++) {
      let i = r * C + c;
      b1 += dY[i];
      b2 += dY[i] * ((X[i] - mean) * rho);
    }
    sum_dy += b1;
    sum_dy_xh += b2;
  }
  dgamma[c] = sum_dy_xh;
  dbeta[c] = sum_dy;
  let B = f32(dims.rows);
  let k = gamma[c] * rho / B;
  for (var r = 0u; r < dims.rows; r++) {
    let i = r * C + c;
    dX[i] = k * (B * dY[i] - sum_dy - ((X[i] - mean) * rho) * sum_dy_xh) * activation_grad(V[i]);
  }
}
