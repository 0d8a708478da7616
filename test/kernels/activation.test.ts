import { describe, expect, it } from 'vitest';
import { prepareActivation } from '../../src/kernels/activation.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { ACTIVATIONS, type ActivationName, activationDefinition } from '../../src/model/activations/index.js';
import { activationBackwardRef, activationForwardRef } from '../../src/reference/activation.js';
import { gradFromInput, kernelAct, refAct } from '../helpers/activations.js';
import { expectClose, type Tolerance } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { mulberry32, randomArray } from '../helpers/random.js';

const gpu = useGpuContext();

const TOL: Record<ActivationName, { forward: Tolerance; backward: Tolerance }> = {
  // max(z, 0) and g·[a > 0] involve no rounding at all: exact, signed zeros aside.
  relu: { forward: { atol: 0, rtol: 0 }, backward: { atol: 0, rtol: 0 } },
  // 1/(1 + exp(−z)): exp is specified to 3 + 2|z| ulp (SwiftShader: 5e-7 relative at worst) and the
  // divide adds ~1 ulp of σ ≤ 1; atol for σ(z) ≈ e^z below 1e-7, where the −88 clamp and flushed
  // denormals differ from the unclamped reference. Backward a·(1 − a)·g is three roundings.
  sigmoid: { forward: { atol: 2e-7, rtol: 2e-6 }, backward: { atol: 1e-7, rtol: 1e-6 } },
  // WGSL's tanh is specified through sinh/cosh, i.e. exp: absolute error of a few ulp of 1 even near 0
  // (SwiftShader: 1.4e-7), so an absolute bound; backward 1 − a² rounds a² (≤ 6e-8 absolute).
  tanh: { forward: { atol: 5e-7, rtol: 1e-6 }, backward: { atol: 2e-7, rtol: 1e-6 } },
  // the identity and g·1: exact.
  linear: { forward: { atol: 0, rtol: 0 }, backward: { atol: 0, rtol: 0 } },
  // x or slope·x, g or g·slope: one rounding, and the f32 slope (0.01 to 2e-8 relative).
  leakyRelu: { forward: { atol: 0, rtol: 2e-7 }, backward: { atol: 0, rtol: 2e-7 } },
  // ½x(1 + tanh u): tanh's few ulp of 1 (≈ 1.4e-7 absolute) times ½|x| ≤ 5, plus the roundings of u;
  // the derivative adds ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²), whose 1 − t² carries tanh's error times ≈ 3.
  gelu: { forward: { atol: 2e-6, rtol: 2e-6 }, backward: { atol: 2e-6, rtol: 2e-6 } },
};
const KINDS = ACTIVATIONS;

/** Pre-activations: uniform in [−10, 10), with exact zeros, ±1e4, ±1e30 and the clamp edges sprinkled in. */
function preactivations(n: number, seed: number): Float32Array {
  const z = randomArray(n, seed, 10);
  const special = [0, -0, 1e4, -1e4, 1e30, -1e30, 88, -88, 100, -100, 15, -15, 1e-30, -1e-30];
  const next = mulberry32(seed + 1);
  for (let i = 0; i < n; i += 7) z[i] = special[Math.floor(next() * special.length)] as number;
  return z;
}

async function runGpu(
  kind: ActivationName,
  direction: 'forward' | 'backward',
  x: Float32Array,
  g: Float32Array,
  maxWorkgroupsPerDimension?: number,
): Promise<Float32Array> {
  const ctx = gpu();
  const scope = new OpScope(ctx);
  const count = x.length;
  const output = emptyF32(ctx, 'test.out', count);
  try {
    return await withValidation(ctx, async () => {
      const input = upload(ctx, 'test.in', x);
      const op = await prepareActivation(
        ctx,
        scope,
        direction === 'forward'
          ? { activation: kernelAct(kind), count, direction, input, output, maxWorkgroupsPerDimension }
          : {
              activation: kernelAct(kind),
              count,
              direction,
              values: input,
              grad: upload(ctx, 'test.g', g),
              output,
              maxWorkgroupsPerDimension,
            },
      );
      submitOps(ctx, [op]);
      return ctx.readF32(output, 0, count);
    });
  } finally {
    scope.destroy();
  }
}

async function check(kind: ActivationName, count: number, seed: number, maxWorkgroupsPerDimension?: number) {
  const z = preactivations(count, seed);
  const forward = new Float64Array(count);
  activationForwardRef(refAct(kind), z, forward);
  const gotForward = await runGpu(kind, 'forward', z, z, maxWorkgroupsPerDimension);
  expectClose(gotForward, forward, TOL[kind].forward, `${kind} forward count=${count}`);

  // backward from the f32 activation outputs, as the GPU has them (or from Z, for GELU)
  const a = gradFromInput(kind) ? z : Float32Array.from(forward);
  const g = randomArray(count, seed + 2);
  const backward = new Float64Array(count);
  activationBackwardRef(refAct(kind), a, g, backward);
  const gotBackward = await runGpu(kind, 'backward', a, g, maxWorkgroupsPerDimension);
  expectClose(gotBackward, backward, TOL[kind].backward, `${kind} backward count=${count}`);
}

describe('activation against the Float64 reference', () => {
  for (const kind of KINDS) {
    it(`${kind}: forward and backward on counts 1, 7, 13, 127, 257, 1000, 784·13, with extreme inputs`, async () => {
      let seed = 1;
      for (const count of [1, 7, 13, 127, 257, 1000, 784 * 13]) await check(kind, count, seed++);
    });
  }

  it('splits many workgroups over a 2D grid (limit forced to 4 per dimension)', async () => {
    for (const kind of KINDS) await check(kind, 2600, 50, 4);
  });

  it('ReLU at exactly 0: forward 0, derivative 0 (seed 004), identity above', async () => {
    const forward = await runGpu('relu', 'forward', Float32Array.from([-2, 0, 3.5, 1e-30]), new Float32Array(4));
    expectClose(forward, [0, 0, 3.5, Math.fround(1e-30)], TOL.relu.forward, 'relu forward');
    const backward = await runGpu(
      'relu',
      'backward',
      Float32Array.from([0, 0, 1e-30, 2]),
      Float32Array.from([5, -3, 7, 1]),
    );
    expectClose(backward, [0, -0, 7, 1], TOL.relu.backward, 'relu backward'); // −3·0 = −0: equal under |diff|
  });

  it('rejects a missing direction buffer size and unknown kinds with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 4);
    await expect(
      prepareActivation(ctx, scope, {
        activation: kernelAct('relu'),
        count: 5,
        direction: 'forward',
        input: buf,
        output: emptyF32(ctx, 'y', 5),
      }),
    ).rejects.toThrow('activation: input binds 16 bytes, expected at least 20 for f32 [5]');
    // Unknown kinds never reach a kernel: the registry of activation definitions refuses them.
    expect(() => activationDefinition('swish')).toThrow(/activation = "swish" is invalid: expected one of relu/);
    scope.destroy();
  });
});
