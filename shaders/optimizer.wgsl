// optimizer: one in-place update of a flat parameter buffer, PyTorch semantics (torch.optim.SGD / Adam,
// dampening 0, no Nesterov). L2 weight decay is added to the gradient of the first decay_count elements
// (the weights; the biases follow them in the flat layout and are not decayed):
//   g' = g + wd·w   for i < decay_count,   g' = g otherwise
//   sgd       w −= lr·g'
//   momentum  v = μ·v + g';   w −= lr·v                                                      (MOMENTUM)
//   adam      m = β1·m + (1 − β1)·g';   v = β2·v + (1 − β2)·g'²                            (ADAM)
//             w −= lr·(m·k1) / (sqrt(v·k2) + eps),   k1 = 1/(1 − β1^t), k2 = 1/(1 − β2^t), t = step ≥ 1
//   k1 and k2 are computed on the CPU in double precision and passed as f32.
// W: [N] f32 read-write   G: [N] f32 read   V (momentum) or M, V (adam): [N] f32 read-write
// The arrays hold elements E: f32, or vec4f when VEC4 (N a multiple of 4: a quarter of the invocations
// and loads; SwiftShader runs an elementwise kernel about 3× faster so). count is in E's.
// dispatch: ceil(count / (WG·PER)) workgroups, numbered wid.x + wid.y·nwg.x (a 2D grid past the
//           per-dimension limit: N can exceed 65535·256); invocation t updates E's t, t + T, …, t + (PER−1)·T,
//           T the number of invocations dispatched.

struct Dims { count: u32, decay_count: u32, pad0: u32, pad1: u32 }
struct Hyper {
  lr: f32,
  momentum: f32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  weight_decay: f32,
  k1: f32,  // 1 / (1 − β1^t)
  k2: f32,  // 1 / (1 − β2^t)
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<uniform> hyper: Hyper;
#if ${VEC4}
alias E = vec4f;
alias Mask = vec4<bool>;
#else
alias E = f32;
alias Mask = bool;
#endif

@group(0) @binding(2) var<storage, read_write> W: array<E>;
@group(0) @binding(3) var<storage, read> G: array<E>;
#if ${MOMENTUM}
@group(0) @binding(4) var<storage, read_write> velocity: array<E>;
#endif
#if ${ADAM}
@group(0) @binding(4) var<storage, read_write> m1: array<E>;  // first moment m
@group(0) @binding(5) var<storage, read_write> m2: array<E>;  // second moment v
#endif

override WG: u32 = 256;
override PER: u32 = 4;  // E's per invocation

// Which elements of E i get weight decay: those with an element index < decay_count.
fn decays(i: u32) -> Mask {
#if ${VEC4}
  return vec4u(4u * i) + vec4u(0u, 1u, 2u, 3u) < vec4u(dims.decay_count);
#else
  return i < dims.decay_count;
#endif
}

// Updates E i of W and the optimizer state.
fn update(i: u32) {
  if (i >= dims.count) { return; }
  let w = W[i];
  let g = select(G[i], G[i] + hyper.weight_decay * w, decays(i));
#if ${MOMENTUM}
  let v = hyper.momentum * velocity[i] + g;
  velocity[i] = v;
  W[i] = w - hyper.lr * v;
#elif ${ADAM}
  let m = hyper.beta1 * m1[i] + (1.0 - hyper.beta1) * g;
  let v = hyper.beta2 * m2[i] + (1.0 - hyper.beta2) * g * g;
  m1[i] = m;
  m2[i] = v;
  W[i] = w - hyper.lr * (m * hyper.k1) / (sqrt(v * hyper.k2) + hyper.eps);
#else
  W[i] = w - hyper.lr * g;
#endif
}

@compute @workgroup_size(WG)
fn optimizer(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let threads = nwg.x * nwg.y * WG;
  for (var j = 0u; j < PER; j++) {
    update(gid.x + gid.y * nwg.x * WG + j * threads);
  }
}
