// adam (and adamw): with t = the update's number, 1-based,
//   w ← w·decay on the weights        decay = 1 − lr·wd for AdamW (decoupled), 1 for Adam
//   g' = g + weight_decay·w            weight_decay: Adam's L2 coefficient; 0 for AdamW
//   m = β1·m + (1 − β1)·g';   v = β2·v + (1 − β2)·g'²
//   w −= lr·(m·k1) / (sqrt(v·k2) + eps),   k1 = 1/(1 − β1^t), k2 = 1/(1 − β2^t)
//   torch.optim.Adam(weight_decay=wd) and torch.optim.AdamW(weight_decay=wd), amsgrad=False.
// 1 − β1, 1 − β2, k1, k2 and 1 − lr·wd are computed on the CPU in double precision and passed as f32:
// 1 − β computed here from an f32 β would be off by 1.4e-3 relative for β2 = 0.99999 (1.3e-5 for 0.999).
// An optimizer module: appended to optimizer.wgsl (src/kernels/optimizer.ts), which calls update(i).

struct Hyper {
  lr: f32,
  beta1: f32,
  beta2: f32,
  one_minus_beta1: f32,
  one_minus_beta2: f32,
  eps: f32,
  weight_decay: f32,
  decay: f32,
  k1: f32,  // 1 / (1 − β1^t)
  k2: f32,  // 1 / (1 − β2^t)
}

@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(4) var<storage, read_write> m: array<E>;  // first moment
@group(0) @binding(5) var<storage, read_write> v: array<E>;  // second moment

fn update(i: u32) {
  let w0 = W[i];
  let g = l2_grad(i, w0);
  let w = select(w0, w0 * hyper.decay, decays(i));
  let mi = hyper.beta1 * m[i] + hyper.one_minus_beta1 * g;
  let vi = hyper.beta2 * v[i] + hyper.one_minus_beta2 * g * g;
  m[i] = mi;
  v[i] = vi;
  W[i] = w - hyper.lr * (mi * hyper.k1) / (sqrt(vi * hyper.k2) + hyper.eps);
}
