// relu: a = max(x, 0);   act'(x) = [a > 0], read from the output a (0 at exactly 0: seed 004's s > 0)   (seed 001)
// An activation module: appended to matmul.wgsl and activation.wgsl (src/kernels/act.ts), which call
// activate() in their forward epilogue and activation_grad() in their backward mask.

fn activate(x: f32) -> f32 {
  return max(x, 0.0);
}

fn activation_grad(a: f32) -> f32 {
  return select(0.0, 1.0, a > 0.0);
}
