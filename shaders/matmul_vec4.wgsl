// matmul_vec4: C[M,N] = op(A)·op(B) with matmul.wgsl's epilogues, reading and writing vec4f     (seeds 001, 002, 004)
//   op(A) is M×K: A stored [M,K], or [K,M] read transposed (TRANSPOSE_A)
//   op(B) is K×N: B stored [K,N], or [N,K] read transposed (TRANSPOSE_B)
//   forward Z = A·W + b, A' = act(Z) (BIAS, PRE); backward dW = Aᵀ·G, dA = (G·Wᵀ) ⊙ act'(V) (MASK), as in
//   matmul.wgsl, whose header explains the forms; activate()/activation_grad() are appended the same way.
// For aligned shapes only: N % 4 = 0, and the stored rows of A and B a multiple of 4 long (K % 4 = 0 for
// A [M,K] and B [N,K]; M % 4 = 0 for A [K,M]), so that every vec4 lies wholly inside or outside the
// matrix; bindings 16-byte aligned. src/kernels/matmul.ts offers it only then. No split-K, no DB.
// A, B, C, bias, mask, pre: f32 row-major, bound as arrays of vec4f.
// dispatch: (ceil(N / TILE_N), ceil(M / TILE_M)) workgroups of WG_X × WG_Y invocations,
//   TILE_M = WG_Y·RM, TILE_N = 4·WG_X·CN. Invocation (lid.x, lid.y) accumulates RM rows × CN vec4 of C:
//   rows lid.y + i·WG_Y, the 4 columns from 4·(lid.x + j·WG_X), so neighbouring invocations store
//   neighbouring 16-byte words. Workgroups whose tile lies inside C stage without bounds checks.
// Each element of C is accumulated as in matmul.wgsl, fma(a, b, acc) for k = 0, 1, …, K − 1 (a vec4 fma
// is four scalar ones), so this kernel agrees with `matmul` bit for bit.

struct Dims { M: u32, N: u32, K: u32, k_slice: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> A: array<vec4f>;
@group(0) @binding(2) var<storage, read> B: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> C: array<vec4f>;
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<vec4f>;        // [N / 4]
#endif
#if ${MASK}
@group(0) @binding(5) var<storage, read> mask: array<vec4f>;        // [M, N / 4]: what act' is read from
#endif
#if ${PRE}
@group(0) @binding(6) var<storage, read_write> pre: array<vec4f>;   // [M, N / 4]: Z, before the activation
#endif

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TILE_K: u32 = 16;  // a multiple of 4
override RM: u32 = 4;       // rows of C per invocation, ≤ 8
override CN: u32 = 1;       // vec4 columns of C per invocation, ≤ 2
override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
override TILE_M: u32 = WG_Y * RM;
override TILE_N4: u32 = WG_X * CN;  // the tile's width in vec4

var<workgroup> As: array<f32, TILE_K * TILE_M>;     // [TILE_K][TILE_M]
var<workgroup> Bs: array<vec4f, TILE_K * TILE_N4>;  // [TILE_K][TILE_N / 4]

// Stages the K-slice from k0 of op(A)'s rows from row0 into As. `checked`: zeros outside op(A).
fn stage_a(tid: u32, threads: u32, row0: u32, k0: u32, checked: bool) {
  let M4 = dims.M / 4u;
  let K4 = dims.K / 4u;
  let count = TILE_M * TILE_K / 4u;
  for (var i = tid; i < count; i += threads) {
    if (TRANSPOSE_A) {
      // A [K, M]: a vec4 holds op(A)[m .. m + 3, k]
      let k = i / (TILE_M / 4u);
      let m = (i % (TILE_M / 4u)) * 4u;
      var v = vec4f();
      if (!checked || (k0 + k < dims.K && row0 + m < dims.M)) { v = A[(k0 + k) * M4 + (row0 + m) / 4u]; }
      let at = k * TILE_M + m;
      As[at] = v.x;
      As[at + 1u] = v.y;
      As[at + 2u] = v.z;
      As[at + 3u] = v.w;
    } else {
      // A [M, K]: a vec4 holds op(A)[m, k .. k + 3]
      let m = i / (TILE_K / 4u);
      let k = (i % (TILE_K / 4u)) * 4u;
      var v = vec4f();
      if (!checked || (row0 + m < dims.M && k0 + k < dims.K)) { v = A[(row0 + m) * K4 + (k0 + k) / 4u]; }
      As[k * TILE_M + m] = v.x;
      As[(k + 1u) * TILE_M + m] = v.y;
      As[(k + 2u) * TILE_M + m] = v.z;
      As[(k + 3u) * TILE_M + m] = v.w;
    }
  }
}

// Stages the K-slice from k0 of op(B)'s columns from col0 into Bs. `checked`: zeros outside op(B).
fn stage_b(tid: u32, threads: u32, col0: u32, k0: u32, checked: bool) {
  let N4 = dims.N / 4u;
  let K4 = dims.K / 4u;
  let count = TILE_K * TILE_N4;
  for (var i = tid; i < count; i += threads) {
    if (TRANSPOSE_B) {
      // B [N, K]: a vec4 holds op(B)[k .. k + 3, n]
      let n = i / (TILE_K / 4u);
      let k = (i % (TILE_K / 4u)) * 4u;
      var v = vec4f();
      if (!checked || (col0 + n < dims.N && k0 + k < dims.K)) { v = B[(col0 + n) * K4 + (k0 + k) / 4u]; }
      let q = n / 4u;
      let c = n % 4u;
      Bs[k * TILE_N4 + q][c] = v.x;
      Bs[(k + 1u) * TILE_N4 + q][c] = v.y;
      Bs[(k + 2u) * TILE_N4 + q][c] = v.z;
      Bs[(k + 3u) * TILE_N4 + q][c] = v.w;
    } else {
      // B [K, N]: a vec4 holds op(B)[k, n .. n + 3]
      let k = i / TILE_N4;
      let q = i % TILE_N4;
      var v = vec4f();
      if (!checked || (k0 + k < dims.K && col0 + 4u * q < dims.N)) { v = B[(k0 + k) * N4 + col0 / 4u + q]; }
      Bs[k * TILE_N4 + q] = v;
    }
  }
}

// C[m, 4q .. 4q + 3] = the epilogue applied to the products v, component by component.
fn store4(m: u32, q: u32, v: vec4f) {
  let at = m * (dims.N / 4u) + q;
  var c = v;
#if ${BIAS}
  c += bias[q];
#endif
#if ${PRE}
  pre[at] = c;
#endif
#if ${MASK}
  let g = mask[at];
  c *= vec4f(activation_grad(g.x), activation_grad(g.y), activation_grad(g.z), activation_grad(g.w));
#else
  c = vec4f(activate(c.x), activate(c.y), activate(c.z), activate(c.w));
#endif
  C[at] = c;
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_vec4(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N4 * 4u;
  let tid = lid.y * WG_X + lid.x;
  let threads = WG_X * WG_Y;
  let inside = row0 + TILE_M <= dims.M && col0 + TILE_N4 * 4u <= dims.N;  // uniform over the workgroup
  var acc: array<vec4f, 16>;  // RM × CN ≤ 8 × 2

  for (var k0 = 0u; k0 < dims.K; k0 += TILE_K) {
    let checked = !(inside && k0 + TILE_K <= dims.K);
    stage_a(tid, threads, row0, k0, checked);
    stage_b(tid, threads, col0, k0, checked);
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      var b: array<vec4f, 2>;
      for (var j = 0u; j < CN; j++) { b[j] = Bs[k * TILE_N4 + lid.x + j * WG_X]; }
      for (var i = 0u; i < RM; i++) {
        let a = vec4f(As[k * TILE_M + lid.y + i * WG_Y]);
        for (var j = 0u; j < CN; j++) { acc[i * CN + j] = fma(a, b[j], acc[i * CN + j]); }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < RM; i++) {
    let m = row0 + lid.y + i * WG_Y;
    for (var j = 0u; j < CN; j++) {
      let q = col0 / 4u + lid.x + j * WG_X;
      if (m < dims.M && 4u * q < dims.N) { store4(m, q, acc[i * CN + j]); }
    }
  }
}
