// sigmoid: a = 1 / (1 + exp(−x));   act'(x) = a·(1 − a), read from the output a                   (seed 001)
// The clamp keeps exp() finite (σ(±88) is 1 and 0 to f32 precision already).
// An activation module: appended to matmul.wgsl and activation.wgsl (src/kernels/act.ts).

fn activate(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(x, -88.0, 88.0)));
}

fn activation_grad(a: f32) -> f32 {
  return a * (1.0 - a);
}
