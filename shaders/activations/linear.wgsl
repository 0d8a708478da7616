// linear: a = x;   act'(x) = 1   (the identity: a layer with no activation, or the output layer)
// An activation module: appended to matmul.wgsl and activation.wgsl (src/kernels/act.ts).

fn activate(x: f32) -> f32 {
  return x;
}

fn activation_grad(a: f32) -> f32 {
  return 1.0;
}
