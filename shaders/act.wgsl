// The hidden activations and their derivatives (seed 001: ReLU's step, σ(1−σ), 1−tanh²), shared by
// matmul.wgsl (the fused bias + activation epilogue and the act' mask) and activation.wgsl. Not a
// shader on its own: the kernel wrappers append it (`withActivations`, src/kernels/act.ts), and
// the shader it is appended to declares `override ACT: u32` (0 linear, 1 relu, 2 sigmoid, 3 tanh).
//
// The clamps keep exp() finite and make both paths give the same A. activation_grad takes the
// activation's output y, not its input; ReLU'(0) = 0 (seed 004's s > 0).

fn activate(x: f32) -> f32 {
  switch ACT {
    case 1u: { return max(x, 0.0); }
    case 2u: { return 1.0 / (1.0 + exp(-clamp(x, -88.0, 88.0))); }
    case 3u: { return tanh(clamp(x, -15.0, 15.0)); }
    default: { return x; }
  }
}

fn activation_grad(y: f32) -> f32 {
  switch ACT {
    case 1u: { return select(0.0, 1.0, y > 0.0); }
    case 2u: { return y * (1.0 - y); }
    case 3u: { return 1.0 - y * y; }
    default: { return 1.0; }
  }
}
