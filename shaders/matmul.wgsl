// matmul: C[M,N] = op(A)·op(B), then an optional fused epilogue                          (seeds 001, 002, 004)
//   op(A) is M×K: A stored [M,K], or [K,M] read transposed (TRANSPOSE_A)
//   op(B) is K×N: B stored [K,N], or [N,K] read transposed (TRANSPOSE_B)
// The three forms of a dense layer (seed 004, x: B×D, W: D×H):
//   forward   Z  = A·W + b,  A' = act(Z)        BIAS, the activation's activate(); PRE also stores Z
//   backward  dW = Aᵀ·G                          TRANSPOSE_A
//             dA = (G·Wᵀ) ⊙ act'(V)              TRANSPOSE_B, MASK: V is the activation's output (ReLU,
//                                                sigmoid, tanh) or its input Z (GELU), as it declares
// activate() and activation_grad() come from an activation module of shaders/activations/, appended by
// src/kernels/matmul.ts (linear.wgsl when there is none).
// A, B, C, bias, mask, pre: f32 row-major. Any M, N, K ≥ 1.
// Two entry points, the same bindings, flags, overrides and results (up to summation order):
//   matmul         (GPUs) tiles staged in workgroup memory, zero-padded at the edges.
//     dispatch: (ceil(N / TILE_N), ceil(M / TILE_M)) workgroups of WG_X × WG_Y invocations; each
//               invocation accumulates a 4×4 block of C (rows lid.y + i·WG_Y, cols lid.x + j·WG_X).
//   matmul_direct  (CPU implementations: SwiftShader) no workgroup memory, no barriers; see below.
//     dispatch: (ceil(N / (8·WG_X)), ceil(M / (16·WG_Y))) workgroups of WG_X × WG_Y invocations; each
//               invocation computes the 16×8 block of C at rows 16·gid.y + i, columns 8·gid.x + j.

struct Dims { M: u32, N: u32, K: u32, pad: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32>;        // [N]
#endif
#if ${MASK}
@group(0) @binding(5) var<storage, read> mask: array<f32>;        // [M, N]: what act' is read from
#endif
#if ${PRE}
@group(0) @binding(6) var<storage, read_write> pre: array<f32>;   // [M, N]: Z, before the activation
#endif

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TILE_K: u32 = 16;
override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;

const RM = 4u;  // rows of C per invocation
const RN = 4u;  // columns of C per invocation
override TILE_M: u32 = WG_Y * RM;
override TILE_N: u32 = WG_X * RN;

var<workgroup> As: array<f32, TILE_K * TILE_M>;  // [TILE_K][TILE_M]
var<workgroup> Bs: array<f32, TILE_K * TILE_N>;  // [TILE_K][TILE_N]

fn load_a(m: u32, k: u32) -> f32 {
  if (m >= dims.M || k >= dims.K) { return 0.0; }
  if (TRANSPOSE_A) { return A[k * dims.M + m]; }
  return A[m * dims.K + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  if (k >= dims.K || n >= dims.N) { return 0.0; }
  if (TRANSPOSE_B) { return B[n * dims.K + k]; }
  return B[k * dims.N + n];
}

// C[m,n] = the epilogue applied to the product v.
fn store(m: u32, n: u32, v: f32) {
  var c = v;
#if ${BIAS}
  c += bias[n];
#endif
#if ${PRE}
  pre[m * dims.N + n] = c;
#endif
#if ${MASK}
  c *= activation_grad(mask[m * dims.N + n]);
#else
  c = activate(c);
#endif
  C[m * dims.N + n] = c;
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;
  let tid = lid.y * WG_X + lid.x;
  let threads = WG_X * WG_Y;
  var acc: array<f32, 16>;  // RM × RN

  for (var k0 = 0u; k0 < dims.K; k0 += TILE_K) {
    // Stage the K-slice of op(A) and op(B); consecutive invocations read consecutive addresses.
    for (var i = tid; i < TILE_M * TILE_K; i += threads) {
      var m: u32; var k: u32;
      if (TRANSPOSE_A) { k = i / TILE_M; m = i % TILE_M; } else { m = i / TILE_K; k = i % TILE_K; }
      As[k * TILE_M + m] = load_a(row0 + m, k0 + k);
    }
    for (var i = tid; i < TILE_N * TILE_K; i += threads) {
      var n: u32; var k: u32;
      if (TRANSPOSE_B) { n = i / TILE_K; k = i % TILE_K; } else { k = i / TILE_N; n = i % TILE_N; }
      Bs[k * TILE_N + n] = load_b(k0 + k, col0 + n);
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < RM; i++) { a[i] = As[k * TILE_M + lid.y + i * WG_Y]; }
      for (var j = 0u; j < RN; j++) { b[j] = Bs[k * TILE_N + lid.x + j * WG_X]; }
      for (var i = 0u; i < RM; i++) {
        for (var j = 0u; j < RN; j++) { acc[i * RN + j] = fma(a[i], b[j], acc[i * RN + j]); }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < RM; i++) {
    let m = row0 + lid.y + i * WG_Y;
    for (var j = 0u; j < RN; j++) {
      let n = col0 + lid.x + j * WG_X;
      if (m < dims.M && n < dims.N) { store(m, n, acc[i * RN + j]); }
    }
  }
}

// ---- matmul_direct: the same product for CPU implementations (SwiftShader) -------------------------
// SwiftShader runs invocations as the lanes of CPU SIMD registers, a barrier as a coroutine switch,
// and every load from workgroup or storage memory as one scalar load per lane; an array indexed in a
// loop lives in memory, per lane. So this form has no workgroup memory, no barriers and no indexed
// arrays: invocation gid computes the 16×8 block of C at rows m + i, columns n + j
// (m = 16·gid.y, n = 8·gid.x) in named registers, as 4×2 tiles of 4×4,
//   c_IJ += outer(op(A)[m + 4I .. m + 4I + 3, k], op(B)[k, n + 4J .. n + 4J + 3])   for each k,
// 24 loads for 128 multiply-adds. Rows and columns past the edge are clamped to the last one, so every
// load is in bounds (no padding asked of the caller); their results are not stored. (Reading B as
// vec4f where N % 4 = 0 measured no faster: SwiftShader still loads each lane's elements one by one.)

// The outer product a·bᵀ as a matrix whose column i holds row i of the tile: t[i][j] = a[i]·b[j].
fn outer(a: vec4f, b: vec4f) -> mat4x4f {
  return mat4x4f(b * a.x, b * a.y, b * a.z, b * a.w);
}

// Indices in A of op(A)[m + i, 0], i < 4 (rows clamped into op(A)); +da per k.
fn a_index(m: u32) -> vec4u {
  let r = min(vec4u(m) + vec4u(0u, 1u, 2u, 3u), vec4u(dims.M - 1u));
  return select(r * dims.K, r, TRANSPOSE_A);
}

// Indices in B of op(B)[0, n + j], j < 4 (columns clamped into op(B)); +db per k.
fn b_index(n: u32) -> vec4u {
  let c = min(vec4u(n) + vec4u(0u, 1u, 2u, 3u), vec4u(dims.N - 1u));
  return select(c, c * dims.K, TRANSPOSE_B);
}

fn a4(i: vec4u) -> vec4f {
  return vec4f(A[i.x], A[i.y], A[i.z], A[i.w]);
}

fn b4(i: vec4u) -> vec4f {
  return vec4f(B[i.x], B[i.y], B[i.z], B[i.w]);
}

// C[m, n + j] = epilogue(v[j]) for the elements that lie inside C (constant indices: a loop over j
// would index a vector dynamically, which SwiftShader does through memory).
fn store_row(m: u32, n: u32, v: vec4f) {
  if (m >= dims.M) { return; }
  if (n < dims.N) { store(m, n, v.x); }
  if (n + 1u < dims.N) { store(m, n + 1u, v.y); }
  if (n + 2u < dims.N) { store(m, n + 2u, v.z); }
  if (n + 3u < dims.N) { store(m, n + 3u, v.w); }
}

// C[m + i, n + j] = epilogue(t[i][j]) for the elements of the 4×4 tile t that lie inside C.
fn store_tile(m: u32, n: u32, t: mat4x4f) {
  store_row(m, n, t[0]);
  store_row(m + 1u, n, t[1]);
  store_row(m + 2u, n, t[2]);
  store_row(m + 3u, n, t[3]);
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_direct(@builtin(global_invocation_id) gid: vec3u) {
  let m = gid.y * 16u;
  let n = gid.x * 8u;
  if (m >= dims.M || n >= dims.N) { return; }
  var ia0 = a_index(m);
  var ia1 = a_index(m + 4u);
  var ia2 = a_index(m + 8u);
  var ia3 = a_index(m + 12u);
  var ib0 = b_index(n);
  var ib1 = b_index(n + 4u);
  let da = vec4u(select(1u, dims.M, TRANSPOSE_A));
  let db = vec4u(select(dims.N, 1u, TRANSPOSE_B));
  var c00 = mat4x4f();
  var c01 = mat4x4f();
  var c10 = mat4x4f();
  var c11 = mat4x4f();
  var c20 = mat4x4f();
  var c21 = mat4x4f();
  var c30 = mat4x4f();
  var c31 = mat4x4f();
  for (var k = 0u; k < dims.K; k++) {
    let a0 = a4(ia0);
    let a1 = a4(ia1);
    let a2 = a4(ia2);
    let a3 = a4(ia3);
    let b0 = b4(ib0);
    let b1 = b4(ib1);
    c00 += outer(a0, b0);
    c01 += outer(a0, b1);
    c10 += outer(a1, b0);
    c11 += outer(a1, b1);
    c20 += outer(a2, b0);
    c21 += outer(a2, b1);
    c30 += outer(a3, b0);
    c31 += outer(a3, b1);
    ia0 += da;
    ia1 += da;
    ia2 += da;
    ia3 += da;
    ib0 += db;
    ib1 += db;
  }
  store_tile(m, n, c00);
  store_tile(m, n + 4u, c01);
  store_tile(m + 4u, n, c10);
  store_tile(m + 4u, n + 4u, c11);
  store_tile(m + 8u, n, c20);
  store_tile(m + 8u, n + 4u, c21);
  store_tile(m + 12u, n, c30);
  store_tile(m + 12u, n + 4u, c31);
}
