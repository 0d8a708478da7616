// optimizer: one in-place update of a flat parameter buffer by an optimizer's update module
// (shaders/optimizers/*.wgsl, appended by src/kernels/optimizer.ts; PyTorch semantics, see each module).
// The module declares `struct Hyper` (with at least weight_decay, the L2 coefficient), binds it as
// `hyper` at @binding(1), binds its state arrays from @binding(4) on, and defines `fn update(i: u32)`,
// which updates element i of W and the state. The driver gives it:
//   l2_grad(i, w) = G[i] + weight_decay·w for the first decay_count elements (the weights; the biases
//   follow them in the flat layout and are not decayed), G[i] otherwise.
// W: [N] f32 read-write   G: [N] f32 read   state: [N] f32 read-write each
// The arrays hold elements E: f32, or vec4f when VEC4 (N a multiple of 4: a quarter of the invocations
// and loads; SwiftShader runs an elementwise kernel about 3× faster so). count is in E's.
// dispatch: ceil(count / (WG·PER)) workgroups, numbered wid.x + wid.y·nwg.x (a 2D grid past the
//           per-dimension limit: N can exceed 65535·256); invocation t updates E's t, t + T, …, t + (PER−1)·T,
//           T the number of invocations dispatched.

struct Dims { count: u32, decay_count: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
#if ${VEC4}
alias E = vec4f;
alias Mask = vec4<bool>;
#else
alias E = f32;
alias Mask = bool;
#endif

@group(0) @binding(2) var<storage, read_write> W: array<E>;
@group(0) @binding(3) var<storage, read> G: array<E>;

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

// The gradient of E i with L2 weight decay added where it applies: g' = g + wd·w.
fn l2_grad(i: u32, w: E) -> E {
  return select(G[i], G[i] + hyper.weight_decay * w, decays(i));
}

@compute @workgroup_size(WG)
fn optimizer(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let threads = nwg.x * nwg.y * WG;
  for (var j = 0u; j < PER; j++) {
    let i = gid.x + gid.y * nwg.x * WG + j * threads;
    if (i < dims.count) { update(i); }
  }
}
