/**
 * The dropout kernel against its twin (src/reference/dropout.ts): the masks bit for bit (the same
 * zeros, from the same hash), the kept values to one f32 rounding, the backward with the layer below's
 * act' fused, the step counter's advance, and a 2D grid; counts 1, 7, 257 (not multiples of the
 * workgroup), 1031 and 128·1000.
 */
import { describe, expect, it } from 'vitest';
import { prepareDropout, prepareDropoutAdvance } from '../../src/kernels/dropout.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { dropoutBackwardRef, dropoutForwardRef, dropoutMaskRef } from '../../src/reference/dropout.js';
import { kernelAct, refAct } from '../helpers/activations.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, uploadU32, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();

// x·s with s = f32(1/(1 − p)): the f32 scale is within 6e-8 of the double one, and the product one rounding more.
const SCALE_TOL = { atol: 0, rtol: 2e-7 };
// g·s·act'(V): tanh' = 1 − V² adds a rounding of V² (≤ 6e-8 absolute) times |g·s|.
const BACKWARD_TOL = { atol: 5e-7, rtol: 4e-7 };

async function run(
  direction: 'forward' | 'backward',
  count: number,
  p: number,
  stream: { seed: number; step: number; block: number },
  seed: number,
  maxWorkgroupsPerDimension?: number,
) {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const x = randomArray(count, seed, 3);
  const v = randomArray(count, seed + 1); // tanh outputs of the layer below: in (−1, 1)
  try {
    const got = await withValidation(ctx, async () => {
      const random = uploadU32(ctx, 'test.random', [stream.seed, stream.step]);
      const output = emptyF32(ctx, 'test.out', count);
      const common = { count, p, block: stream.block, random, output, maxWorkgroupsPerDimension };
      const op = await prepareDropout(
        ctx,
        scope,
        direction === 'forward'
          ? { ...common, direction, input: upload(ctx, 'test.x', x) }
          : {
              ...common,
              direction,
              grad: upload(ctx, 'test.g', x),
              activation: kernelAct('tanh'),
              values: upload(ctx, 'test.v', v),
            },
      );
      submitOps(ctx, [op]);
      return ctx.readF32(output, 0, count);
    });
    const mask = dropoutMaskRef(stream, p, count);
    const expected = new Float64Array(count);
    if (direction === 'forward') dropoutForwardRef(x, mask, p, expected);
    else {
      dropoutBackwardRef(x, mask, p, expected);
      const tanh = refAct('tanh');
      for (let i = 0; i < count; i++) expected[i] *= tanh.grad(v[i] as number);
    }
    return { got, expected, mask };
  } finally {
    scope.destroy();
  }
}

describe('dropout kernel against the Float64 twin', () => {
  for (const direction of ['forward', 'backward'] as const) {
    it(`${direction}: the same mask bit for bit and the kept values scaled, counts 1, 7, 257, 1031, 128·1000`, async () => {
      for (const [i, count] of [1, 7, 257, 1031, 128 * 1000].entries()) {
        for (const p of [0.2, 0.5]) {
          const stream = { seed: 11 + i, step: 3 * i, block: i % 3 };
          const { got, expected, mask } = await run(direction, count, p, stream, 100 + i);
          const zeros = Array.from(got, (g) => (g === 0 ? 0 : 1));
          expect(zeros.join(''), `count ${count}, p ${p}: the mask`).toBe(Array.from(mask).join(''));
          expectClose(got, expected, direction === 'forward' ? SCALE_TOL : BACKWARD_TOL, `${direction} ${count}`);
        }
      }
    });
  }

  it('a 2D grid (limit forced to 4 workgroups per dimension): the same masks', async () => {
    const stream = { seed: 3, step: 9, block: 1 };
    const { got, mask } = await run('forward', 256 * 5 + 3, 0.5, stream, 7, 4);
    expect(Array.from(got, (g) => (g === 0 ? 0 : 1)).join('')).toBe(Array.from(mask).join(''));
  });

  it('advance adds 1 to the step and leaves the seed; the next step draws another mask', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const random = uploadU32(ctx, 'test.random', [5, 41]);
    const op = await withValidation(ctx, () => prepareDropoutAdvance(ctx, scope, random));
    submitOps(ctx, [op, op]);
    expect(Array.from(new Uint32Array(await ctx.read(random)))).toEqual([5, 43]);
    scope.destroy();
    const a = dropoutMaskRef({ seed: 5, step: 41, block: 0 }, 0.5, 64).join('');
    expect(dropoutMaskRef({ seed: 5, step: 43, block: 0 }, 0.5, 64).join('')).not.toBe(a);
  });

  it('refuses p outside [0, 1) and a buffer too small, naming them', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const random = uploadU32(ctx, 'r', [0, 0]);
    const b = emptyF32(ctx, 'b', 4);
    const args = { direction: 'forward' as const, count: 4, block: 0, random, input: b, output: b };
    await expect(prepareDropout(ctx, scope, { ...args, p: 1 })).rejects.toThrow(
      'p = 1, expected a probability in [0, 1)',
    );
    await expect(prepareDropout(ctx, scope, { ...args, p: 0.5, count: 5 })).rejects.toThrow(
      'output binds 16 bytes, expected at least 20 for f32 [5]',
    );
    scope.destroy();
  });
});
