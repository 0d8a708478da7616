// sgd: w −= lr·g',   g' = g + wd·w on the weights (L2)                  torch.optim.SGD(momentum=0)
// An optimizer module: appended to optimizer.wgsl (src/kernels/optimizer.ts), which calls update(i).

struct Hyper { lr: f32, weight_decay: f32 }

@group(0) @binding(1) var<uniform> hyper: Hyper;

fn update(i: u32) {
  let w = W[i];
  W[i] = w - hyper.lr * l2_grad(i, w);
}
