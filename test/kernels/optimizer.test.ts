/**
 * The optimizer kernel with each optimizer's update module, against the definition's Float64 update:
 * several steps from the same weights, gradients and state, the parameters and every state tensor
 * compared — Adam's second moment v at a relative precision that sees a 1 − β2 rounded to f32.
 */
import { describe, expect, it } from 'vitest';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { OPTIMIZER_SMALL, OPTIMIZER_SMALL_WG, prepareOptimizer } from '../../src/kernels/optimizer.js';
import {
  hyperOf,
  OPTIMIZERS,
  type OptimizerConfig,
  type OptimizerKind,
  optimizerDefinition,
  resolveOptimizer,
} from '../../src/optim/index.js';
import { expectClose, type Tolerance } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();

// Each step rounds w (and the optimizer state) to f32, 2⁻²⁴ ≈ 6e-8 relative, and Adam's sqrt and divide add
// a few ulp of an lr-sized step: after STEPS steps of O(1) values the drift is a few 1e-7; 2e-6 leaves headroom,
// while a wrong formula (missing decay, bias correction or momentum) is off by ≥ 1e-3.
const STATE_TOL = { atol: 2e-6, rtol: 2e-6 };
// Adam's v = β2·v + (1 − β2)·g² is a few f32 roundings of a positive sum (no cancellation, unlike m), ≈ 3e-7
// relative; 1e-6 relative
// (and no absolute slack: v is tiny) still fails a 1 − β2 computed in f32 from an f32 β2, which scales v by
// 1.3e-5 (β2 = 0.999), 1.7e-4 (0.9999) and 1.4e-3 (0.99999) relative (half that in the update, through √v).
const MOMENT_TOL = { atol: 1e-30, rtol: 1e-6 };
const STEPS = 5;

interface Case {
  config: OptimizerConfig;
  count: number;
  decayCount: number;
  maxWorkgroupsPerDimension?: number;
  /** t of the first of the STEPS updates (Adam's bias correction); default 1. */
  firstStep?: number;
  /** Tolerance per state tensor, by name (default STATE_TOL). */
  stateTol?: Record<string, Tolerance>;
}

async function check(c: Case, seed: number): Promise<void> {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const { count, decayCount } = c;
  const settings = resolveOptimizer(c.config);
  const def = optimizerDefinition(settings.kind);
  const hyper = hyperOf(settings);
  const w0 = randomArray(count, seed);
  const grads = Array.from({ length: STEPS }, (_, s) => {
    const g: Float32Array<ArrayBuffer> = new Float32Array(randomArray(count, seed + 1 + s));
    g[s % count] = 0; // an exact zero gradient: Adam's 0 / (0 + ε) must stay 0
    return g;
  });

  // Float64 reference: the definition's update
  const w = Float64Array.from(w0);
  const state = def.state.map(() => new Float64Array(count));
  const t0 = c.firstStep ?? 1;
  for (let s = 0; s < STEPS; s++) def.updateRef(w, grads[s]!, state, hyper, t0 + s, decayCount);

  // GPU: one op with the definition's module, STEPS submits, the gradient rewritten and the uniform set before each
  const params = upload(ctx, 'test.W', w0);
  const gradBuf = emptyF32(ctx, 'test.G', count);
  const stateBufs = def.state.map((n) => emptyF32(ctx, `test.${n}`, count));
  const got = await withValidation(ctx, async () => {
    const op = await prepareOptimizer(
      ctx,
      scope,
      {
        update: def.module,
        params,
        grads: gradBuf,
        state: Object.fromEntries(def.state.map((n, i) => [n, stateBufs[i]!])),
        count,
        decayCount,
        maxWorkgroupsPerDimension: c.maxWorkgroupsPerDimension,
      },
      def.uniform(hyper, t0),
    );
    for (let s = 0; s < STEPS; s++) {
      ctx.device.queue.writeBuffer(gradBuf, 0, grads[s]!);
      op.setHyper(def.uniform(hyper, t0 + s));
      submitOps(ctx, [op]);
    }
    return { w: await ctx.readF32(params), state: await Promise.all(stateBufs.map((b) => ctx.readF32(b))) };
  });
  scope.destroy();
  const what = `${settings.kind} count=${count} decayCount=${decayCount}`;
  expectClose(got.w, w, STATE_TOL, `${what} params`);
  def.state.forEach((n, i) => {
    expectClose(got.state[i]!, state[i]!, c.stateTol?.[n] ?? STATE_TOL, `${what} ${n}`);
  });
}

describe('optimizer against the Float64 reference, several steps', () => {
  const configs: Record<OptimizerKind, OptimizerConfig> = {
    sgd: { kind: 'sgd', learningRate: 0.1, weightDecay: 0.05 },
    momentum: { kind: 'momentum', learningRate: 0.05, momentum: 0.9, weightDecay: 0.01 },
    adam: { kind: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.02 },
    adamw: { kind: 'adamw', learningRate: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 },
    rmsprop: { kind: 'rmsprop', learningRate: 0.01, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 0.05 },
  };
  for (const kind of OPTIMIZERS) {
    // Counts that are multiples of 4 take the vec4 path (VEC4), the others one f32 per element.
    it(`${kind}: weight decay on the first decayCount elements only, count 1, 13, 1000`, async () => {
      const config = configs[kind];
      await check({ config, count: 1, decayCount: 1 }, 1);
      await check({ config, count: 13, decayCount: 0 }, 2);
      await check({ config, count: 1000, decayCount: 784 }, 3);
      await check({ config: { ...config, weightDecay: 0 }, count: 1000, decayCount: 1000 }, 4);
      await check({ config, count: 1000, decayCount: 785 }, 7); // decay ends inside a vec4
      await check({ config, count: 1001, decayCount: 785 }, 8);
    });
    it(`${kind}: a 2D grid (limit forced to 4 workgroups per dimension, 5 workgroups → 3 × 2)`, async () => {
      // 1024 elements (f32 or vec4) per workgroup: 5001 f32 and 5000 vec4 both need 5
      await check({ config: configs[kind], count: 5001, decayCount: 2000, maxWorkgroupsPerDimension: 4 }, 5);
      await check({ config: configs[kind], count: 20000, decayCount: 9999, maxWorkgroupsPerDimension: 4 }, 9);
    });
    it(`${kind}: a small update's workgroups of ${OPTIMIZER_SMALL_WG} (${OPTIMIZER_SMALL - 1} elements: 16 workgroups → 4 × 4; 1,703 as [13,100,3])`, async () => {
      await check(
        { config: configs[kind], count: OPTIMIZER_SMALL - 1, decayCount: 1300, maxWorkgroupsPerDimension: 4 },
        10,
      );
      await check({ config: configs[kind], count: 1703, decayCount: 1300 }, 11);
    });
  }

  it('Adam with non-default betas and a large step count', async () => {
    await check(
      {
        config: { kind: 'adam', learningRate: 1e-3, beta1: 0.5, beta2: 0.9, eps: 1e-6 },
        count: 257,
        decayCount: 100,
        firstStep: 1000,
      },
      6,
    );
  });

  // 1 − β in double precision on the CPU (issue: the kernel once computed it in f32 from an f32 β).
  for (const beta2 of [0.999, 0.9999, 0.99999]) {
    it(`Adam's second moment v to 1e-6 relative with β2 = ${beta2} (1 − β2 from the CPU, in double)`, async () => {
      for (const kind of ['adam', 'adamw'] as const) {
        await check(
          {
            config: { kind, learningRate: 1e-3, beta2, weightDecay: 0 },
            count: 1000,
            decayCount: 784,
            stateTol: { v: MOMENT_TOL },
          },
          11,
        );
      }
    });
  }

  it('AdamW decays the weights by 1 − lr·wd, decoupled from the moments (torch.optim.AdamW)', () => {
    const def = optimizerDefinition('adamw');
    const settings = resolveOptimizer({ kind: 'adamw', learningRate: 0.1, weightDecay: 0.5 });
    // A zero gradient: Adam's step is 0 / (0 + ε) = 0, so only the decay moves w — the weights, not the biases.
    const w = Float64Array.of(2, -4, 8);
    def.updateRef(w, [0, 0, 0], [new Float64Array(3), new Float64Array(3)], hyperOf(settings), 1, 2);
    expect(Array.from(w)).toEqual([2 * 0.95, -4 * 0.95, 8]);
    expect(def.uniform(hyperOf(settings), 1)).toMatchObject({ weight_decay: 0, decay: 1 - 0.1 * 0.5 });
    expect(settings.weightDecay).toBe(0.5);
    expect(resolveOptimizer({ kind: 'adamw' }).weightDecay).toBe(0.01); // torch's default
  });

  it('refuses to encode before setHyper, and rejects bad hyperparameters and missing state', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 8);
    const adam = optimizerDefinition('adam');
    const hyper = adam.uniform(hyperOf(resolveOptimizer({ kind: 'adam' })), 1);
    const op = await prepareOptimizer(
      ctx,
      scope,
      { update: adam.module, params: buf, grads: buf, state: { m: buf, v: buf }, count: 8, decayCount: 4 },
      hyper,
    );
    expect(() => submitOps(ctx, [op])).toThrow(/call setHyper/);
    // Step 0 has no bias correction: 1/(1 − β^0) is infinite, and the uniform refuses it.
    expect(() => op.setHyper(adam.uniform(hyperOf(resolveOptimizer({ kind: 'adam' })), 0))).toThrow(
      'optimizer: hyper.k1 = Infinity, expected a finite number',
    );
    expect(() => resolveOptimizer({ kind: 'adam', learningRate: Number.NaN })).toThrow(/learningRate = NaN/);
    expect(() => resolveOptimizer({ kind: 'adam', beta2: 1 })).toThrow(
      /beta2 = 1 is invalid: expected a finite number in \[0, 1\)/,
    );
    expect(() => resolveOptimizer({ kind: 'momentum', momentum: 1 })).toThrow(/momentum = 1 is invalid/);
    const momentum = optimizerDefinition('momentum');
    await expect(
      prepareOptimizer(
        ctx,
        scope,
        { update: momentum.module, params: buf, grads: buf, state: {}, count: 8, decayCount: 8 },
        momentum.uniform(hyperOf(resolveOptimizer({ kind: 'momentum' })), 1),
      ),
    ).rejects.toThrow(/binding velocity is used by entry point optimizer but not given/);
    const sgd = optimizerDefinition('sgd');
    const sgdHyper = sgd.uniform(hyperOf(resolveOptimizer({ kind: 'sgd' })), 1);
    await expect(
      prepareOptimizer(
        ctx,
        scope,
        { update: sgd.module, params: buf, grads: buf, state: {}, count: 8, decayCount: 9 },
        sgdHyper,
      ),
    ).rejects.toThrow('optimizer: decayCount = 9, expected an integer in 0..8');
    await expect(
      prepareOptimizer(
        ctx,
        scope,
        { update: sgd.module, params: buf, grads: buf, state: {}, count: 9, decayCount: 0 },
        sgdHyper,
      ),
    ).rejects.toThrow('optimizer: params binds 32 bytes, expected at least 36 for f32 [9]');
    scope.destroy();
  });
});
