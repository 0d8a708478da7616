/**
 * Float64 twin of shaders/affine.wgsl (docs/maths.md §11): out[r,c] = X[r,c]·scale[c] + shift[c]
 * (the kernel writes X itself). X: [rows, cols]; scale, shift: [cols]; out: [rows, cols], written.
 */
export function affineRef(
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  scale: ArrayLike<number>,
  shift: ArrayLike<number>,
  out: { [i: number]: number },
): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = x[r * cols + c] * scale[c] + shift[c];
  }
}
