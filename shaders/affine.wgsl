// affine: X[r,c] ← X[r,c]·scale[c] + shift[c], per column, in place (docs/maths.md §11)
//   A network's preprocessing on the GPU (src/table/preprocessing.ts): its inputs standardised before
//   the first layer (scale = 1/std, shift = −mean/std; min-max alike), and a regression head's outputs
//   unscaled after the last in prediction plans (scale = std, shift = mean). One multiply and one add
//   in f32 (an implementation may fuse them: within one rounding of the Float64 twin, affineRef).
// X: [R, C] f32 read_write   coef: [2, C] f32 read (scale, then shift)
// dispatch: ceil(R·C / WG) workgroups, numbered wid.x + wid.y·nwg.x (a 2D grid past the per-dimension
//           limit); one invocation per element.

struct Dims { count: u32, cols: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> coef: array<f32>;
@group(0) @binding(2) var<storage, read_write> X: array<f32>;

override WG: u32 = 256;

@compute @workgroup_size(WG)
fn affine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= dims.count) { return; }
  let c = i % dims.cols;
  X[i] = X[i] * coef[c] + coef[dims.cols + c];
}
