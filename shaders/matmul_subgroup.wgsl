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

// C[m, cols[c]] = v[c] for the columns inside C: the product before the epilogue.
fn put_lanes(m: u32, cols: vec4u, v: vec4f) {
  if (m >= dims.M) { return; }
  if (cols.x < dims.N) { C[m * dims.N + cols.x] = v.x; }
  if (cols.y < dims.N) { C[m * dims.N + cols.y] = v.y; }
  if (cols.z < dims.N) { C[m * dims.N + cols.z] = v.z; }
  if (cols.w < dims.N) { C[m * dims.N + cols.w] = v.w; }
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
  put_lanes(m, cols, c0);
  put_lanes(m + 1u, cols, c1);
  put_lanes(m + 2u, cols, c2);
  put_lanes(m + 3u, cols, c3);
  put_lanes(m + 4u, cols, c4);
  put_lanes(m + 5u, cols, c5);
  put_lanes(m + 6u, cols, c6);
  put_lanes(m + 7u, cols, c7);
  put_lanes(m + 8u, cols, c8);
  put_lanes(m + 9u, cols, c9);
  put_lanes(m + 10u, cols, c10);
  put_lanes(m + 11u, cols, c11);
  put_lanes(m + 12u, cols, c12);
  put_lanes(m + 13u, cols, c13);
  put_lanes(m + 14u, cols, c14);
  put_lanes(m + 15u, cols, c15);
  // The epilogue as matmul_direct applies it: once, in a loop over the block, each product read back.
  if ((dims.epilogue & (EPI_BIAS | EPI_ACTIVATE | EPI_MASK)) != 0u || PRE_KEPT) {
    let count = min(16u, dims.M - m);
    for (var i = 0u; i < count; i++) {
      for (var c = 0u; c < 4u; c++) {
        let col = n + lane + 4u * c;
        if (col < dims.N) { store(m + i, col, C[(m + i) * dims.N + col]); }
      }
    }
  }
  if ((dims.epilogue & EPI_DB) != 0u && wid.y == 0u) { lane_column_sums(first_b, step_b, cols); }
}
