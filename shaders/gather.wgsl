// gather: a batch from a data set resident on the GPU, by indices
//   j = indices[start + r]
//   X[r,c]       = S[j,c]·scale  (SOURCE_U8: S holds bytes)  or  S[j,c] (f32 source)
//   y[r]         = labels[j]                                    (LABELS)
//   Ydense[r,k]  = T[j,k]                                       (DENSE)
//   w[r]         = W[j]                                         (WEIGHTED: the rows' loss weights)
//   An index j ≥ n reads nothing: X and Ydense rows of zeros, y[r] = 0xFFFFFFFF (no class, so
//   softmax_xent reports a NaN loss instead of training towards class 0), w[r] = 0 (no influence).
// S: [n, D] as u32 words: bytes packed little-endian, row-major, rows NOT word-aligned when D % 4 ≠ 0
//    (byte e = j·D + c lives in word e/4 at bits 8·(e%4)); or f32 bit patterns (bitcast)
// indices: [≥ start + R] u32 read   labels: [n] u32 read   T: [n, K] f32 read   W: [n] f32 read
// X: [R, D] f32 write   y: [R] u32 write   Ydense: [R, K] f32 write   w: [R] f32 write
// WORDS (u8 with D % 4 = 0, so every row starts on a word, e.g. MNIST's 784): X is read as vec4f and
//    invocation i converts the four pixels of word i of the batch at once (a quarter of the invocations
//    and loads; SwiftShader runs it about 3× faster).
// dispatch: ceil(max(R·D (R·D/4 with WORDS), R·K, R) / WG) workgroups, numbered wid.x + wid.y·nwg.x (a
//           2D grid past the per-dimension limit); invocation i writes X element (or word) i, Ydense
//           element i, y[i] and w[i] where they exist.

struct Dims { rows: u32, cols: u32, n: u32, start: u32, target_cols: u32, scale: f32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> images: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
#if ${WORDS}
@group(0) @binding(3) var<storage, read_write> X: array<vec4f>;
#else
@group(0) @binding(3) var<storage, read_write> X: array<f32>;
#endif
#if ${LABELS}
@group(0) @binding(4) var<storage, read> labels: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<u32>;
#endif
#if ${DENSE}
@group(0) @binding(6) var<storage, read> targets: array<f32>;
@group(0) @binding(7) var<storage, read_write> y_dense: array<f32>;
#endif
#if ${WEIGHTED}
@group(0) @binding(8) var<storage, read> row_weights: array<f32>;
@group(0) @binding(9) var<storage, read_write> w: array<f32>;
#endif

override WG: u32 = 256;
override SOURCE_U8: bool = true;

const NO_LABEL = 0xffffffffu;

@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;

#if ${WORDS}
  let words = dims.cols / 4u;  // per row
  if (i < dims.rows * words) {
    let r = i / words;
    let j = indices[dims.start + r];
    var v = vec4f(0.0);
    if (j < dims.n) {
      let word = images[j * words + (i - r * words)];
      v = vec4f((vec4u(word) >> vec4u(0u, 8u, 16u, 24u)) & vec4u(0xffu)) * dims.scale;
    }
    X[i] = v;
  }
#else
  if (i < dims.rows * dims.cols) {
    let r = i / dims.cols;
    let c = i - r * dims.cols;
    let j = indices[dims.start + r];
    var v = 0.0;
    if (j < dims.n) {
      let e = j * dims.cols + c;
      if (SOURCE_U8) {
        v = f32((images[e >> 2u] >> ((e & 3u) * 8u)) & 0xffu) * dims.scale;
      } else {
        v = bitcast<f32>(images[e]);
      }
    }
    X[i] = v;
  }
#endif
#if ${LABELS}
  if (i < dims.rows) {
    let j = indices[dims.start + i];
    var label = NO_LABEL;
    if (j < dims.n) { label = labels[j]; }
    y[i] = label;
  }
#endif
#if ${DENSE}
  if (i < dims.rows * dims.target_cols) {
    let r = i / dims.target_cols;
    let k = i - r * dims.target_cols;
    let j = indices[dims.start + r];
    var t = 0.0;
    if (j < dims.n) { t = targets[j * dims.target_cols + k]; }
    y_dense[i] = t;
  }
#endif
#if ${WEIGHTED}
  if (i < dims.rows) {
    let j = indices[dims.start + i];
    var weight = 0.0;
    if (j < dims.n) { weight = row_weights[j]; }
    w[i] = weight;
  }
#endif
}
