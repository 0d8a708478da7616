// matmul: C[M,N] = op(A)·op(B), then an optional fused epilogue                          (seeds 001, 002, 004)
//   op(A) is M×K: A stored [M,K], or [K,M] read transposed (TRANSPOSE_A)
//   op(B) is K×N: B stored [K,N], or [N,K] read transposed (TRANSPOSE_B)
// The three forms of a dense layer (seed 004, x: B×D, W: D×H):
//   forward   Z  = A·W + b,  A' = act(Z)        EPI_BIAS, EPI_ACTIVATE: activate(); PRE also stores Z
//   backward  dW = Aᵀ·G                          TRANSPOSE_A; DB also writes db = Σ_k G[k,:] (below)
//             dA = (G·Wᵀ) ⊙ act'(V)              TRANSPOSE_B, EPI_MASK: V is the activation's output (ReLU,
//                                                sigmoid, tanh) or its input Z (GELU), as it declares
// activate() and activation_grad() come from an activation module of shaders/activations/, appended by
// src/kernels/matmul.ts (linear.wgsl when there is none).
// A, B, C, bias, mask, pre, db: f32 row-major. Any M, N, K ≥ 1.
// The epilogue is chosen by dims.epilogue (EPI_* bits), not by the pipeline: the forward pass of every
// layer, its dW and its dA share one pipeline per activation module (a linear epilogue leaves the
// ACTIVATE bit off), and bias and mask are always bound (to A when unused; never read then). The
// direct kernel also takes its transposes from dims (they only set up indices, outside the k loop);
// the tiled kernel keeps them as override constants (they shape its staging loops).
// Entry points, with the same bindings, flags and epilogues (src/kernels/matmul.ts lists the variants
// built from them; src/tune/ picks one per shape):
//   matmul         (GPUs) tiles of TILE_M × TILE_N = (WG_Y·RM) × (WG_X·RN) staged in workgroup memory over
//                  K-slices of TILE_K; invocation (lid.x, lid.y) accumulates an RM × RN block of C (rows
//                  lid.y + i·WG_Y, columns lid.x + j·WG_X). Workgroups whose tile lies inside op(A)'s rows
//                  and op(B)'s columns stage full K-slices without bounds checks; edge tiles check and
//                  zero-pad.
//     dispatch: (ceil(N / TILE_N), ceil(rows / TILE_M), slices)
//   matmul_direct  (CPU implementations: SwiftShader) no workgroup memory, no barriers; see below.
//     dispatch: (ceil(N / (DN·WG_X)), ceil(rows / (DM·WG_Y)), slices); invocation gid computes the
//               DM × DN block of C at rows DM·gid.y + i, columns DN·gid.x + j.
//   matmul_reduce  the second pass of split-K (SPLIT): C = epilogue(Σ_s partial[s]), s in order.
//     dispatch: ceil(rows·N / REDUCE_WG) workgroups of REDUCE_WG, over (x, y) past the per-dimension limit.
// Every variant accumulates each element of C in the same order, fma(a, b, acc) for k = 0, 1, …, K − 1
// (matmul) or acc += a·b (matmul_direct), so the tiled variants agree bit for bit with each other.
//
// SPLIT (split-K, for outputs too small to fill the GPU with K large): workgroup z of the first pass
// sums k in [z·k_slice, min(K, (z + 1)·k_slice)) into partial[z] with no epilogue; matmul_reduce then
// adds the slices' partials in the fixed order z = 0, 1, … and applies the epilogue. The result does
// not depend on timing (no atomics), only on k_slice.
// The bias gradient fused into dW = Aᵀ·G (db[n] = Σ_k op(B)[k,n], seed 001's bias as an extra input
// fixed at 1), only without bias, mask, pre or an activation:
//   matmul, matmul_reduce: the DB flag. op(A) gets an extra row M of ones, so row M of the product is
//     db; it goes to db instead of C. rows = M + 1 with DB, else M.
//   matmul_direct: the EPI_DB bit of dims.epilogue, so that dW shares the forward's pipeline. The
//     invocations of the first row block also sum their columns of op(B) as bias_grad_direct does
//     (column_sums: the same bits) and write db. rows = M. Not with split-K.

struct Dims {
  M: u32, N: u32, K: u32, k_slice: u32,
  trans_a: u32,   // matmul_direct: op(A) = Aᵀ when 1 (matmul reads TRANSPOSE_A)
  trans_b: u32,   // matmul_direct: op(B) = Bᵀ when 1 (matmul reads TRANSPOSE_B)
  epilogue: u32,  // EPI_* bits
  pad: u32,
}
const EPI_BIAS = 1u;      // c += bias[n]
const EPI_ACTIVATE = 2u;  // c = activate(c)                 (forward)
const EPI_MASK = 4u;      // c *= activation_grad(mask[m, n])  (backward; instead of EPI_ACTIVATE)
const EPI_DB = 8u;        // matmul_direct: db = Σ_k op(B)[k, :] too (dW = Aᵀ·G); no other bit

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;        // [N], read with EPI_BIAS
@group(0) @binding(5) var<storage, read> mask: array<f32>;        // [M, N], with EPI_MASK: what act' is read from
#if ${PRE}
@group(0) @binding(6) var<storage, read_write> pre: array<f32>;   // [M, N]: Z, before the activation
const PRE_KEPT = true;
#else
const PRE_KEPT = false;
#endif
#if ${SPLIT}
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;  // [slices, rows, N]
#endif
// [N]: Σ_k op(B)[k, n]. matmul_direct always binds it (a placeholder when EPI_DB is off).
@group(0) @binding(8) var<storage, read_write> db: array<f32>;
#if ${DB}
const AUG = 1u;  // op(A) has the extra row of ones
#else
const AUG = 0u;
#endif

// The registers of an invocation's block (matmul): a function's arrays need a constant size, so WIDE
// (blocks past 4×4) sizes them for 8×8; the others keep the 4×4 arrays of the default kernel.
#if ${WIDE}
const BLOCK = 8u;
#else
const BLOCK = 4u;
#endif

override WG_X: u32 = 16;
override WG_Y: u32 = 16;
override TILE_K: u32 = 16;
override RM: u32 = 4;  // rows of C per invocation (matmul), ≤ BLOCK
override RN: u32 = 4;  // columns of C per invocation (matmul), ≤ BLOCK
override TRANSPOSE_A: bool = false;
override TRANSPOSE_B: bool = false;
override TILE_M: u32 = WG_Y * RM;
override TILE_N: u32 = WG_X * RN;
override DM: u32 = 16;  // rows of C per invocation (matmul_direct): 4, 8 or 16
override DN: u32 = 8;   // columns of C per invocation (matmul_direct): 4 or 8
override REDUCE_WG: u32 = 64;

var<workgroup> As: array<f32, TILE_K * TILE_M>;  // [TILE_K][TILE_M]
var<workgroup> Bs: array<f32, TILE_K * TILE_N>;  // [TILE_K][TILE_N]

// op(A)[m, k] for staging. `checked` (uniform over the workgroup: an edge tile, or the last K-slice): the
// ones row with DB, and zeros outside op(A) or past k_end (the end of a split-K slice); else in bounds.
fn load_a(m: u32, k: u32, k_end: u32, checked: bool) -> f32 {
  if (checked) {
    if (k >= k_end) { return 0.0; }
    if (m >= dims.M) { return select(0.0, 1.0, AUG == 1u && m == dims.M); }
  }
  if (TRANSPOSE_A) { return A[k * dims.M + m]; }
  return A[m * dims.K + k];
}

fn load_b(k: u32, n: u32, k_end: u32, checked: bool) -> f32 {
  if (checked && (k >= k_end || n >= dims.N)) { return 0.0; }
  if (TRANSPOSE_B) { return B[n * dims.K + k]; }
  return B[k * dims.N + n];
}

// C[m,n] = the epilogue applied to the product v (row M goes to db with DB).
fn store(m: u32, n: u32, v: f32) {
#if ${DB}
  if (m == dims.M) {
    db[n] = v;
    return;
  }
#endif
  var c = v;
  if ((dims.epilogue & EPI_BIAS) != 0u) { c += bias[n]; }
#if ${PRE}
  pre[m * dims.N + n] = c;
#endif
  if ((dims.epilogue & EPI_MASK) != 0u) {
    c *= activation_grad(mask[m * dims.N + n]);
  } else if ((dims.epilogue & EPI_ACTIVATE) != 0u) {
    c = activate(c);
  }
  C[m * dims.N + n] = c;
}

// The product v of C[m,n] over K-slice s: to partial (SPLIT), or through the epilogue to C.
fn emit(m: u32, n: u32, s: u32, v: f32) {
#if ${SPLIT}
  partial[(s * (dims.M + AUG) + m) * dims.N + n] = v;
#else
  store(m, n, v);
#endif
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let rows = dims.M + AUG;
  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;
  let k_begin = wid.z * dims.k_slice;
  let k_end = min(dims.K, k_begin + dims.k_slice);
  let tid = lid.y * WG_X + lid.x;
  let threads = WG_X * WG_Y;
  // Uniform over the workgroup: its tile lies inside op(A)'s rows and op(B)'s columns (not the ones row).
  let inside = row0 + TILE_M <= dims.M && col0 + TILE_N <= dims.N;
  var acc: array<f32, BLOCK * BLOCK>;  // RM × RN

  for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
    // Stage the K-slice of op(A) and op(B); consecutive invocations read consecutive addresses.
    let checked = !(inside && k0 + TILE_K <= k_end);
    for (var i = tid; i < TILE_M * TILE_K; i += threads) {
      var m: u32; var k: u32;
      if (TRANSPOSE_A) { k = i / TILE_M; m = i % TILE_M; } else { m = i / TILE_K; k = i % TILE_K; }
      As[k * TILE_M + m] = load_a(row0 + m, k0 + k, k_end, checked);
    }
    for (var i = tid; i < TILE_N * TILE_K; i += threads) {
      var n: u32; var k: u32;
      if (TRANSPOSE_B) { n = i / TILE_K; k = i % TILE_K; } else { k = i / TILE_N; n = i % TILE_N; }
      Bs[k * TILE_N + n] = load_b(k0 + k, col0 + n, k_end, checked);
    }
    workgroupBarrier();
    for (var k = 0u; k < TILE_K; k++) {
      var a: array<f32, BLOCK>;
      var b: array<f32, BLOCK>;
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
      if (m < rows && n < dims.N) { emit(m, n, wid.z, acc[i * RN + j]); }
    }
  }
}

// ---- matmul_direct: the same product for CPU implementations (SwiftShader) -------------------------
// SwiftShader runs invocations as the lanes of CPU SIMD registers, a barrier as a coroutine switch,
// and every load from workgroup or storage memory as one scalar load per lane; an array indexed in a
// loop lives in memory, per lane. So this form has no workgroup memory, no barriers and no indexed
// arrays: invocation gid computes the DM×DN block of C at rows m + i, columns n + j
// (m = DM·gid.y, n = DN·gid.x) in named registers, as (DM/4)×(DN/4) tiles of 4×4,
//   c_IJ += outer(op(A)[m + 4I .. m + 4I + 3, k], op(B)[k, n + 4J .. n + 4J + 3])   for each k,
// 24 loads for 128 multiply-adds at 16×8. The tiles past DM or DN sit behind `if` on the override
// constants, which the compiler removes. Rows and columns past the edge are clamped to the last one, so
// every load is in bounds (no padding asked of the caller); their results are not stored. (Reading B as
// vec4f where N % 4 = 0 measured no faster: SwiftShader still loads each lane's elements one by one.)

// The outer product a·bᵀ as a matrix whose column i holds row i of the tile: t[i][j] = a[i]·b[j].
fn outer(a: vec4f, b: vec4f) -> mat4x4f {
  return mat4x4f(b * a.x, b * a.y, b * a.z, b * a.w);
}

// Indices in A of op(A)[m + i, 0], i < 4 (rows clamped into op(A)); +step_a per k.
fn a_index(m: u32) -> vec4u {
  let r = min(vec4u(m) + vec4u(0u, 1u, 2u, 3u), vec4u(dims.M - 1u));
  return select(r * dims.K, r, dims.trans_a != 0u);
}

// Indices in B of op(B)[0, n + j], j < 4 (columns clamped into op(B)); +step_b per k.
fn b_index(n: u32) -> vec4u {
  let c = min(vec4u(n) + vec4u(0u, 1u, 2u, 3u), vec4u(dims.N - 1u));
  return select(c, c * dims.K, dims.trans_b != 0u);
}

// op(A)[m .. m + 3, k] from its indices.
fn a4(i: vec4u) -> vec4f {
  return vec4f(A[i.x], A[i.y], A[i.z], A[i.w]);
}

fn b4(i: vec4u) -> vec4f {
  return vec4f(B[i.x], B[i.y], B[i.z], B[i.w]);
}

// The product v of C[m, n] before the epilogue: to partial (SPLIT) or C, from which matmul_direct's
// epilogue pass reads it back.
fn put(m: u32, n: u32, s: u32, v: f32) {
#if ${SPLIT}
  partial[(s * dims.M + m) * dims.N + n] = v;
#else
  C[m * dims.N + n] = v;
#endif
}

// db[n + j] = v[j] for the columns inside C (once per invocation: a loop is short enough).
fn put_db(n: u32, v: vec4f) {
  for (var j = 0u; j < 4u && n + j < dims.N; j++) { db[n + j] = v[j]; }
}

// C[m, n + j] = v[j] for the elements that lie inside C (constant indices: a loop over j would index a
// vector dynamically, which SwiftShader does through memory).
fn store_row(m: u32, n: u32, s: u32, v: vec4f) {
  if (m >= dims.M) { return; }
  if (n < dims.N) { put(m, n, s, v.x); }
  if (n + 1u < dims.N) { put(m, n + 1u, s, v.y); }
  if (n + 2u < dims.N) { put(m, n + 2u, s, v.z); }
  if (n + 3u < dims.N) { put(m, n + 3u, s, v.w); }
}

// C[m + i, n + j] = t[i][j] for the elements of the 4×4 tile t that lie inside C.
fn store_tile(m: u32, n: u32, s: u32, t: mat4x4f) {
  store_row(m, n, s, t[0]);
  store_row(m + 1u, n, s, t[1]);
  store_row(m + 2u, n, s, t[2]);
  store_row(m + 3u, n, s, t[3]);
}

// C[m, n + j] = the epilogue of v[j] for the elements inside C (or partial: see emit): how the quick
// 4×4 block stores a row, each element once.
fn emit_row(m: u32, n: u32, s: u32, v: vec4f) {
  if (m >= dims.M) { return; }
  if (n < dims.N) { emit(m, n, s, v.x); }
  if (n + 1u < dims.N) { emit(m, n + 1u, s, v.y); }
  if (n + 2u < dims.N) { emit(m, n + 2u, s, v.z); }
  if (n + 3u < dims.N) { emit(m, n + 3u, s, v.w); }
}

// Σ_k op(B)[k, ·] of four columns, from their indices at k = 0 (+step_b per k), summed as
// bias_grad_direct sums a column: in blocks of 64 terms, the block sums added in turn (the same bits).
fn block_column_sums(first: vec4u, step_b: vec4u) -> vec4f {
  var ib = first;
  var total = vec4f();
  for (var k0 = 0u; k0 < dims.K; k0 += 64u) {
    var s = vec4f();
    for (var k = k0; k < min(k0 + 64u, dims.K); k++) {
      s += b4(ib);
      ib += step_b;
    }
    total += s;
  }
  return total;
}

// EPI_DB: db[n .. n + DN − 1] = Σ_k op(B)[k, ·] (block_column_sums). The invocations of the first row
// block run it after their product, as a loop of its own: summed inside the product's loop, or
// branched to before it, it made every product slower, db or not (docs/benchmarks.md).
fn column_sums(n: u32, step_b: vec4u) {
  put_db(n, block_column_sums(b_index(n), step_b));
  if (DN > 4u) { put_db(n + 4u, block_column_sums(b_index(n + 4u), step_b)); }
}

@compute @workgroup_size(WG_X, WG_Y)
fn matmul_direct(@builtin(global_invocation_id) gid: vec3u) {
  let m = gid.y * DM;
  let n = gid.x * DN;
  if (m >= dims.M || n >= dims.N) { return; }
  let k_begin = gid.z * dims.k_slice;
  let k_end = min(dims.K, k_begin + dims.k_slice);
  let step_a = vec4u(select(1u, dims.M, dims.trans_a != 0u));
  let step_b = vec4u(select(dims.N, 1u, dims.trans_b != 0u));
  var ia0 = a_index(m) + step_a * k_begin;
  var ia1 = a_index(m + 4u) + step_a * k_begin;
  var ia2 = a_index(m + 8u) + step_a * k_begin;
  var ia3 = a_index(m + 12u) + step_a * k_begin;
  var ib0 = b_index(n) + step_b * k_begin;
  var ib1 = b_index(n + 4u) + step_b * k_begin;
  var c00 = mat4x4f();
  var c01 = mat4x4f();
  var c10 = mat4x4f();
  var c11 = mat4x4f();
  var c20 = mat4x4f();
  var c21 = mat4x4f();
  var c30 = mat4x4f();
  var c31 = mat4x4f();
  for (var k = k_begin; k < k_end; k++) {
    let a0 = a4(ia0);
    let b0 = b4(ib0);
    c00 += outer(a0, b0);
    var b1 = vec4f();
    if (DN > 4u) {
      b1 = b4(ib1);
      c01 += outer(a0, b1);
    }
    if (DM > 4u) {
      let a1 = a4(ia1);
      c10 += outer(a1, b0);
      if (DN > 4u) { c11 += outer(a1, b1); }
    }
    if (DM > 8u) {
      let a2 = a4(ia2);
      let a3 = a4(ia3);
      c20 += outer(a2, b0);
      c30 += outer(a3, b0);
      if (DN > 4u) {
        c21 += outer(a2, b1);
        c31 += outer(a3, b1);
      }
    }
    ia0 += step_a;
    ia1 += step_a;
    ia2 += step_a;
    ia3 += step_a;
    ib0 += step_b;
    ib1 += step_b;
  }
  let s = gid.z;
  if (DM == 4u && DN == 4u) {
    // The quick 4×4 kernel: the epilogue at each store rather than in a second pass reading C back,
    // which took 10–25% of a small product's time (docs/benchmarks.md). A loop over the 4 rows, so
    // the epilogue is inlined 4 times, not 16 (which compiled twice as long, ~100 ms more setup).
    // The same product through the same epilogue: the same bits.
    for (var i = 0u; i < 4u; i++) { emit_row(m + i, n, s, c00[i]); }
    if ((dims.epilogue & EPI_DB) != 0u && gid.y == 0u) { column_sums(n, step_b); }
    return;
  }
  store_tile(m, n, s, c00);
  if (DN > 4u) { store_tile(m, n + 4u, s, c01); }
  if (DM > 4u) {
    store_tile(m + 4u, n, s, c10);
    if (DN > 4u) { store_tile(m + 4u, n + 4u, s, c11); }
  }
  if (DM > 8u) {
    store_tile(m + 8u, n, s, c20);
    store_tile(m + 12u, n, s, c30);
    if (DN > 4u) {
      store_tile(m + 8u, n + 4u, s, c21);
      store_tile(m + 12u, n + 4u, s, c31);
    }
  }
#if ${SPLIT}
#else
  // The epilogue, once in a loop over the block rather than inlined at each of its DM·DN stores (which
  // made the pipeline several times slower to compile): each product read back as stored, so the
  // same bits as applying it in place.
  if ((dims.epilogue & (EPI_BIAS | EPI_ACTIVATE | EPI_MASK)) != 0u || PRE_KEPT) {
    let rows = min(DM, dims.M - m);
    let cols = min(DN, dims.N - n);
    for (var i = 0u; i < rows; i++) {
      for (var j = 0u; j < cols; j++) {
        let at = (m + i) * dims.N + n + j;
        store(m + i, n + j, C[at]);
      }
    }
  }
#endif
  if ((dims.epilogue & EPI_DB) != 0u && gid.y == 0u) { column_sums(n, step_b); }
}

// ---- matmul_reduce: the second pass of split-K ----------------------------------------------------
// C[m,n] = epilogue(partial[0][m,n] + partial[1][m,n] + …), the slices added in order (deterministic).
@compute @workgroup_size(REDUCE_WG)
fn matmul_reduce(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u,
                 @builtin(num_workgroups) nwg: vec3u) {
#if ${SPLIT}
  let rows = dims.M + AUG;
  let i = (wid.y * nwg.x + wid.x) * REDUCE_WG + lid.x;
  if (i >= rows * dims.N) { return; }
  let slices = (dims.K + dims.k_slice - 1u) / dims.k_slice;
  let stride = rows * dims.N;
  var sum = partial[i];
  for (var s = 1u; s < slices; s++) { sum += partial[s * stride + i]; }
  store(i / dims.N, i % dims.N, sum);
#endif
}
