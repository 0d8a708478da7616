// rmsprop: with g' = g + weight_decay·w on the weights (L2),
//   square_avg = α·square_avg + (1 − α)·g'²
//   grad_avg   = α·grad_avg + (1 − α)·g'                      (centered only; else it stays 0)
//   avg        = sqrt(max(square_avg − grad_avg², 0)) + eps    (sqrt(square_avg) + eps when not centered;
//                the max only catches a rounding below 0, where torch would give NaN)
//   momentum_buffer = μ·momentum_buffer + g'/avg;   w −= lr·momentum_buffer
//   torch.optim.RMSprop(lr, alpha, eps, weight_decay, momentum, centered). With μ = 0 the buffer is g'/avg
//   exactly (0·b = 0), torch's w −= lr·g'/avg; without centered, grad_avg stays 0 and avg is sqrt(square_avg) + eps.
// 1 − α is computed on the CPU in double precision and passed as f32 (as Adam's 1 − β: docs/maths.md §4).
// An optimizer module: appended to optimizer.wgsl (src/kernels/optimizer.ts), which calls update(i).

struct Hyper {
  lr: f32,
  alpha: f32,
  one_minus_alpha: f32,
  eps: f32,
  momentum: f32,
  weight_decay: f32,
  centered: f32,  // 1 or 0
}

@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(4) var<storage, read_write> square_avg: array<E>;
@group(0) @binding(5) var<storage, read_write> momentum_buffer: array<E>;
@group(0) @binding(6) var<storage, read_write> grad_avg: array<E>;

fn update(i: u32) {
  let w = W[i];
  let g = l2_grad(i, w);
  let s = hyper.alpha * square_avg[i] + hyper.one_minus_alpha * g * g;
  square_avg[i] = s;
  var a = grad_avg[i];
  if (hyper.centered != 0.0) {
    a = hyper.alpha * a + hyper.one_minus_alpha * g;
    grad_avg[i] = a;
  }
  let avg = sqrt(max(s - a * a, E(0.0))) + hyper.eps;
  let b = hyper.momentum * momentum_buffer[i] + g / avg;
  momentum_buffer[i] = b;
  W[i] = w - hyper.lr * b;
}
