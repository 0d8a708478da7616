import { describe, expect, it } from 'vitest';
import type { ActivationName } from '../../src/model/spec.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { refAct } from '../helpers/activations.js';
import { randomArray } from '../helpers/random.js';

// Awkward shapes [M, N, K]: vectors on every side, and sizes that are no multiple of anything.
const SHAPES: [number, number, number][] = [
  [1, 7, 13],
  [13, 1, 7],
  [7, 13, 1],
  [1, 1, 1],
  [5, 6, 7],
  [17, 3, 11],
];

/** The logical M×K (or K×N) matrix as rows of numbers. */
function toMatrix(flat: ArrayLike<number>, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => flat[r * cols + c]));
}

function transposeFlat(flat: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols); // [cols, rows]
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = flat[r * cols + c];
  return out;
}

/** The textbook triple loop on logical matrices: C[m][n] = Σ_k A[m][k]·B[k][n]. */
function naiveMatmul(a: number[][], b: number[][]): number[][] {
  const M = a.length;
  const K = b.length;
  const N = b[0].length;
  const c: number[][] = [];
  for (let m = 0; m < M; m++) {
    c.push([]);
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += a[m][k] * b[k][n];
      c[m].push(sum);
    }
  }
  return c;
}

describe('matmulRef', () => {
  for (const [M, N, K] of SHAPES) {
    for (const transposeA of [false, true]) {
      for (const transposeB of [false, true]) {
        it(`${M}×${N}×${K}, transposeA=${transposeA}, transposeB=${transposeB}`, () => {
          const aLogical = randomArray(M * K, 1 + M + 10 * N + 100 * K); // [M, K]
          const bLogical = randomArray(K * N, 2 + M + 10 * N + 100 * K); // [K, N]
          const a = transposeA ? transposeFlat(aLogical, M, K) : aLogical; // stored [K, M] when transposed
          const b = transposeB ? transposeFlat(bLogical, K, N) : bLogical; // stored [N, K] when transposed
          const out = new Float64Array(M * N);
          matmulRef(a, b, out, { M, N, K, transposeA, transposeB });
          const expected = naiveMatmul(toMatrix(aLogical, M, K), toMatrix(bLogical, K, N)).flat();
          // Same products, same summation order in Float64: identical results.
          expect(Array.from(out)).toEqual(expected);
        });
      }
    }
  }

  it('accepts Float64Array inputs and overwrites out', () => {
    const a = Float64Array.from([1, 2, 3, 4]); // [2, 2]
    const b = Float64Array.from([5, 6, 7, 8]); // [2, 2]
    const out = new Float64Array(4).fill(99);
    matmulRef(a, b, out, { M: 2, N: 2, K: 2 });
    expect(Array.from(out)).toEqual([19, 22, 43, 50]);
  });

  const biasCases: [string, ActivationName | undefined][] = [
    ['bias', undefined],
    ['bias_relu', 'relu'],
    ['bias_sigmoid', 'sigmoid'],
    ['bias_tanh', 'tanh'],
    ['bias_leakyRelu', 'leakyRelu'],
    ['bias_gelu', 'gelu'],
  ];
  for (const [epilogue, kind] of biasCases) {
    it(`epilogue ${epilogue}: act(A·B + bias[col])`, () => {
      const [M, N, K] = [7, 13, 5];
      const a = randomArray(M * K, 11);
      const b = randomArray(K * N, 12);
      const bias = randomArray(N, 13);
      const product = naiveMatmul(toMatrix(a, M, K), toMatrix(b, K, N));
      const out = new Float64Array(M * N);
      const pre = new Float64Array(M * N);
      const activation = kind && refAct(kind);
      matmulRef(a, b, out, { M, N, K, bias, activation, preActivation: pre });
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          const z = product[m][n] + bias[n];
          expect(out[m * N + n]).toBe(activation ? activation.forward(z) : z);
          expect(pre[m * N + n]).toBe(z); // Z kept before the activation
        }
      }
    });
  }

  const maskCases: [string, ActivationName][] = [
    ['mask_relu', 'relu'],
    ['mask_sigmoid', 'sigmoid'],
    ['mask_tanh', 'tanh'],
    ['mask_leakyRelu', 'leakyRelu'],
    ['mask_gelu', 'gelu'],
  ];
  for (const [epilogue, kind] of maskCases) {
    it(`epilogue ${epilogue}: (A·Bᵀ) ⊙ act'(act)`, () => {
      const [M, N, K] = [13, 7, 3];
      const a = randomArray(M * K, 21);
      const b = randomArray(N * K, 22); // stored [N, K]
      const activation = refAct(kind);
      const act = Float64Array.from(randomArray(M * N, 23), (z) => activation.forward(z)); // what act' reads
      const product = naiveMatmul(toMatrix(a, M, K), toMatrix(transposeFlat(b, N, K), K, N));
      const out = new Float64Array(M * N);
      matmulRef(a, b, out, { M, N, K, transposeB: true, activation, mask: act });
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          expect(out[m * N + n]).toBe(product[m][n] * activation.grad(act[m * N + n]));
        }
      }
    });
  }

  it("mask_relu is 0 where the activation output is exactly 0 (relu'(0) = 0, seed 004's s > 0)", () => {
    const a = Float64Array.from([1, 2]); // [1, 2]
    const b = Float64Array.from([3, 4, 5, 6]); // [2, 2]
    const act = Float64Array.from([0, 0.5]); // [1, 2]
    const out = new Float64Array(2);
    matmulRef(a, b, out, { M: 1, N: 2, K: 2, activation: refAct('relu'), mask: act });
    expect(Array.from(out)).toEqual([0, 16]);
  });

  it('fails loudly on wrong shapes and missing epilogue inputs', () => {
    const out = new Float64Array(6);
    expect(() => matmulRef(new Float64Array(5), new Float64Array(6), out, { M: 2, N: 3, K: 2 })).toThrow(
      'a has length 5, expected 4 for shape [M, K]',
    );
    expect(() =>
      matmulRef(new Float64Array(4), new Float64Array(6), out, { M: 2, N: 3, K: 2, transposeB: true }),
    ).not.toThrow();
    expect(() =>
      matmulRef(new Float64Array(4), new Float64Array(6), out, { M: 2, N: 3, K: 2, mask: new Float64Array(6) }),
    ).toThrow('matmul: a mask needs the activation whose derivative it reads');
    expect(() =>
      matmulRef(new Float64Array(4), new Float64Array(6), out, {
        M: 2,
        N: 3,
        K: 2,
        activation: refAct('tanh'),
        mask: new Float64Array(6),
        bias: new Float64Array(3),
      }),
    ).toThrow('a mask (backward) cannot be combined with bias');
    expect(() =>
      matmulRef(new Float64Array(4), new Float64Array(6), out, {
        M: 2,
        N: 3,
        K: 2,
        activation: refAct('relu'),
        bias: new Float64Array(2),
      }),
    ).toThrow('bias has length 2, expected 3');
  });
});
