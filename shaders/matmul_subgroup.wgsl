// matmul_subgroup: matmul_direct's product for CPU implementations whose subgroups are their SIMD
// registers of 4 lanes (SwiftShader)                                                (seeds 001, 002, 004)
// Not a module of its own: src/kernels/matmul_subgroup.ts appends it to shaders/matmul.wgsl (its dims,
// bindings, a4/b4 loads and epilogue `store`) after `enable subgroups;`, which must open the module.
//
// SwiftShader loads from storage memory one lane at a time: a load costs the same whether the 4 lanes of
// a SIMD register read one element or four. In matmul_direct the lanes of a register are invocations of
// the same rows of op(A) (consecutive gid.x), so each element of op(A) is loaded 4 times. Here a
// workgroup is one subgroup of 4 invocations computing a 16×16 block of C at (m, n): lane l loads rows
// m + l + 4r of op(A) and columns n + l + 4c of op(B) (r, c = 0 … 3), 8 loads per k where
// matmul_direct's 8×8 block takes 16 for as many multiply-adds, and subgroupShuffle hands every lane the
// rows the others loaded. Lane l accumulates C[m + i, n + l + 4c] for the 16 rows i, each element's
// terms added as matmul_direct adds them (acc += a·b for k = 0, 1, …, K − 1): the same bits.
// Rows and columns past the edge are clamped to the last one (every load in bounds) and not stored.
//   dispatch: (ceil(N / 16), ceil(M / 16), 1), one subgroup per workgroup (subgroup size 4: the context
//   offers this kernel only on a device with subgroups; docs/tuning.md).
// EPI_DB: the first row of workgroups also sums its columns of op(B) with block_column_sums, as
// matmul_direct does (the same bits as bias_grad_direct). Not with split-K.
// The epilogue (matmul.wgsl's store: c + bias, Z kept, then activate(c) or c·act'(mask)) is applied to
// the registers, not to C read back. SwiftShader pays for every side of a branch, taken or not, even a
// uniform one, so the two exclusive halves of the epilogue are compiled apart (FORM, set per pipeline
// by src/kernels/matmul.ts from the EPI_* bits): with both in one pipeline (and a uniform branch
// between them), `[13,100,3]` B=133's dA took 203–227 µs, with the mask alone 142–148 (docs/benchmarks.md).

const FORM_FORWARD = 0u;  // bias, Z kept, activation (the forward pass); the product alone, with db (dW)
const FORM_MASK = 1u;     // bias, Z kept, the mask (dA)
override FORM: u32 = FORM_FORWARD;

// Row m of the block at this lane's columns `cols` (`inside`: clamped into C) from its product v and
// the bias b at those columns: matmul.wgsl's store, on 4 columns at once (the same operations).
fn put_row(m: u32, cols: vec4u, inside: vec4u, v: vec4f, b: vec4f) {
  if (m >= dims.M) { return; }
  let row = m * dims.N;
  let z = v + b;
#if ${PRE}
  if (cols.x < dims.N) { pre[row + cols.x] = z.x; }
  if (cols.y < dims.N) { pre[row + cols.y] = z.y; }
  if (cols.z < dims.N) { pre[row + cols.z] = z.z; }
  if (cols.w < dims.N) { pre[row + cols.w] = z.w; }
#endif
  var c: vec4f;
  if (FORM == FORM_MASK) {
    let at = vec4u(row) + inside;
    c = z * vec4f(activation_grad(mask[at.x]), activation_grad(mask[at.y]), activation_grad(mask[at.z]), activation_grad(mask[at.w]));
  } else {
    c = select(z, vec4f(activate(z.x), activate(z.y), activate(z.z), activate(z.w)), (dims.epilogue & EPI_ACTIVATE) != 0u);
  }
  if (cols.x < dims.N) { C[row + cols.x] = c.x; }
  if (cols.y < dims.N) { C[row + cols.y] = c.y; }
  if (cols.z < dims.N) { C[row + cols.z] = c.z; }
  if (cols.w < dims.N) { C[row + cols.w] = c.w; }
}

// db[cols[c]] = Σ_k op(B)[k, cols[c]] (matmul.wgsl's block_column_sums), from the indices of op(B)[0, cols].
fn lane_column_sums(first: vec4u, step_b: vec4u, cols: vec4u) {
  let total = block_column_sums(first, step_b);
  if (cols.x < dims.N) { db[cols.x] = total.x; }
  if (cols.y < dims.N) { db[cols.y] = total.y; }
  if (cols.z < dims.N) { db[cols.z] = total.z; }
  if (cols.w < dims.N) { db[cols.w] = total.w; }
}

@compute @workgroup_size(4)
fn matmul_subgroup(@builtin(workgroup_id) wid: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let m = wid.y * 16u;
  let n = wid.x * 16u;
  let quads = vec4u(0u, 4u, 8u, 12u);
  let rows = min(vec4u(m + lane) + quads, vec4u(dims.M - 1u));
  let cols = vec4u(n + lane) + quads;
  let inside = min(cols, vec4u(dims.N - 1u));
  let step_a = vec4u(select(1u, dims.M, dims.trans_a != 0u));
  let step_b = vec4u(select(dims.N, 1u, dims.trans_b != 0u));
  var ia = select(rows * dims.K, rows, dims.trans_a != 0u);
  let first_b = select(inside, inside * dims.K, dims.trans_b != 0u);
  var ib = first_b;
  // c<i>: row m + i of the block, at this lane's 4 columns.
  var c0 = vec4f();
  var c1 = vec4f();
  var c2 = vec4f();
  var c3 = vec4f();
  var c4 = vec4f();
  var c5 = vec4f();
  var c6 = vec4f();
  var c7 = vec4f();
  var c8 = vec4f();
  var c9 = vec4f();
  var c10 = vec4f();
  var c11 = vec4f();
  var c12 = vec4f();
  var c13 = vec4f();
  var c14 = vec4f();
  var c15 = vec4f();
  for (var k = 0u; k < dims.K; k++) {
    let a = a4(ia);  // a[r] = op(A)[m + lane + 4r, k]
    let b = b4(ib);  // b[c] = op(B)[k, n + lane + 4c]
    let a0 = subgroupShuffle(a, 0u);  // lane 0's: rows m, m + 4, m + 8, m + 12
    let a1 = subgroupShuffle(a, 1u);
    let a2 = subgroupShuffle(a, 2u);
    let a3 = subgroupShuffle(a, 3u);
    c0 += a0.x * b;
    c1 += a1.x * b;
    c2 += a2.x * b;
    c3 += a3.x * b;
    c4 += a0.y * b;
    c5 += a1.y * b;
    c6 += a2.y * b;
    c7 += a3.y * b;
    c8 += a0.z * b;
    c9 += a1.z * b;
    c10 += a2.z * b;
    c11 += a3.z * b;
    c12 += a0.w * b;
    c13 += a1.w * b;
    c14 += a2.w * b;
    c15 += a3.w * b;
    ia += step_a;
    ib += step_b;
  }
  var b = vec4f();  // the bias at the lane's columns (bias is bound to A, unread, without EPI_BIAS)
  if ((dims.epilogue & EPI_BIAS) != 0u) { b = vec4f(bias[inside.x], bias[inside.y], bias[inside.z], bias[inside.w]); }
  put_row(m, cols, inside, c0, b);
  put_row(m + 1u, cols, inside, c1, b);
  put_row(m + 2u, cols, inside, c2, b);
  put_row(m + 3u, cols, inside, c3, b);
  put_row(m + 4u, cols, inside, c4, b);
  put_row(m + 5u, cols, inside, c5, b);
  put_row(m + 6u, cols, inside, c6, b);
  put_row(m + 7u, cols, inside, c7, b);
  put_row(m + 8u, cols, inside, c8, b);
  put_row(m + 9u, cols, inside, c9, b);
  put_row(m + 10u, cols, inside, c10, b);
  put_row(m + 11u, cols, inside, c11, b);
  put_row(m + 12u, cols, inside, c12, b);
  put_row(m + 13u, cols, inside, c13, b);
  put_row(m + 14u, cols, inside, c14, b);
  put_row(m + 15u, cols, inside, c15, b);
  if (FORM == FORM_FORWARD && (dims.epilogue & EPI_DB) != 0u && wid.y == 0u) { lane_column_sums(first_b, step_b, cols); }
}
