/**
 * Whole training steps on the GPU and in the Float64 reference, step after step from the same
 * weights and batches, then the parameters compared (test/train/step.test.ts, definitions.test.ts).
 */
import { expect } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { headOf } from '../../src/model/heads/index.js';
import { paramLayout } from '../../src/model/layout.js';
import type { Activation, Head, NetworkOptions, Targets } from '../../src/model/spec.js';
import type { OptimizerConfig } from '../../src/optim/index.js';
import { RefOptimizerState } from '../../src/optim/reference.js';
import { toRefParams, toRefRunning } from '../../src/train/check.js';
import { mlpStepRef } from '../../src/train/cpu.js';
import { Model } from '../../src/train/model.js';
import { expectClose, type Tolerance } from './close.js';
import { withValidation } from './gpu.js';
import { mulberry32, randomArray, randomInts } from './random.js';
import { lossWeights } from './rows.js';

// After several fp32 steps the parameters carry the forward/backward rounding (~1e-6 relative per
// tensor, see the kernel tests) plus its effect through the update; 2e-5 absolute on O(0.1–1)
// weights is ~100× that drift and far below any real bug (a wrong sign or index moves weights by lr·g ≈ 1e-2).
export const STEP_TOL = { atol: 2e-5, rtol: 1e-4 };

/** Targets a head takes: labels (softmax), 0/1 (sigmoid), soft rows summing to 1 (softmax, dense), values (regression). */
export function targetsFor(head: Head, rows: number, C: number, seed: number, dense = false): Targets {
  const name = typeof head === 'string' ? head : head.name;
  if (name === 'softmax' && !dense) return { kind: 'labels', labels: randomInts(rows, seed, C) };
  const rand = mulberry32(seed);
  const values = new Float32Array(rows * C);
  if (name === 'sigmoid') {
    for (let i = 0; i < values.length; i++) values[i] = rand() < 0.5 ? 0 : 1;
  } else if (name === 'softmax') {
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < C; c++) sum += values[r * C + c] = rand();
      for (let c = 0; c < C; c++) values[r * C + c] /= sum; // soft targets summing to 1
    }
  } else {
    for (let i = 0; i < values.length; i++) values[i] = (rand() * 2 - 1) * 3; // values, some beyond a Huber δ of 1
  }
  return { kind: 'dense', values };
}

export interface StepCase {
  layers: NetworkOptions['layers'];
  activation: Activation | Activation[];
  head: Head;
  optimizer: OptimizerConfig;
  batches: number[];
  dense?: boolean;
  /** Weigh the rows' losses (lossWeights: in [0, 3), every fifth 0), on the GPU and in the reference. */
  weighted?: boolean;
  tol?: Tolerance;
}

/** Trains `c.batches` steps on the GPU and in the reference, and compares every parameter after. */
export async function trainBoth(c: StepCase, ctx: GpuContext): Promise<void> {
  const model = await Model.create({ ...c, seed: 11, context: ctx });
  await withValidation(ctx, async () => {
    const layout = paramLayout(model.spec);
    const ref = toRefParams(layout, await model.readParams());
    const o = model.optimizerConfig;
    const state = new RefOptimizerState(model.spec, o);
    // BatchNorm's running statistics and dropout's random stream, stepped alongside the GPU's
    const stream = { running: toRefRunning(layout, await model.readRunning()), random: model.randomStream };
    const D = model.spec.layers[0] as number;
    const C = model.spec.layers.at(-1) as number;
    expect(headOf(model.spec).definition.name).toBe(typeof c.head === 'string' ? c.head : c.head.name);
    for (const [i, rows] of c.batches.entries()) {
      const x = randomArray(rows * D, 100 + i);
      const targets = targetsFor(c.head, rows, C, 200 + i, c.dense);
      const weights = c.weighted ? lossWeights(rows, 300 + i) : undefined;
      await model.step(x, targets, rows, weights);
      mlpStepRef(model.spec, ref, x, targets, rows, state, weights, stream);
    }
    const got = toRefParams(layout, await model.readParams());
    for (const slot of layout.tensors) {
      const [g, r] = [got[slot.block]?.[slot.key], ref[slot.block]?.[slot.key]] as Float64Array[];
      expectClose(
        g as Float64Array,
        r as Float64Array,
        c.tol ?? STEP_TOL,
        `${slot.name} after ${c.batches.length} steps`,
      );
    }
    const running = toRefRunning(layout, await model.readRunning());
    for (const slot of layout.running.tensors) {
      const [g, r] = [running[slot.block]?.[slot.key], stream.running[slot.block]?.[slot.key]] as Float64Array[];
      expectClose(
        g as Float64Array,
        r as Float64Array,
        c.tol ?? STEP_TOL,
        `${slot.name} after ${c.batches.length} steps`,
      );
    }
    if (stream.random) expect(model.randomStream).toEqual(stream.random);
  });
  await model.destroy();
}
