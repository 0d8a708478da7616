/**
 * inputGradient (seed 004): ∂L/∂X and the probabilities on the GPU against the Float64 reference,
 * and the promise that it leaves the parameters, the optimizer and the statistics alone.
 */
import { describe, expect, it } from 'vitest';
import { mlpBackwardRef } from '../../src/model/reference.js';
import type { Activation, Targets } from '../../src/model/spec.js';
import { toRefParams } from '../../src/train/check.js';
import { Model } from '../../src/train/model.js';
import { inputGradient } from '../../src/train/saliency.js';
import { expectClose } from '../helpers/close.js';
import { useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';

const gpu = useGpuContext();

// dX is two or three fp32 matmuls deep (K up to 64 here): ~1e-6 relative per matmul on O(0.01–1)
// values, so 1e-5 absolute is ~10× the rounding and far below a wrong sign, mask or index.
const DX_TOL = { atol: 1e-5, rtol: 1e-4 };
// Probabilities are one forward pass plus a softmax: the same rounding.
const PROB_TOL = { atol: 1e-5, rtol: 1e-4 };

const cases: { layers: number[]; activation: Activation | Activation[]; rows: number }[] = [
  { layers: [784, 64, 10], activation: 'relu', rows: 1 },
  { layers: [13, 7, 5], activation: 'tanh', rows: 7 },
  { layers: [127, 33, 13, 10], activation: ['sigmoid', 'relu'], rows: 3 },
];

describe('inputGradient: ∂L/∂X on the GPU', () => {
  for (const c of cases) {
    it(`matches mlpBackwardRef for [${c.layers.join(', ')}] ${c.activation}, ${c.rows} row(s)`, async () => {
      const ctx = gpu();
      const model = await Model.create({ layers: c.layers, activation: c.activation, seed: 4, context: ctx });
      const D = c.layers[0];
      const C = c.layers[c.layers.length - 1];
      const x = randomArray(c.rows * D, 40, 1);
      const targets: Targets = { kind: 'labels', labels: randomInts(c.rows, 41, C) };
      const before = await model.readParams();
      const got = await withValidation(ctx, () => inputGradient(model, x, targets));
      const ref = mlpBackwardRef(model.spec, toRefParams(model.layout, before), x, targets, c.rows, {
        inputGrad: true,
      });
      expectClose(got.dx, ref.dX as Float64Array, DX_TOL, 'dX');
      expectClose(got.probs, ref.probs, PROB_TOL, 'probs');
      expect(await model.readParams(), 'parameters unchanged').toEqual(before);
      expect((await model.readTrainStats()).count, 'training statistics untouched').toBe(0);
      expect(model.steps, 'no optimizer step').toBe(0);
      await model.destroy();
    });
  }

  it('rejects a label outside the classes before any GPU work', async () => {
    const model = await Model.create({ layers: [4, 3], context: gpu() });
    await expect(
      inputGradient(model, new Float32Array(4), { kind: 'labels', labels: Uint32Array.of(3) }),
    ).rejects.toThrow('labels[0] = 3 is outside 0..2');
    await model.destroy();
  });
});
