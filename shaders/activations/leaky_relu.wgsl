// leakyRelu: a = x for x > 0, SLOPE·x otherwise;   act'(x) = 1 for a > 0, SLOPE otherwise, read from the
// output a (with SLOPE ≥ 0, a > 0 exactly when x > 0; at x = 0 the slope is SLOPE, as torch's
// leaky_relu_backward takes it). torch.nn.LeakyReLU(negative_slope = SLOPE).
// An activation module: appended to matmul.wgsl and activation.wgsl (src/kernels/act.ts).

override SLOPE: f32 = 0.01;

fn activate(x: f32) -> f32 {
  return select(SLOPE * x, x, x > 0.0);
}

fn activation_grad(a: f32) -> f32 {
  return select(SLOPE, 1.0, a > 0.0);
}
