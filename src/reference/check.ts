// check: shape guards shared by the reference kernels. A wrong length is a bug in the caller,
// so it fails loudly with what was given, what was expected and the shape it stands for.

/** Throws unless `value` is a non-negative integer (a dimension such as M, N, K, rows, cols). */
export function checkDim(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} = ${value} must be a non-negative integer`);
  }
}

/** Throws unless `array.length === expected`; `shape` names the expected shape, e.g. `'[M, K]'`. */
export function checkLength(name: string, array: ArrayLike<number>, expected: number, shape: string): void {
  if (array.length !== expected) {
    throw new Error(`${name} has length ${array.length}, expected ${expected} for shape ${shape}`);
  }
}

/** Throws unless `batchSize` is a positive number (the divisor of the batch-mean loss). */
export function checkBatchSize(batchSize: number): void {
  if (!(batchSize > 0) || !Number.isFinite(batchSize)) {
    throw new Error(`batchSize = ${batchSize} must be a positive number`);
  }
}
