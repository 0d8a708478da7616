/**
 * Memory-bound figures: the fused softmax + cross-entropy, the activation forward and backward, and
 * the optimizer updates. GB/s counts the bytes each kernel must read and write once (its inputs and
 * outputs, no re-reads): a kernel that moves more than that shows as a lower figure.
 */
import { prepareActivation } from '../kernels/activation.js';
import { type OptimizerKind, prepareOptimizer } from '../kernels/optimizer.js';
import { prepareSoftmaxXent } from '../kernels/softmax_xent.js';
import { activationBackwardRef, activationForwardRef } from '../reference/activation.js';
import { correctRowsRef } from '../reference/argmax.js';
import { adamRef, momentumRef, sgdRef } from '../reference/optimizer.js';
import { softmaxXentRef } from '../reference/softmax_xent.js';
import { type KernelCase, uploadTo } from './case.js';
import { CheckBuilder, randomF32, randomU32, sampleIndices, seedOf, type Tolerance } from './verify.js';

/** Outputs up to this many elements are checked in full; larger ones at sampled rows or elements. */
export const FULL_CHECK_ELEMENTS = 2 ** 22;
const SAMPLED = 4096;

// Tolerances as in test/kernels/*: dZ = (p − y)/B is good to a few ulps of p, so 1e-6/B absolute;
// the loss is one f32 log and subtraction; ReLU is exact; the optimizers are a few f32 operations.
const gradTol = (batchSize: number): Tolerance => ({ atol: 1e-6 / batchSize, rtol: 1e-5 });
const LOSS_TOL: Tolerance = { atol: 1e-5, rtol: 1e-6 };
const EXACT: Tolerance = { atol: 0, rtol: 0 };
const STATE_TOL: Tolerance = { atol: 2e-6, rtol: 2e-6 };

/** softmax_xent over logits [rows, cols] with class labels: reads Z and labels, writes dZ, loss and correct rows. */
export function softmaxXentCase(rows: number, cols: number): KernelCase {
  const name = `softmax_xent ${rows}×${cols}`;
  return {
    suite: 'softmax_xent',
    name,
    params: { rows, cols },
    unit: 'GB/s',
    work: 4 * (2 * rows * cols + 3 * rows),
    bindings: { logits: rows * cols * 4, gradLogits: rows * cols * 4, labels: rows * 4 },
    async prepare(ctx, scope) {
      const seed = seedOf(name);
      const z = randomF32(rows * cols, seed, -4, 4);
      const labels = randomU32(rows, seed + 1, cols);
      const gradLogits = scope.storage(`${name}.dZ`, rows * cols * 4);
      const lossRows = scope.storage(`${name}.loss`, rows * 4);
      const correctRows = scope.storage(`${name}.correct`, rows * 4);
      const op = await prepareSoftmaxXent(
        ctx,
        scope,
        {
          logits: uploadTo(ctx, scope, `${name}.Z`, z),
          rows,
          cols,
          batchSize: rows,
          labels: uploadTo(ctx, scope, `${name}.labels`, labels),
          gradLogits,
          lossRows,
          correctRows,
        },
        name,
      );
      return {
        ops: [op],
        async verify() {
          const [dz, loss, correct] = await Promise.all([
            ctx.readF32(gradLogits, 0, rows * cols),
            ctx.readF32(lossRows, 0, rows),
            ctx.read(correctRows, 0, rows * 4).then((b) => new Uint32Array(b)),
          ]);
          const full = rows * cols <= FULL_CHECK_ELEMENTS;
          const picked = full ? sampleIndices(rows, rows, 0) : sampleIndices(rows, SAMPLED / 4, seed + 2);
          const refGrad = new Float64Array(rows * cols);
          const refLoss = new Float64Array(rows);
          const refCorrect = new Uint32Array(rows);
          const gradIndices: number[] = [];
          if (full) {
            softmaxXentRef(z, rows, cols, { kind: 'labels', labels }, refGrad, refLoss, rows);
            correctRowsRef(z, rows, cols, { kind: 'labels', labels }, 'softmax', refCorrect);
          } else {
            // Each sampled row alone: the reference on a one-row slice, with the batch's divisor.
            for (const r of picked) {
              const zr = z.subarray(r * cols, (r + 1) * cols);
              const target = { kind: 'labels', labels: labels.subarray(r, r + 1) } as const;
              const g = new Float64Array(cols);
              const l = new Float64Array(1);
              const c = new Uint32Array(1);
              softmaxXentRef(zr, 1, cols, target, g, l, rows);
              correctRowsRef(zr, 1, cols, target, 'softmax', c);
              refGrad.set(g, r * cols);
              refLoss[r] = l[0];
              refCorrect[r] = c[0];
            }
          }
          if (!full) for (const r of picked) for (let c = 0; c < cols; c++) gradIndices.push(r * cols + c);
          const rule = `dZ: |gpu − ref| ≤ ${1e-6 / rows} + 1e-5·|ref|; loss: 1e-5 + 1e-6·|ref|; correct: exact`;
          return new CheckBuilder(full ? 'full' : 'sampled', 'abs', rule)
            .abs('dZ', dz, refGrad, gradTol(rows), full ? undefined : gradIndices)
            .abs('loss', loss, refLoss, LOSS_TOL, full ? undefined : picked)
            .abs('correct', correct, refCorrect, EXACT, full ? undefined : picked)
            .result();
        },
      };
    },
  };
}

/** ReLU forward (reads Z, writes A) or backward (reads A and dA, writes dZ) over `count` elements. */
export function activationCase(direction: 'forward' | 'backward', count: number): KernelCase {
  const name = `relu ${direction} ${count}`;
  const arrays = direction === 'forward' ? 2 : 3;
  return {
    suite: 'activation',
    name,
    params: { kind: 'relu', direction, count },
    unit: 'GB/s',
    work: 4 * arrays * count,
    bindings: { input: count * 4, output: count * 4 },
    async prepare(ctx, scope) {
      const seed = seedOf(name);
      const output = scope.storage(`${name}.out`, count * 4);
      // forward: Z uniform in [−1, 1]; backward: A = ReLU of such values (half exactly 0), dA uniform.
      const first = randomF32(count, seed);
      if (direction === 'backward') for (let i = 0; i < count; i++) first[i] = Math.max(first[i], 0);
      const grad = direction === 'backward' ? randomF32(count, seed + 1) : undefined;
      const input = uploadTo(ctx, scope, `${name}.in`, first);
      const op = await prepareActivation(
        ctx,
        scope,
        grad
          ? {
              kind: 'relu',
              direction: 'backward',
              count,
              activationOutput: input,
              grad: uploadTo(ctx, scope, `${name}.grad`, grad),
              output,
            }
          : { kind: 'relu', direction: 'forward', count, input, output },
        name,
      );
      return {
        ops: [op],
        async verify() {
          const got = await ctx.readF32(output, 0, count);
          const full = count <= FULL_CHECK_ELEMENTS;
          const ref = new Float64Array(count);
          const indices = full ? undefined : sampleIndices(count, SAMPLED, seed + 2);
          if (full && grad) activationBackwardRef('relu', first, grad, ref);
          else if (full) activationForwardRef('relu', first, ref);
          else {
            const one = new Float64Array(1);
            for (const i of indices ?? []) {
              if (grad) activationBackwardRef('relu', [first[i]], [grad[i]], one);
              else activationForwardRef('relu', [first[i]], one);
              ref[i] = one[0];
            }
          }
          return new CheckBuilder(full ? 'full' : 'sampled', 'abs', 'exact (ReLU)')
            .abs(direction === 'forward' ? 'A' : 'dZ', got, ref, EXACT, indices)
            .result();
        },
      };
    },
  };
}

/** Bytes an update of `count` parameters must move: SGD reads W, G and writes W; momentum adds v; Adam m and v. */
export function optimizerBytes(kind: OptimizerKind, count: number): number {
  const arrays = kind === 'sgd' ? 3 : kind === 'momentum' ? 5 : 7;
  return 4 * arrays * count;
}

/** One in-place optimizer update of `count` parameters (with L2 decay on the first 90%). */
export function optimizerCase(kind: OptimizerKind, count: number, origin: string): KernelCase {
  const name = `${kind} ${count}${origin ? ` (${origin})` : ''}`;
  const bindings: Record<string, number> = { params: count * 4, grads: count * 4 };
  if (kind !== 'sgd') bindings.state = count * 4;
  return {
    suite: 'optimizer',
    name,
    params: { kind, count, origin },
    unit: 'GB/s',
    work: optimizerBytes(kind, count),
    bindings,
    async prepare(ctx, scope) {
      const seed = seedOf(name);
      const w = randomF32(count, seed, -0.1, 0.1);
      const g = randomF32(count, seed + 1, -0.01, 0.01);
      const s1 = kind === 'sgd' ? undefined : randomF32(count, seed + 2, -0.01, 0.01); // velocity or m
      const s2 = kind === 'adam' ? randomF32(count, seed + 3, 0, 1e-4) : undefined; // v ≥ 0
      const decayCount = Math.floor(count * 0.9);
      const hyper = { lr: 0.01, momentum: 0.9, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-4, step: 3 };
      const params = uploadTo(ctx, scope, `${name}.params`, w);
      const state1 = s1 ? uploadTo(ctx, scope, `${name}.state1`, s1) : undefined;
      const state2 = s2 ? uploadTo(ctx, scope, `${name}.state2`, s2) : undefined;
      const op = await prepareOptimizer(
        ctx,
        scope,
        {
          kind,
          params,
          grads: uploadTo(ctx, scope, `${name}.grads`, g),
          velocity: kind === 'momentum' ? state1 : undefined,
          m: kind === 'adam' ? state1 : undefined,
          v: state2,
          count,
          decayCount,
        },
        name,
      );
      op.setHyper(hyper);
      return {
        ops: [op],
        async verify() {
          const got = await ctx.readF32(params, 0, count);
          const full = count <= FULL_CHECK_ELEMENTS;
          const indices = full ? undefined : sampleIndices(count, SAMPLED, seed + 4);
          const ref = new Float64Array(count);
          const update = (p: Float64Array, gr: ArrayLike<number>, v1: Float64Array, v2: Float64Array, dc: number) => {
            const common = { lr: hyper.lr, weightDecay: hyper.weightDecay, decayCount: dc };
            if (kind === 'sgd') sgdRef(p, gr, common);
            else if (kind === 'momentum') momentumRef(p, gr, v1, { ...common, momentum: hyper.momentum });
            else adamRef(p, gr, v1, v2, { ...common, beta1: hyper.beta1, beta2: hyper.beta2, eps: hyper.eps, step: 3 });
          };
          if (full) {
            ref.set(w);
            update(ref, g, Float64Array.from(s1 ?? []), Float64Array.from(s2 ?? []), decayCount);
          } else {
            for (const i of indices ?? []) {
              const p = Float64Array.of(w[i]);
              update(p, [g[i]], Float64Array.of(s1?.[i] ?? 0), Float64Array.of(s2?.[i] ?? 0), i < decayCount ? 1 : 0);
              ref[i] = p[0];
            }
          }
          return new CheckBuilder(full ? 'full' : 'sampled', 'abs', '|gpu − ref| ≤ 2e-6 + 2e-6·|ref|')
            .abs('W', got, ref, STATE_TOL, indices)
            .result();
        },
      };
    },
  };
}
