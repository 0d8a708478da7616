import { describe, expect, it } from 'vitest';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { type OptimizerHyper, type OptimizerKind, prepareOptimizer } from '../../src/kernels/optimizer.js';
import { adamRef, momentumRef, sgdRef } from '../../src/reference/optimizer.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();

// Each step rounds w (and the optimizer state) to f32, 2⁻²⁴ ≈ 6e-8 relative, and Adam's sqrt and divide add
// a few ulp of an lr-sized step: after STEPS steps of O(1) values the drift is a few 1e-7; 2e-6 leaves headroom,
// while a wrong formula (missing decay, bias correction or momentum) is off by ≥ 1e-3.
const STATE_TOL = { atol: 2e-6, rtol: 2e-6 };
const STEPS = 5;

interface Case {
  kind: OptimizerKind;
  count: number;
  decayCount: number;
  hyper: Omit<OptimizerHyper, 'step'>;
  maxWorkgroupsPerDimension?: number;
  /** t of the first of the STEPS updates (Adam's bias correction); default 1. */
  firstStep?: number;
}

async function check(c: Case, seed: number): Promise<void> {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const { kind, count, decayCount } = c;
  const w0 = randomArray(count, seed);
  const grads = Array.from({ length: STEPS }, (_, s) => {
    const g: Float32Array<ArrayBuffer> = new Float32Array(randomArray(count, seed + 1 + s));
    g[s % count] = 0; // an exact zero gradient: Adam's 0 / (0 + ε) must stay 0
    return g;
  });

  // Float64 reference
  const w = Float64Array.from(w0);
  const state1 = new Float64Array(count);
  const state2 = new Float64Array(count);
  const { lr, momentum = 0.9, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = c.hyper;
  const t0 = c.firstStep ?? 1;
  for (let s = 0; s < STEPS; s++) {
    const g = grads[s]!;
    if (kind === 'sgd') sgdRef(w, g, { lr, weightDecay, decayCount });
    else if (kind === 'momentum') momentumRef(w, g, state1, { lr, momentum, weightDecay, decayCount });
    else adamRef(w, g, state1, state2, { lr, beta1, beta2, eps, weightDecay, decayCount, step: t0 + s });
  }

  // GPU: one op, STEPS submits, the gradient rewritten and setHyper called before each
  const params = upload(ctx, 'test.W', w0);
  const gradBuf = emptyF32(ctx, 'test.G', count);
  const s1 = emptyF32(ctx, 'test.state1', count);
  const s2 = emptyF32(ctx, 'test.state2', count);
  const got = await withValidation(ctx, async () => {
    const op = await prepareOptimizer(ctx, scope, {
      kind,
      params,
      grads: gradBuf,
      velocity: s1,
      m: s1,
      v: s2,
      count,
      decayCount,
      maxWorkgroupsPerDimension: c.maxWorkgroupsPerDimension,
    });
    for (let s = 0; s < STEPS; s++) {
      ctx.device.queue.writeBuffer(gradBuf, 0, grads[s]!);
      op.setHyper({ ...c.hyper, step: t0 + s });
      submitOps(ctx, [op]);
    }
    return { w: await ctx.readF32(params), s1: await ctx.readF32(s1), s2: await ctx.readF32(s2) };
  });
  scope.destroy();
  const what = `${kind} count=${count} decayCount=${decayCount}`;
  expectClose(got.w, w, STATE_TOL, `${what} params`);
  if (kind !== 'sgd') expectClose(got.s1, state1, STATE_TOL, `${what} ${kind === 'adam' ? 'm' : 'velocity'}`);
  if (kind === 'adam') expectClose(got.s2, state2, STATE_TOL, `${what} v`);
}

describe('optimizer against the Float64 reference, several steps', () => {
  const hypers: Record<OptimizerKind, Omit<OptimizerHyper, 'step'>> = {
    sgd: { lr: 0.1, weightDecay: 0.05 },
    momentum: { lr: 0.05, momentum: 0.9, weightDecay: 0.01 },
    adam: { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.02 },
  };
  for (const kind of ['sgd', 'momentum', 'adam'] as const) {
    // Counts that are multiples of 4 take the vec4 path (VEC4), the others one f32 per element.
    it(`${kind}: weight decay on the first decayCount elements only, count 1, 13, 1000`, async () => {
      await check({ kind, count: 1, decayCount: 1, hyper: hypers[kind] }, 1);
      await check({ kind, count: 13, decayCount: 0, hyper: hypers[kind] }, 2);
      await check({ kind, count: 1000, decayCount: 784, hyper: hypers[kind] }, 3);
      await check({ kind, count: 1000, decayCount: 1000, hyper: { ...hypers[kind], weightDecay: 0 } }, 4);
      await check({ kind, count: 1000, decayCount: 785, hyper: hypers[kind] }, 7); // decay ends inside a vec4
      await check({ kind, count: 1001, decayCount: 785, hyper: hypers[kind] }, 8);
    });
    it(`${kind}: a 2D grid (limit forced to 4 workgroups per dimension, 5 workgroups → 3 × 2)`, async () => {
      // 1024 elements (f32 or vec4) per workgroup: 5001 f32 and 5000 vec4 both need 5
      await check({ kind, count: 5001, decayCount: 2000, hyper: hypers[kind], maxWorkgroupsPerDimension: 4 }, 5);
      await check({ kind, count: 20000, decayCount: 9999, hyper: hypers[kind], maxWorkgroupsPerDimension: 4 }, 9);
    });
  }

  it('Adam with non-default betas and a large step count', async () => {
    await check(
      {
        kind: 'adam',
        count: 257,
        decayCount: 100,
        hyper: { lr: 1e-3, beta1: 0.5, beta2: 0.9, eps: 1e-6 },
        firstStep: 1000,
      },
      6,
    );
  });

  it('refuses to encode before setHyper, and rejects bad hyperparameters and missing state', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 8);
    const op = await prepareOptimizer(ctx, scope, {
      kind: 'adam',
      params: buf,
      grads: buf,
      m: buf,
      v: buf,
      count: 8,
      decayCount: 4,
    });
    expect(() => submitOps(ctx, [op])).toThrow(/call setHyper/);
    expect(() => op.setHyper({ lr: 0.1, step: 0 })).toThrow('optimizer: step = 0, expected an integer ≥ 1');
    expect(() => op.setHyper({ lr: Number.NaN, step: 1 })).toThrow(/lr = NaN/);
    expect(() => op.setHyper({ lr: 0.1, beta2: 1, step: 1 })).toThrow(/beta2 = 1, expected a number in \[0, 1\)/);
    await expect(
      prepareOptimizer(ctx, scope, { kind: 'momentum', params: buf, grads: buf, count: 8, decayCount: 8 }),
    ).rejects.toThrow(/needs a velocity buffer/);
    await expect(
      prepareOptimizer(ctx, scope, { kind: 'sgd', params: buf, grads: buf, count: 8, decayCount: 9 }),
    ).rejects.toThrow('optimizer: decayCount = 9, expected an integer in 0..8');
    await expect(
      prepareOptimizer(ctx, scope, { kind: 'sgd', params: buf, grads: buf, count: 9, decayCount: 0 }),
    ).rejects.toThrow('optimizer: params binds 32 bytes, expected at least 36 for f32 [9]');
    scope.destroy();
  });
});
