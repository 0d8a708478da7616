// gelu (tanh approximation), torch.nn.GELU(approximate='tanh'):
//   a = ½·x·(1 + tanh(u)),   u = √(2/π)·(x + 0.044715·x³)
//   act'(x) = ½·(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²),   t = tanh(u)
// The derivative needs the INPUT x (GELU is not monotonic, so its output does not determine x): the
// forward pass keeps Z for it and the backward mask passes Z here (gradFrom 'input').
// The clamp keeps tanh's exponentials finite (|u| ≥ 15 gives t = ±1 in f32 already).
// An activation module: appended to matmul.wgsl and activation.wgsl (src/kernels/act.ts).

const GELU_K: f32 = 0.7978845608028654;  // √(2/π)
const GELU_C: f32 = 0.044715;

fn gelu_tanh(x: f32) -> f32 {
  return tanh(clamp(GELU_K * (x + GELU_C * x * x * x), -15.0, 15.0));
}

fn activate(x: f32) -> f32 {
  return 0.5 * x * (1.0 + gelu_tanh(x));
}

fn activation_grad(x: f32) -> f32 {
  let t = gelu_tanh(x);
  let s = 1.0 - t * t;
  // Saturated (|u| ≳ 9, |x| ≳ 5): the second term is exactly 0, and x² could overflow to give 0·∞.
  if (s == 0.0) { return 0.5 * (1.0 + t); }
  return 0.5 * (1.0 + t) + 0.5 * x * s * GELU_K * (1.0 + 3.0 * GELU_C * x * x);
}
