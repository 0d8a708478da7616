// regression: the linear-output heads, mean squared error and Huber, forward and backward in one dispatch
//   d = Z − Y;   mse:   ℓ(d) = d²,                                   ℓ'(d) = 2d
//                huber: ℓ(d) = ½d² for |d| ≤ δ, δ·(|d| − ½δ) beyond,   ℓ'(d) = d for |d| ≤ δ, δ·sign(d) beyond
//   loss[r] = (1/C)·Σ_c ℓ(d[r,c])      dZ = ℓ'(d)/(B·C)
//   The row's loss is the mean over its C outputs, so the batch loss Σ_r loss[r]/B is the mean over all
//   B·C elements: torch.nn.MSELoss() and torch.nn.HuberLoss(delta=δ), reduction 'mean'.
//   correct[r] = 0: a regression has no "right"; evaluate() reports MSE and MAE instead.
//   WEIGHTED: loss[r] and dZ[r,:] times the row's weight w_r (loss_weights.wgsl, folded into the scale).
// Z, Y: [R, C] f32 read    dZ: [R, C] f32 write    loss: [R] f32 write    correct: [R] u32 write
// weights: [R] f32 read (WEIGHTED)
// dispatch: one invocation per row r = gid.x + gid.y·nwg.x·WG, ceil(R / WG) workgroups (a 2D grid past the
//           per-dimension limit), serial over the row's outputs.

struct Dims { rows: u32, cols: u32, batch_size: f32, delta: f32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> Z: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<f32>;
@group(0) @binding(3) var<storage, read_write> dZ: array<f32>;
@group(0) @binding(4) var<storage, read_write> loss: array<f32>;
@group(0) @binding(5) var<storage, read_write> correct: array<u32>;

override WG: u32 = 64;
override HUBER: bool = false;

#include "loss_weights.wgsl"

// Element i: writes dZ[i] and returns ℓ(d).
fn term(i: u32, scale: f32) -> f32 {
  let d = Z[i] - Y[i];
  if (HUBER) {
    let a = abs(d);
    if (a <= dims.delta) {
      dZ[i] = d * scale;
      return 0.5 * d * d;
    }
    dZ[i] = dims.delta * sign(d) * scale;
    return dims.delta * (a - 0.5 * dims.delta);
  }
  dZ[i] = 2.0 * d * scale;
  return d * d;
}

@compute @workgroup_size(WG)
fn regression(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= dims.rows) { return; }
  let C = dims.cols;
  let scale = weighted(r, 1.0 / (dims.batch_size * f32(C)));
  var sum = 0.0;
  for (var c = 0u; c < C; c++) { sum += term(r * C + c, scale); }
  loss[r] = weighted(r, sum / f32(C));
  correct[r] = 0u;
}
