import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { getGpu } from '../../src/gpu/device.js';
import {
  MATMUL_MID_WORK,
  MATMUL_QUICK_VARIANT,
  MATMUL_SUBGROUP_VARIANT,
  MATMUL_UPGRADE_VARIANT,
  MATMUL_UPGRADE_WORK,
  type MatmulArgs,
  type MatmulVariant,
  matmulUpgrade,
  prepareMatmul,
} from '../../src/kernels/matmul.js';
import { type GpuOp, OpScope, submitOps } from '../../src/kernels/op.js';
import { kernelAct } from '../helpers/activations.js';
import { emptyF32, upload, useGpuContext } from '../helpers/gpu.js';
import { AWKWARD, type Case, checkMatmul, EPILOGUES, FORMS, variantsOf } from '../helpers/matmul.js';
import { randomArray } from '../helpers/random.js';

const gpu = useGpuContext();

/** Encodes an op in a pass of its own, noting the pipelines it binds, and reads `out` back. */
async function encodeNoting(ctx: GpuContext, op: GpuOp, out: GPUBuffer, pipelines: unknown[]): Promise<Float32Array> {
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  const setPipeline = pass.setPipeline.bind(pass);
  pass.setPipeline = (pipeline) => {
    pipelines.push(pipeline);
    setPipeline(pipeline);
  };
  op.encode(pass);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  return ctx.readF32(out);
}
const check = (c: Case, seed: number, variant: MatmulVariant) => checkMatmul(gpu(), c, seed, variant);

// The two untuned defaults get the whole grid: 'tiled' (workgroup memory, GPUs) and 'direct' (no barriers, CPUs).
describe.each(['tiled', 'direct'] as const)('matmul (%s) against the Float64 reference', (variant) => {
  for (const form of FORMS) {
    it(`${form.name} on every awkward M, N, K combination of 1, 7, 13, 127, 257`, async () => {
      let seed = 100;
      for (const M of AWKWARD) {
        for (const N of [1, 13, 257]) {
          for (const K of [1, 7, 127]) {
            await check({ M, N, K, transposeA: form.transposeA, transposeB: form.transposeB }, seed++, variant);
          }
        }
      }
    });
    it(`${form.name} at MLP shapes (batch 1000 × 784 → 257, and 784 / 1000 as K)`, async () => {
      await check({ M: 1000, N: 257, K: 784, ...form }, 7, variant);
      await check({ M: 127, N: 1000, K: 13, ...form }, 8, variant);
      await check({ M: 13, N: 10, K: 1000, ...form }, 9, variant);
    });
  }

  for (const epilogue of EPILOGUES) {
    it(`fuses the '${epilogue}' epilogue`, async () => {
      const transposeB = epilogue.startsWith('mask'); // the backward form G·Wᵀ carries the mask
      await check({ M: 127, N: 13, K: 257, transposeB, epilogue }, 31, variant);
      await check({ M: 7, N: 257, K: 1, transposeB, epilogue }, 32, variant);
    });
  }

  it('ReLU epilogue: exactly 0 for negative and zero pre-activations, identity above', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    // A = I (3×3), B = diag values, bias 0: Z = B; relu(Z) must be exact.
    const z = new Float32Array([-2, 0, 3.5]);
    const a = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const b = new Float32Array([z[0], 0, 0, 0, z[1], 0, 0, 0, z[2]].map(Number));
    const out = emptyF32(ctx, 'relu.out', 9);
    const op = await prepareMatmul(ctx, scope, {
      a: upload(ctx, 'a', a),
      b: upload(ctx, 'b', b),
      out,
      M: 3,
      N: 3,
      K: 3,
      variant,
      activation: kernelAct('relu'),
      bias: upload(ctx, 'bias', [0, 0, 0]),
    });
    submitOps(ctx, [op]);
    const got = await ctx.readF32(out);
    expect([got[0], got[4], got[8]]).toEqual([0, 0, 3.5]);
    scope.destroy();
  });
});

describe('matmul', () => {
  it("takes the context's kernel preference by default: direct on a software adapter, else tiled", () => {
    const ctx = gpu();
    expect(ctx.kernelPreference).toBe(ctx.adapter?.isSoftware ? 'direct' : 'tiled');
  });

  it('the tiled variants agree bit for bit (each element: fma over k in order)', async () => {
    const ctx = gpu();
    const outputs: Float32Array[] = [];
    const a = randomArray(132 * 260, 3);
    const b = randomArray(260 * 68, 4);
    const variants = variantsOf('tiled', 'vec4');
    expect(variants.length).toBeGreaterThanOrEqual(7);
    for (const variant of variants) {
      const scope = new OpScope(ctx);
      const out = emptyF32(ctx, 'bits.out', 132 * 68);
      const op = await prepareMatmul(ctx, scope, {
        a: upload(ctx, 'a', a),
        b: upload(ctx, 'b', b),
        out,
        M: 132,
        N: 68,
        K: 260,
        variant,
        bias: upload(ctx, 'bias', randomArray(68, 5)),
        activation: kernelAct('tanh'),
      });
      submitOps(ctx, [op]);
      outputs.push(await ctx.readF32(out));
      scope.destroy();
    }
    for (const o of outputs.slice(1)) expect(o).toEqual(outputs[0]);
  });

  it('rejects bad arguments and unknown or unfitting variants with a clear message', async () => {
    const ctx = gpu();
    const scope = new OpScope(ctx);
    const buf = emptyF32(ctx, 'x', 4);
    await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, mask: buf })).rejects.toThrow(
      /a mask needs the activation/,
    );
    await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 0, N: 2, K: 1 })).rejects.toThrow(
      /M = 0, expected a positive integer/,
    );
    for (const variant of ['fast', 'vec4/k4', 'tiled/k3', 'tiled/k4/k2']) {
      await expect(prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, variant })).rejects.toThrow(
        `matmul: variant = '${variant}', expected one of tiled, tiled.32x32`,
      );
    }
    await expect(
      prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 2, N: 2, K: 1, variant: 'vec4' }),
    ).rejects.toThrow("variant 'vec4' cannot compute this: vec4 kernels need N % 4 = 0 (N = 2)");
    await expect(
      prepareMatmul(ctx, scope, { a: buf, b: buf, out: buf, M: 1, N: 1, K: 1, biasGrad: buf, bias: buf }),
    ).rejects.toThrow(/biasGrad \(dW = Aᵀ·G with db\) takes no bias/);
    scope.destroy();
  });
});

describe('the quick direct kernel first, its upgrade (direct.subgroup, or direct.8x8) behind it (setup: docs/benchmarks.md)', () => {
  it(`${MATMUL_QUICK_VARIANT}, ${MATMUL_UPGRADE_VARIANT} and ${MATMUL_SUBGROUP_VARIANT} compute the same bits as the default direct kernel, in every form and epilogue`, async () => {
    const ctx = gpu();
    const run = async (
      variant: string,
      c: Partial<MatmulArgs> & { M: number; N: number; K: number; keepZ?: boolean },
    ) => {
      const scope = new OpScope(ctx);
      const out = emptyF32(ctx, 'same.out', c.M * c.N);
      const pre = c.keepZ ? emptyF32(ctx, 'same.pre', c.M * c.N) : undefined;
      const op = await prepareMatmul(ctx, scope, {
        a: upload(ctx, 'a', randomArray(c.M * c.K, 7)),
        b: upload(ctx, 'b', randomArray(c.K * c.N, 8)),
        out,
        ...c,
        ...(pre && { preActivation: pre }),
        variant,
      });
      submitOps(ctx, [op]);
      const got = [await ctx.readF32(out), ...(pre ? [await ctx.readF32(pre)] : [])];
      scope.destroy();
      ctx.releaseBuffer(out);
      if (pre) ctx.releaseBuffer(pre);
      return got;
    };
    const mask = upload(ctx, 'mask', randomArray(61 * 37, 9));
    const bias = upload(ctx, 'bias', randomArray(37, 10));
    for (const c of [
      { M: 61, N: 37, K: 129, bias, activation: kernelAct('tanh') },
      { M: 61, N: 37, K: 130, transposeA: true },
      { M: 61, N: 37, K: 17, transposeB: true, mask, activation: kernelAct('sigmoid') },
      { M: 61, N: 37, K: 3, bias, activation: kernelAct('relu') },
      { M: 61, N: 37, K: 5, bias, activation: kernelAct('gelu'), keepZ: true }, // Z kept too (PRE)
      { M: 61, N: 37, K: 9, bias }, // a linear layer's forward pass
    ]) {
      const expected = await run('direct', c);
      expect(ctx.subgroups).toBe(true); // SwiftShader has subgroups (of 4 lanes)
      for (const variant of [MATMUL_QUICK_VARIANT, MATMUL_UPGRADE_VARIANT, MATMUL_SUBGROUP_VARIANT]) {
        expect(await run(variant, c), `${variant} K = ${c.K}`).toEqual(expected);
      }
    }
  });

  it('moves large products, and mid-size ones of many columns and terms, to direct.8x8, and keeps the others quick', () => {
    expect(matmulUpgrade({ M: 128, N: 96, K: 86 })).toBe(MATMUL_UPGRADE_VARIANT); // ≥ 2²⁰
    expect(matmulUpgrade({ M: 128, N: 256, K: 784 })).toBe(MATMUL_UPGRADE_VARIANT); // MNIST's first layer
    expect(matmulUpgrade({ M: 1024, N: 1024, K: 1024 })).toBe(MATMUL_UPGRADE_VARIANT); // MNIST L's hidden layer
    expect(matmulUpgrade({ M: 1024, N: 10, K: 1024 })).toBe(MATMUL_UPGRADE_VARIANT); // 10 columns, ≥ 2²⁰
    expect(matmulUpgrade({ M: 64, N: 100, K: 200 })).toBe(MATMUL_UPGRADE_VARIANT); // [64,100,10]'s dW
    expect(matmulUpgrade({ M: 200, N: 100, K: 30 })).toBe(MATMUL_UPGRADE_VARIANT); // [30,100,2]'s forward
    expect(matmulUpgrade({ M: 30, N: 100, K: 200 })).toBe(MATMUL_UPGRADE_VARIANT); // and its dW
    expect(matmulUpgrade({ M: 133, N: 100, K: 13 })).toBeUndefined(); // under 2¹⁸
    expect(matmulUpgrade({ M: 2048, N: 100, K: 2 })).toBeUndefined(); // dA, K = 2 classes
    expect(matmulUpgrade({ M: 4096, N: 10, K: 20 })).toBeUndefined(); // 10 columns
    expect(MATMUL_MID_WORK).toBeLessThan(MATMUL_UPGRADE_WORK);
    // On a device with subgroups, the same products move to the subgroup kernel instead.
    expect(matmulUpgrade({ M: 64, N: 100, K: 200 }, true)).toBe(MATMUL_SUBGROUP_VARIANT);
    expect(matmulUpgrade({ M: 1024, N: 10, K: 1024 }, true)).toBe(MATMUL_SUBGROUP_VARIANT);
    expect(matmulUpgrade({ M: 133, N: 100, K: 13 }, true)).toBeUndefined();
  });

  it('a device without subgroups computes on the other direct kernels, and refuses direct.subgroup with a clear error', async () => {
    const adapter = await (await getGpu()).requestAdapter();
    const device = await (adapter as GPUAdapter).requestDevice(); // no optional feature asked for
    const own = await GpuContext.create({ device, kernelPreference: 'direct' });
    const scope = new OpScope(own);
    try {
      expect(own.subgroups).toBe(false);
      const [M, N, K] = [128, 96, 86]; // ≥ 2²⁰: moves
      const args = {
        a: upload(own, 'a', randomArray(M * K, 31)),
        b: upload(own, 'b', randomArray(K * N, 32)),
        out: emptyF32(own, 'nosub.out', M * N),
        M,
        N,
        K,
      };
      const op = await prepareMatmul(own, scope, args);
      await own.compiled();
      submitOps(own, [op]);
      const moved = await own.readF32(args.out);
      const forced = await prepareMatmul(own, scope, { ...args, variant: MATMUL_UPGRADE_VARIANT });
      submitOps(own, [forced]);
      expect(await own.readF32(args.out)).toEqual(moved);
      await expect(prepareMatmul(own, scope, { ...args, variant: MATMUL_SUBGROUP_VARIANT })).rejects.toThrow(
        /variant 'direct.subgroup' needs a device with the 'subgroups' feature/,
      );
    } finally {
      scope.destroy();
      own.destroy();
      device.destroy();
    }
  });

  it("a small product of many columns moves too when the device already has the upgrade's pipeline (dA to its own); one of few columns never", async () => {
    const own = await GpuContext.create({ kernelPreference: 'direct' }); // a device with nothing compiled yet
    const scope = new OpScope(own);
    /** The pipelines a product's op binds before and after its upgrade could compile, and its outputs. */
    const run = async (M: number, N: number, K: number, mask?: GPUBuffer) => {
      const out = emptyF32(own, 'small.out', M * N);
      const op = await prepareMatmul(own, scope, {
        a: upload(own, 'a', randomArray(M * K, 21)),
        b: upload(own, 'b', randomArray(K * N, 22)),
        out,
        M,
        N,
        K,
        ...(mask && { mask, activation: kernelAct('relu') }),
      });
      const pipelines: unknown[] = [];
      const results: Float32Array[] = [];
      for (let pass = 0; pass < 2; pass++) {
        results.push(await encodeNoting(own, op, out, pipelines));
        await own.compiled();
      }
      expect(results[1]).toEqual(results[0]); // the same bits on either kernel
      return pipelines;
    };
    try {
      expect(matmulUpgrade({ M: 61, N: 37, K: 13 })).toBeUndefined(); // too small to pay for a compilation
      const before = await run(61, 37, 13);
      expect(before[1]).toBe(before[0]); // nothing compiled it: it stays quick
      const large = await run(128, 96, 86); // ≥ 2²⁰: compiles the upgrade's pipeline of this form
      expect(large[1]).not.toBe(large[0]);
      const after = await run(61, 37, 13);
      expect(after[1]).toBe(large[1]); // now on the device: the small product takes it
      // dA = G·Wᵀ with the mask moves too, to the subgroup kernel's pipeline of the mask (its own FORM)
      const masked = await run(61, 37, 3, upload(own, 'mask', randomArray(61 * 37, 23)));
      expect(masked[1]).not.toBe(masked[0]);
      expect(masked[1]).not.toBe(large[1]);
      const narrow = await run(61, 7, 13); // 7 columns: the quick kernel is faster there
      expect(narrow[1]).toBe(narrow[0]);
      expect(narrow[0]).toBe(before[0]);
    } finally {
      scope.destroy();
      own.destroy();
    }
  });

  // A large product (A·B) and a mid-size dW (Aᵀ·B, K = the batch).
  it.each([
    { name: 'large', M: 128, N: 256, K: Math.ceil(MATMUL_UPGRADE_WORK / (128 * 256)), transposeA: false },
    { name: 'mid-size', M: 30, N: 100, K: Math.ceil(MATMUL_MID_WORK / 3000), transposeA: true },
  ])(
    'a $name product starts on the quick kernel and moves once its kernel has compiled, with the same bits',
    async ({ M, N, K, transposeA }) => {
      const created = await GpuContext.create({ device: gpu().device, kernelPreference: 'direct' });
      const scope = new OpScope(created);
      expect(matmulUpgrade({ M, N, K })).toBeDefined(); // just large enough to move
      const out = emptyF32(created, 'upgrade.out', M * N);
      const op = await prepareMatmul(created, scope, {
        a: upload(created, 'a', randomArray(M * K, 11)),
        b: upload(created, 'b', randomArray(K * N, 12)),
        out,
        M,
        N,
        K,
        transposeA,
      });
      const pipelines: unknown[] = [];
      const encode = () => encodeNoting(created, op, out, pipelines);
      const first = await encode();
      await created.compiled();
      const second = await encode();
      expect(second).toEqual(first);
      expect(pipelines).toHaveLength(2);
      expect(pipelines[1]).not.toBe(pipelines[0]);
      scope.destroy();
      created.destroy(); // a shared device: only the context's own buffers go
    },
  );
});
