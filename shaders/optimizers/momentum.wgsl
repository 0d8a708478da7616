// momentum: v = μ·v + g';   w −= lr·v,   g' = g + wd·w on the weights (L2)
//   torch.optim.SGD(momentum=μ, dampening=0, nesterov=False); v starts at 0, so the first step is v = g'.
// An optimizer module: appended to optimizer.wgsl (src/kernels/optimizer.ts), which calls update(i).

struct Hyper { lr: f32, momentum: f32, weight_decay: f32 }

@group(0) @binding(1) var<uniform> hyper: Hyper;
@group(0) @binding(4) var<storage, read_write> velocity: array<E>;

fn update(i: u32) {
  let w = W[i];
  let v = hyper.momentum * velocity[i] + l2_grad(i, w);
  velocity[i] = v;
  W[i] = w - hyper.lr * v;
}
