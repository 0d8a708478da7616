/**
 * Times every op of a training step (the dispatches src/train/plan.ts and model.ts encode: gather,
 * forward matmuls with bias + ReLU, softmax_xent, metrics, dW = Aᵀ·dZ, db, dZ = dZ·Wᵀ ⊙ mask,
 * Adam) for MNIST-sized networks at B = 128, then whole steps, one submit each.
 *
 *   npx vitest run --config test/perf/vitest.config.ts
 *   PERF_KERNELS=tiled|direct   force GpuContext.kernelPreference (default: the adapter's)
 *   PERF_BASELINE=1             the kernels as they were before the direct variants: tiled matmul,
 *                               bias_grad and metrics, a workgroup per softmax_xent row, one f32 per
 *                               invocation in gather and the optimizer
 *   PERF_REPS=10                dispatches per op timing (the best of three runs is reported)
 *   PERF_ONLY=matmul|dW         time only the ops whose label matches this regular expression
 */

import { describe, it } from 'vitest';
import { GpuContext, type KernelPreference } from '../../src/gpu/context.js';
import { prepareBiasGrad } from '../../src/kernels/bias_grad.js';
import { GATHER, gatherCall, prepareGather } from '../../src/kernels/gather.js';
import { prepareMatmul } from '../../src/kernels/matmul.js';
import { prepareMetrics, STATS_BYTES } from '../../src/kernels/metrics.js';
import { type GpuOp, OpScope } from '../../src/kernels/op.js';
import { OPTIMIZER, optimizerCall, prepareOptimizer } from '../../src/kernels/optimizer.js';
import { prepareSoftmaxXent } from '../../src/kernels/softmax_xent.js';
import { paramLayout, slotBinding } from '../../src/model/layout.js';
import type { MlpSpec } from '../../src/model/spec.js';
import { hyperOf, optimizerDefinition, resolveOptimizer } from '../../src/optim/index.js';
import { kernelAct } from '../helpers/activations.js';
import { randomArray, randomInts } from '../helpers/random.js';

const B = 128;
const REPS = Number(process.env.PERF_REPS ?? 10);
const NETS = [
  [784, 512, 10],
  [784, 256, 10],
];
const DATA_ROWS = 1024;
const BASELINE = process.env.PERF_BASELINE === '1';

async function timeOps(ctx: GpuContext, ops: readonly GpuOp[], reps: number, perSubmit: boolean): Promise<number> {
  const run = () => {
    if (perSubmit) {
      for (let i = 0; i < reps; i++) {
        const encoder = ctx.device.createCommandEncoder();
        const pass = encoder.beginComputePass();
        for (const op of ops) op.encode(pass);
        pass.end();
        ctx.device.queue.submit([encoder.finish()]);
      }
    } else {
      const encoder = ctx.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      for (let i = 0; i < reps; i++) for (const op of ops) op.encode(pass);
      pass.end();
      ctx.device.queue.submit([encoder.finish()]);
    }
    return ctx.device.queue.onSubmittedWorkDone();
  };
  await run(); // warm-up: SwiftShader compiles on first use
  let best = Infinity; // the best of three: other processes share this machine's cores
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await run();
    best = Math.min(best, performance.now() - t0);
  }
  return best / reps;
}

function storage(ctx: GpuContext, label: string, bytes: number): GPUBuffer {
  return ctx.createBuffer(label, bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
}

async function stepOps(ctx: GpuContext, scope: OpScope, layers: number[]): Promise<GpuOp[]> {
  const spec: MlpSpec = { layers, activations: layers.slice(2).map(() => 'relu'), head: 'softmax' };
  const layout = paramLayout(spec);
  const L = layers.length - 1;
  const C = layers[L];
  const params = ctx.createBufferWith(
    'params',
    randomArray(layout.totalFloats, 1, 0.05),
    GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  );
  const grads = storage(ctx, 'grads', layout.totalFloats * 4);
  const m = storage(ctx, 'adam.m', layout.totalFloats * 4);
  const v = storage(ctx, 'adam.v', layout.totalFloats * 4);
  const x = storage(ctx, 'x', B * layers[0] * 4);
  const labels = storage(ctx, 'labels', B * 4);
  const outs = layers.slice(1).map((n, l) => storage(ctx, `out${l}`, B * n * 4));
  const dz = layers.slice(1).map((n, l) => storage(ctx, `dz${l}`, B * n * 4));
  const lossRows = storage(ctx, 'loss', B * 4);
  const correctRows = storage(ctx, 'correct', B * 4);
  const stats = storage(ctx, 'stats', STATS_BYTES);
  const bytes = new Uint8Array(DATA_ROWS * layers[0]).map((_, i) => (i * 37) & 255);
  const images = ctx.createBufferWith('images', bytes, GPUBufferUsage.STORAGE);
  const dataLabels = ctx.createBufferWith('dataLabels', randomInts(DATA_ROWS, 2, C), GPUBufferUsage.STORAGE);
  const indices = ctx.createBufferWith('indices', randomInts(DATA_ROWS, 3, DATA_ROWS), GPUBufferUsage.STORAGE);
  const input = (l: number) => (l === 0 ? x : outs[l - 1]);

  const ops: GpuOp[] = [];
  if (BASELINE) {
    // one pixel per invocation, as before the WORDS path
    const args = {
      source: 'u8' as const,
      images,
      labels: dataLabels,
      indices,
      rows: B,
      cols: layers[0],
      n: DATA_ROWS,
      scale: 1 / 255,
      x,
      y: labels,
    };
    const call = gatherCall(args, ctx, 'gather (one pixel per invocation)');
    ops.push(
      await GATHER.prepare(ctx, scope, {
        ...call,
        flags: { ...call.flags, WORDS: false },
        workgroups: [Math.ceil((B * layers[0]) / 256)],
      }),
    );
  } else {
    const gather = await prepareGather(ctx, scope, {
      source: 'u8',
      images,
      labels: dataLabels,
      indices,
      rows: B,
      cols: layers[0],
      n: DATA_ROWS,
      scale: 1 / 255,
      x,
      y: labels,
    });
    ops.push(gather);
  }
  for (let l = 0; l < L; l++) {
    const epilogue = l < L - 1 ? 'bias_relu' : 'bias';
    const activation = l < L - 1 ? kernelAct('relu') : undefined;
    const op = await prepareMatmul(
      ctx,
      scope,
      {
        a: input(l),
        b: slotBinding(params, layout.weights[l]),
        bias: slotBinding(params, layout.biases[l]),
        out: outs[l],
        M: B,
        K: layers[l],
        N: layers[l + 1],
        activation,
      },
      `forward${l} [${B}×${layers[l]}]·[${layers[l]}×${layers[l + 1]}] ${epilogue}`,
    );
    ops.push(op);
  }
  const common = { logits: outs[L - 1], rows: B, cols: C, batchSize: B, gradLogits: dz[L - 1], lossRows, correctRows };
  const rowVariant = BASELINE ? 'workgroup' : undefined;
  ops.push(await prepareSoftmaxXent(ctx, scope, { ...common, labels, variant: rowVariant }, `softmax_xent ${B}×${C}`));
  ops.push(await prepareMetrics(ctx, scope, { lossRows, correctRows, rows: B, batchSize: B, stats }, `metrics`));
  for (let l = L - 1; l >= 0; l--) {
    const [nIn, nOut] = [layers[l], layers[l + 1]];
    ops.push(
      await prepareMatmul(
        ctx,
        scope,
        {
          a: input(l),
          b: dz[l],
          out: slotBinding(grads, layout.weights[l]),
          M: nIn,
          K: B,
          N: nOut,
          transposeA: true,
        },
        `dW${l} [${nIn}×${B}]·[${B}×${nOut}]`,
      ),
    );
    ops.push(
      await prepareBiasGrad(
        ctx,
        scope,
        { grad: dz[l], rows: B, cols: nOut, out: slotBinding(grads, layout.biases[l]) },
        `db${l} ${B}×${nOut}`,
      ),
    );
    if (l === 0) continue;
    ops.push(
      await prepareMatmul(
        ctx,
        scope,
        {
          a: dz[l],
          b: slotBinding(params, layout.weights[l]),
          out: dz[l - 1],
          M: B,
          K: nOut,
          N: nIn,
          transposeB: true,
          activation: kernelAct('relu'),
          mask: input(l),
        },
        `dZ${l - 1} [${B}×${nOut}]·[${nOut}×${nIn}]ᵀ mask_relu`,
      ),
    );
  }
  const adam = optimizerDefinition('adam');
  const hyper = adam.uniform(hyperOf(resolveOptimizer({ kind: 'adam', learningRate: 1e-4 })), 1);
  const updateArgs = {
    update: adam.module,
    params,
    grads,
    state: { m, v },
    count: layout.totalFloats,
    decayCount: layout.decayCount,
  };
  if (BASELINE) {
    // one f32 per invocation, as before the VEC4 path
    const call = optimizerCall(updateArgs, hyper, ctx, `adam ${layout.totalFloats} (one f32 per invocation)`);
    ops.push(
      await OPTIMIZER.prepare(ctx, scope, {
        ...call,
        flags: { VEC4: false },
        constants: { WG: 256, PER: 1 },
        uniforms: { dims: { count: layout.totalFloats, decay_count: layout.decayCount }, hyper },
        workgroups: [Math.ceil(layout.totalFloats / 256)],
      }),
    );
    return ops;
  }
  const update = await prepareOptimizer(ctx, scope, updateArgs, hyper, `adam ${layout.totalFloats}`);
  update.setHyper(hyper);
  ops.push(update);
  return ops;
}

async function tinyOps(ctx: GpuContext, scope: OpScope): Promise<GpuOp[]> {
  const a = storage(ctx, 'tiny.a', 200 * 2 * 4);
  const b = storage(ctx, 'tiny.b', 2 * 32 * 4);
  const c = storage(ctx, 'tiny.c', 200 * 32 * 4);
  const z = storage(ctx, 'tiny.z', 200 * 2 * 4);
  const labels = storage(ctx, 'tiny.labels', 200 * 4);
  const dz = storage(ctx, 'tiny.dz', 200 * 2 * 4);
  const loss = storage(ctx, 'tiny.loss', 200 * 4);
  const correct = storage(ctx, 'tiny.correct', 200 * 4);
  return [
    await prepareMatmul(ctx, scope, { a, b, out: c, M: 200, N: 32, K: 2 }, 'matmul [200×2]·[2×32]'),
    await prepareSoftmaxXent(
      ctx,
      scope,
      {
        variant: BASELINE ? 'workgroup' : undefined,
        logits: z,
        rows: 200,
        cols: 2,
        batchSize: 200,
        labels,
        gradLogits: dz,
        lossRows: loss,
        correctRows: correct,
      },
      'softmax_xent 200×2',
    ),
  ];
}

describe('training-step timings', () => {
  it('per op and per step', async () => {
    const pref = BASELINE ? 'tiled' : (process.env.PERF_KERNELS as KernelPreference | undefined);
    const ctx = await GpuContext.create({ label: 'perf', kernelPreference: pref });
    const lines: string[] = [`adapter: ${JSON.stringify(ctx.adapter)}  kernels: ${ctx.kernelPreference}`];
    const scope = new OpScope(ctx);
    try {
      for (const op of await tinyOps(ctx, scope)) {
        if (process.env.PERF_ONLY && !new RegExp(process.env.PERF_ONLY).test(op.label)) continue;
        lines.push(`  ${(await timeOps(ctx, [op], REPS, false)).toFixed(2).padStart(9)} ms  ${op.label}`);
      }
      for (const layers of NETS) {
        const ops = await stepOps(ctx, scope, layers);
        lines.push(`[${layers.join(', ')}] B=${B}`);
        let sum = 0;
        for (const op of ops) {
          if (process.env.PERF_ONLY && !new RegExp(process.env.PERF_ONLY).test(op.label)) continue;
          const ms = await timeOps(ctx, [op], REPS, false);
          sum += ms;
          lines.push(`  ${ms.toFixed(2).padStart(9)} ms  ${op.label}`);
        }
        if (process.env.PERF_ONLY) continue;
        const step = await timeOps(ctx, ops, Math.max(3, Math.ceil(REPS / 2)), true);
        lines.push(`  ${sum.toFixed(2).padStart(9)} ms  sum of ops`);
        lines.push(
          `  ${step.toFixed(2).padStart(9)} ms  whole step (one submit) = ${((B * 1000) / step).toFixed(0)} samples/s`,
        );
      }
    } finally {
      scope.destroy();
      ctx.destroy();
    }
    console.log(lines.join('\n'));
  });
});
