// matmul: out[M,N] = op(A)·op(B), then an optional fused epilogue                     (seeds 001, 002, 004)
//   op(A) is M×K: A stored [M,K], or [K,M] read transposed (transposeA)
//   op(B) is K×N: B stored [K,N], or [N,K] read transposed (transposeB)
// The three forms of a dense layer (seed 004, x: B×D, W: D×H):
//   forward   Z  = A·W + b,  A' = act(Z)        epilogue 'bias' / 'bias_relu' / 'bias_sigmoid' / 'bias_tanh'
//   backward  dW = Aᵀ·G                          transposeA
//             dA = (G·Wᵀ) ⊙ act'(A)              transposeB, epilogue 'mask_relu' / 'mask_sigmoid' / 'mask_tanh'
// act' is read from the activation OUTPUT (option `act`): relu' = [a > 0] (0 at exactly 0, seed 004's
// s > 0), sigmoid' = a(1 − a), tanh' = 1 − a² (seed 001). Accumulation is in Float64; out is overwritten.
import type { Activation } from '../model/spec.js';
import { activateRef, activationGradFromOutputRef } from './activation.js';
import { checkDim, checkLength } from './check.js';

/** What the GPU matmul fuses after the product. */
export type MatmulEpilogue =
  | 'none'
  | 'bias'
  | 'bias_relu'
  | 'bias_sigmoid'
  | 'bias_tanh'
  | 'mask_relu'
  | 'mask_sigmoid'
  | 'mask_tanh';

export interface MatmulRefOptions {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  /** A is stored [K, M] and read as its transpose. */
  readonly transposeA?: boolean;
  /** B is stored [N, K] and read as its transpose. */
  readonly transposeB?: boolean;
  /** Default `'none'`. */
  readonly epilogue?: MatmulEpilogue;
  /** bias: [N], required by the `bias*` epilogues. */
  readonly bias?: ArrayLike<number>;
  /** act: [M, N], the activation output whose derivative the `mask_*` epilogues multiply in. */
  readonly act?: ArrayLike<number>;
}

/** The forward epilogue of a dense layer followed by `kind`: Z = A·W + b, then act(Z). */
export function biasEpilogueFor(kind: Activation): MatmulEpilogue {
  return kind === 'linear' ? 'bias' : `bias_${kind}`;
}

/** The backward epilogue through `kind`: (G·Wᵀ) ⊙ act'(A). `linear` needs no mask. */
export function maskEpilogueFor(kind: Activation): MatmulEpilogue {
  return kind === 'linear' ? 'none' : `mask_${kind}`;
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
  const { M, N, K, transposeA = false, transposeB = false, epilogue = 'none' } = options;
  checkDim('M', M);
  checkDim('N', N);
  checkDim('K', K);
  checkLength('a', a, M * K, transposeA ? '[K, M]' : '[M, K]');
  checkLength('b', b, K * N, transposeB ? '[N, K]' : '[K, N]');
  checkLength('out', out, M * N, '[M, N]');
  const { kind, bias, act } = parseEpilogue(epilogue, options, M, N);

  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0; // Float64 accumulator
      for (let k = 0; k < K; k++) {
        const aMK = transposeA ? a[k * M + m] : a[m * K + k];
        const bKN = transposeB ? b[n * K + k] : b[k * N + n];
        sum += aMK * bKN;
      }
      if (bias !== undefined) {
        out[m * N + n] = activateRef(kind, sum + bias[n]);
      } else if (act !== undefined) {
        out[m * N + n] = sum * activationGradFromOutputRef(kind, act[m * N + n]);
      } else {
        out[m * N + n] = sum;
      }
    }
  }
}

/** The activation behind each epilogue: applied after the bias, or differentiated in the mask. */
const EPILOGUE_ACTIVATION: Record<MatmulEpilogue, Activation> = {
  none: 'linear',
  bias: 'linear',
  bias_relu: 'relu',
  bias_sigmoid: 'sigmoid',
  bias_tanh: 'tanh',
  mask_relu: 'relu',
  mask_sigmoid: 'sigmoid',
  mask_tanh: 'tanh',
};

/** Splits an epilogue into its activation and the extra input it needs, checking that input. */
function parseEpilogue(
  epilogue: MatmulEpilogue,
  options: MatmulRefOptions,
  M: number,
  N: number,
): { kind: Activation; bias?: ArrayLike<number>; act?: ArrayLike<number> } {
  const kind = EPILOGUE_ACTIVATION[epilogue];
  if (kind === undefined) throw new Error(`unknown matmul epilogue '${epilogue}'`);
  if (epilogue.startsWith('bias')) {
    const { bias } = options;
    if (bias === undefined) throw new Error(`matmul epilogue '${epilogue}' needs a bias of length N = ${N}`);
    checkLength('bias', bias, N, '[N]');
    return { kind, bias };
  }
  if (epilogue.startsWith('mask')) {
    const { act } = options;
    if (act === undefined) {
      throw new Error(`matmul epilogue '${epilogue}' needs act, the activation output [M, N] = [${M}, ${N}]`);
    }
    checkLength('act', act, M * N, '[M, N]');
    return { kind, act };
  }
  return { kind };
}
