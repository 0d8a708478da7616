// tanh: a = tanh(x);   act'(x) = 1 − a², read from the output a                                    (seed 001)
// The clamp keeps tanh's exponentials finite; tanh(±15) is ±1 in f32 already.
// An activation module: appended to matmul.wgsl and activation.wgsl (src/kernels/act.ts).

fn activate(x: f32) -> f32 {
  return tanh(clamp(x, -15.0, 15.0));
}

fn activation_grad(a: f32) -> f32 {
  return 1.0 - a * a;
}
