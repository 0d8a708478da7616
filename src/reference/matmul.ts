// matmul: out[M,N] = op(A)·op(B), then an optional fused epilogue                     (seeds 001, 002, 004)
//   op(A) is M×K: A stored [M,K], or [K,M] read transposed (transposeA)
//   op(B) is K×N: B stored [K,N], or [N,K] read transposed (transposeB)
// The three forms of a dense layer (seed 004, x: B×D, W: D×H):
//   forward   Z  = A·W + b,  A' = act(Z)        bias, activation (and preActivation to keep Z)
//   backward  dW = Aᵀ·G                          transposeA
//             dA = (G·Wᵀ) ⊙ act'(V)              transposeB, activation and mask = V, the activation's
//                                                output (ReLU, sigmoid, tanh) or input (GELU)
// Accumulation is in Float64; out is overwritten.
import type { ScalarActivation } from './activation.js';
import { checkDim, checkLength } from './check.js';

export interface MatmulRefOptions {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** A is stored [K, M] and read as its transpose. */
  readonly transposeA?: boolean;
  /** B is stored [N, K] and read as its transpose. */
  readonly transposeB?: boolean;
  /** bias: [N], added to the product (forward). */
  readonly bias?: ArrayLike<number>;
  /** Forward: applied after the bias. With `mask`: its derivative, read from the mask, multiplies the product. */
  readonly activation?: ScalarActivation;
  /** mask: [M, N], the values act' is read from (backward). */
  readonly mask?: ArrayLike<number>;
  /** preActivation: [M, N], written with Z = product + bias before the activation (forward). */
  readonly preActivation?: Float64Array;
}

/**
 * out = epilogue(op(A)·op(B)).
 * a: [M, K] or [K, M] (transposeA)   b: [K, N] or [N, K] (transposeB)   out: [M, N]
 */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  out: Float64Array,
  options: MatmulRefOptions,
): void {
  const { M, N, K, transposeA = false, transposeB = false, bias, activation, mask, preActivation } = options;
  checkDim('M', M);
  checkDim('N', N);
  checkDim('K', K);
  checkLength('a', a, M * K, transposeA ? '[K, M]' : '[M, K]');
  checkLength('b', b, K * N, transposeB ? '[N, K]' : '[K, N]');
  checkLength('out', out, M * N, '[M, N]');
  if (bias !== undefined) checkLength('bias', bias, N, '[N]');
  if (preActivation !== undefined) checkLength('preActivation', preActivation, M * N, '[M, N]');
  if (mask !== undefined) {
    if (activation === undefined) throw new Error('matmul: a mask needs the activation whose derivative it reads');
    if (bias !== undefined || preActivation !== undefined) {
      throw new Error('matmul: a mask (backward) cannot be combined with bias or preActivation (forward)');
    }
    checkLength('mask', mask, M * N, '[M, N]');
  }

  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0; // Float64 accumulator
      for (let k = 0; k < K; k++) {
        const aMK = transposeA ? a[k * M + m] : a[m * K + k];
        const bKN = transposeB ? b[n * K + k] : b[k * N + n];
        sum += aMK * bKN;
      }
      const i = m * N + n;
      if (mask !== undefined) {
        out[i] = sum * (activation as ScalarActivation).grad(mask[i]);
        continue;
      }
      const z = bias !== undefined ? sum + bias[n] : sum;
      if (preActivation !== undefined) preActivation[i] = z;
      out[i] = activation ? activation.forward(z) : z;
    }
  }
}
