// matmul: C[M,N] = op(A)·op(B), then an optional fused epilogue                          (seeds 001, 002, 004)
//   op(A) is M×K: A stored [M,K], or [K,M] read transposed (TRANSPOSE_A)
//   op(B) is K×N: B stored [K,N], or [N,K] read transposed (TRANSPOSE_B)
// The three forms of a dense layer (seed 004, x: B×D, W: D×H):
//   forward   Z  = A·W + b,  A' = act(Z)        epilogue BIAS, ACT = act
//   backward  dW = Aᵀ·G                          TRANSPOSE_A
//             dA = (G·Wᵀ) ⊙ act'(A)              TRANSPOSE_B, epilogue MASK with Y = A (the activation output)
// act' is taken from the activation's output y: relu' = [y > 0] (0 at exactly 0, seed 004's s > 0),
// sigmoid' = y(1 − y), tanh' = 1 − y² (seed 001).
// A, B, C, bias, Y: f32 row-major. Any M, N, K ≥ 1: edge tiles are zero-padded in workgroup memory.
// dispatch: (ceil(N / TILE_N), ceil(M / TILE_M)) workgroups of WG_X × WG_Y invocations;
//           each invocation accumulates a 4×4 block of C (rows lid.y + i·WG_Y, cols lid.x + j·WG_X).

struct Dims { M: u32, N: u32, K: u32, pad: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
#if ${BIAS}
@group(0) @binding(4) var<storage, read> bias: array<f32>;   // [N]
#endif
#if ${MASK}
@group(0) @binding(5) var<storage, read> Y: array<f32>;      // [M, N] activation output
#endif

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TILE_K: u32 = 16;
override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
// 0 linear, 1 relu, 2 sigmoid, 3 tanh: applied to C (ACT epilogue), or its derivative multiplied in (MASK).
override ACT: u32 = 0;

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
    if (m >= dims.M) { continue; }
    for (var j = 0u; j < RN; j++) {
      let n = col0 + lid.x + j * WG_X;
      if (n >= dims.N) { continue; }
      var v = acc[i * RN + j];
#if ${BIAS}
      v += bias[n];
#endif
#if ${MASK}
      v *= activation_grad(Y[m * dims.N + n]);
#else
      v = activate(v);
#endif
      C[m * dims.N + n] = v;
    }
  }
}
