/**
 * Memory-bound figures: the fused softmax + cross-entropy, the activation forward and backward, and
 * the optimizer updates. GB/s counts the bytes each kernel must read and write once (its inputs and
 * outputs, no re-reads): a kernel that moves more than that shows as a lower figure.
 */
import { prepareActivation } from '../src/kernels/activation.js';
import { prepareOptimizer } from '../src/kernels/optimizer.js';
import { prepareSoftmaxXent } from '../src/kernels/softmax_xent.js';
import { kernelActivation, scalarActivation } from '../src/model/activations/definition.js';
import { relu } from '../src/model/activations/relu.js';
import { hyperOf, type OptimizerKind, optimizerDefinition, resolveOptimizer } from '../src/optim/index.js';
import { activationBackwardRef, activationForwardRef } from '../src/reference/activation.js';
import { correctRowsRef } from '../src/reference/argmax.js';
import { softmaxXentRef } from '../src/reference/softmax_xent.js';
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
      const activation = kernelActivation({ definition: relu, params: {} });
      const op = await prepareActivation(
        ctx,
        scope,
        grad
          ? {
              activation,
              direction: 'backward',
              count,
              values: input,
              grad: uploadTo(ctx, scope, `${name}.grad`, grad),
              output,
            }
          : { activation, direction: 'forward', count, input, output },
        name,
      );
      return {
        ops: [op],
        async verify() {
          const got = await ctx.readF32(output, 0, count);
          const full = count <= FULL_CHECK_ELEMENTS;
          const ref = new Float64Array(count);
          const indices = full ? undefined : sampleIndices(count, SAMPLED, seed + 2);
          const act = scalarActivation({ definition: relu, params: {} });
          if (full && grad) activationBackwardRef(act, first, grad, ref);
          else if (full) activationForwardRef(act, first, ref);
          else {
            const one = new Float64Array(1);
            for (const i of indices ?? []) {
              if (grad) activationBackwardRef(act, [first[i]], [grad[i]], one);
              else activationForwardRef(act, [first[i]], one);
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

/** Bytes an update of `count` parameters must move: W and G read, W written, and each state tensor read and written. */
export function optimizerBytes(kind: OptimizerKind, count: number): number {
  return 4 * (3 + 2 * optimizerDefinition(kind).state.length) * count;
}

/** One in-place optimizer update of `count` parameters (with weight decay on the first 90%), by its definition. */
export function optimizerCase(kind: OptimizerKind, count: number, origin: string): KernelCase {
  const name = `${kind} ${count}${origin ? ` (${origin})` : ''}`;
  const def = optimizerDefinition(kind);
  const bindings: Record<string, number> = { params: count * 4, grads: count * 4 };
  for (const n of def.state) bindings[n] = count * 4;
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
      // State: velocity or m in ±0.01, Adam's v ≥ 0 (the second moment).
      const state = def.state.map((n, i) =>
        n === 'v' ? randomF32(count, seed + 2 + i, 0, 1e-4) : randomF32(count, seed + 2 + i, -0.01, 0.01),
      );
      const decayCount = Math.floor(count * 0.9);
      const settings = resolveOptimizer({ kind, learningRate: 0.01, weightDecay: 1e-4 });
      const step = 3;
      const params = uploadTo(ctx, scope, `${name}.params`, w);
      const stateBuffers = Object.fromEntries(
        def.state.map((n, i) => [n, uploadTo(ctx, scope, `${name}.${n}`, state[i])]),
      );
      const uniform = def.uniform(hyperOf(settings), step);
      const op = await prepareOptimizer(
        ctx,
        scope,
        {
          update: def.module,
          params,
          grads: uploadTo(ctx, scope, `${name}.grads`, g),
          state: stateBuffers,
          count,
          decayCount,
        },
        uniform,
        name,
      );
      op.setHyper(uniform);
      return {
        ops: [op],
        async verify() {
          const got = await ctx.readF32(params, 0, count);
          const full = count <= FULL_CHECK_ELEMENTS;
          const indices = full ? undefined : sampleIndices(count, SAMPLED, seed + 4);
          const ref = new Float64Array(count);
          if (full) {
            ref.set(w);
            def.updateRef(
              ref,
              g,
              state.map((s) => Float64Array.from(s)),
              hyperOf(settings),
              step,
              decayCount,
            );
          } else {
            for (const i of indices ?? []) {
              const p = Float64Array.of(w[i]);
              const s = state.map((t) => Float64Array.of(t[i]));
              def.updateRef(p, [g[i]], s, hyperOf(settings), step, i < decayCount ? 1 : 0);
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
