/**
 * RMSprop (torch.optim.RMSprop), the optimizer added to prove that an optimizer with new
 * hyperparameters (alpha, centered: a switch) is its own files and a registry line: its Float64 update
 * by hand and against PyTorch's numbers (test/torch/fixtures.json), the kernel against PyTorch in
 * float32, whole GPU steps against the reference, fit end to end, checkpoints and resume, check(),
 * and its flags. (test/kernels/optimizer.test.ts runs its kernel against its Float64 update on
 * awkward counts, as for every optimizer.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTrainArgs, TRAIN_HELP } from '../../src/cli/args.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { OpScope, submitOps } from '../../src/kernels/op.js';
import { prepareOptimizer } from '../../src/kernels/optimizer.js';
import { createMLP } from '../../src/mlp.js';
import { hyperOf, optimizerDefinition, resolveOptimizer } from '../../src/optim/index.js';
import { rmspropRef } from '../../src/reference/rmsprop.js';
import { expectClose } from '../helpers/close.js';
import { emptyF32, upload, useGpuContext, withValidation } from '../helpers/gpu.js';
import { randomArray, randomInts } from '../helpers/random.js';
import { trainBoth } from '../helpers/steps.js';

const gpu = useGpuContext();

interface TorchCase {
  name: string;
  settings: { lr: number; alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean };
  w0: number[];
  grads: number[][];
  /** torch in float64 and in float32; a state torch does not keep (no momentum, not centered) is null. */
  f64: Record<'w' | 'square_avg' | 'momentum_buffer' | 'grad_avg', number[] | null>;
  f32: Record<'w' | 'square_avg' | 'momentum_buffer' | 'grad_avg', number[] | null>;
}

const FIXTURES = JSON.parse(readFileSync(new URL('../torch/fixtures.json', import.meta.url), 'utf8')) as {
  rmsprop: TorchCase[];
};

// Float64 against torch in float64: the same operations in a slightly different order (torch's
// addcdiv multiplies before it divides), a few ulp of 1 after 5 steps.
const F64_TOL = { atol: 1e-13, rtol: 1e-12 };
// The f32 kernel against torch in float32: each step rounds w and the state (2⁻²⁴ ≈ 6e-8 relative) and the
// sqrt and divide add a few ulp of a step of lr·g/√s ≈ lr: a few 1e-7 after 6 steps. A wrong formula
// (1 − α for α, the variance without grad_avg², momentum without the root) is off by ≥ 1e-3.
const F32_TOL = { atol: 2e-6, rtol: 2e-6 };

const settingsOf = (c: TorchCase) =>
  resolveOptimizer({
    kind: 'rmsprop',
    learningRate: c.settings.lr,
    alpha: c.settings.alpha,
    eps: c.settings.eps,
    weightDecay: c.settings.weightDecay,
    momentum: c.settings.momentum,
    centered: c.settings.centered,
  });

describe('RMSprop (torch.optim.RMSprop)', () => {
  it('the Float64 update by hand: one step, then momentum and centered', () => {
    // square_avg = 0.01·g² (α = 0.99), avg = 0.1·|g| + ε, w −= lr·g/avg = lr·10·sign(g) (ε aside)
    const w = Float64Array.of(1, -2);
    const s = new Float64Array(2);
    const b = new Float64Array(2);
    const a = new Float64Array(2);
    const base = { lr: 0.01, alpha: 0.99, eps: 0, momentum: 0, centered: false };
    rmspropRef(w, [0.5, -4], s, b, a, base);
    expectClose(s, [0.0025, 0.16], { atol: 0, rtol: 1e-14 }, 'square_avg after one step');
    expectClose(w, [1 - 0.1, -2 + 0.1], { atol: 1e-15, rtol: 0 }, 'w after one step');
    expect(Array.from(a)).toEqual([0, 0]); // not centered: grad_avg is not kept
    // centered, one step from zero state: grad_avg = 0.01·g, avg = sqrt(0.01·g² − 1e-4·g²) = √0.0099·|g|
    const w2 = Float64Array.of(0);
    const a2 = new Float64Array(1);
    rmspropRef(w2, [2], new Float64Array(1), new Float64Array(1), a2, { ...base, centered: true });
    expect(a2[0]).toBeCloseTo(0.02, 15);
    expectClose(w2, [-0.01 / Math.sqrt(0.0099)], { atol: 1e-15, rtol: 1e-14 }, 'centered w');
    // momentum 0.5, two equal gradients: buffer g/avg₁, then 0.5·g/avg₁ + g/avg₂
    const w3 = Float64Array.of(0);
    const s3 = new Float64Array(1);
    const b3 = new Float64Array(1);
    const m = { ...base, momentum: 0.5 };
    rmspropRef(w3, [1], s3, b3, new Float64Array(1), m);
    rmspropRef(w3, [1], s3, b3, new Float64Array(1), m);
    const avg1 = Math.sqrt(0.01);
    const avg2 = Math.sqrt(0.99 * 0.01 + 0.01);
    expect(b3[0]).toBeCloseTo(0.5 / avg1 + 1 / avg2, 13);
    expect(w3[0]).toBeCloseTo(-0.01 * (1 / avg1 + 0.5 / avg1 + 1 / avg2), 13);
  });

  it("agrees with PyTorch's own numbers: the Float64 update to 1e-12 and the GPU kernel to fp32", async () => {
    expect(FIXTURES.rmsprop.map((c) => c.name)).toEqual([
      'defaults',
      'momentum 0.9, weight decay 0.1',
      'centered',
      'centered, momentum 0.5, weight decay 0.01',
    ]);
    const def = optimizerDefinition('rmsprop');
    const ctx = gpu();
    for (const c of FIXTURES.rmsprop) {
      const hyper = hyperOf(settingsOf(c));
      const n = c.w0.length;
      // Float64: torch decays every parameter, so decayCount = n
      const w = Float64Array.from(c.w0);
      const state = def.state.map(() => new Float64Array(n));
      for (const [s, g] of c.grads.entries()) def.updateRef(w, g, state, hyper, s + 1, n);
      expectClose(w, c.f64.w as number[], F64_TOL, `${c.name}: w`);
      def.state.forEach((name, i) => {
        const torch = c.f64[name as keyof TorchCase['f64']];
        if (torch) expectClose(state[i] as Float64Array, torch, F64_TOL, `${c.name}: ${name}`);
      });
      // GPU: the kernel, step after step, against torch in float32
      const scope = new OpScope(ctx);
      const params = upload(ctx, 'rmsprop.W', c.w0);
      const grads = emptyF32(ctx, 'rmsprop.G', n);
      const buffers = def.state.map((name) => emptyF32(ctx, `rmsprop.${name}`, n));
      const got = await withValidation(ctx, async () => {
        const op = await prepareOptimizer(
          ctx,
          scope,
          {
            update: def.module,
            params,
            grads,
            state: Object.fromEntries(def.state.map((name, i) => [name, buffers[i] as GPUBuffer])),
            count: n,
            decayCount: n,
          },
          def.uniform(hyper, 1),
        );
        for (const [s, g] of c.grads.entries()) {
          ctx.device.queue.writeBuffer(grads, 0, Float32Array.from(g));
          op.setHyper(def.uniform(hyper, s + 1));
          submitOps(ctx, [op]);
        }
        return { w: await ctx.readF32(params), state: await Promise.all(buffers.map((b) => ctx.readF32(b))) };
      });
      scope.destroy();
      expectClose(got.w, c.f32.w as number[], F32_TOL, `${c.name}: GPU w`);
      def.state.forEach((name, i) => {
        const torch = c.f32[name as keyof TorchCase['f32']];
        if (torch) expectClose(got.state[i] as Float32Array, torch, F32_TOL, `${c.name}: GPU ${name}`);
      });
    }
  });

  it('five steps of [11, 9, 4] tanh against the reference: centered with momentum and L2 decay', async () => {
    await trainBoth(
      {
        layers: [11, 9, 4],
        activation: 'tanh',
        head: 'softmax',
        optimizer: {
          kind: 'rmsprop',
          learningRate: 0.005,
          alpha: 0.9,
          momentum: 0.5,
          centered: true,
          weightDecay: 0.1,
        },
        batches: [16, 16, 16, 16, 3],
      },
      gpu(),
    );
  });

  it("fit({ optimizer: 'rmsprop', alpha: 0.9 }) learns; its settings are checked, another optimizer's refused", async () => {
    const x = randomArray(64 * 5, 7);
    const y = Uint32Array.from({ length: 64 }, (_, i) => ((x[i * 5] as number) + (x[i * 5 + 1] as number) > 0 ? 1 : 0));
    const mlp = await createMLP({ layers: [5, 16, 2], activation: 'relu', seed: 3, device: gpu().device });
    const epochs = await mlp.fit(x, y, { epochs: 15, batchSize: 16, optimizer: 'rmsprop', alpha: 0.9, seed: 1 });
    expect((epochs.at(-1)?.trainLoss as number) < 0.6 * (epochs[0]?.trainLoss as number)).toBe(true);
    expect(mlp.model.optimizerConfig).toEqual({
      kind: 'rmsprop',
      learningRate: 0.01,
      alpha: 0.9,
      eps: 1e-8,
      momentum: 0,
      centered: false,
      weightDecay: 0,
    });
    await expect(mlp.fit(x, y, { optimizer: 'rmsprop', alpha: 1 })).rejects.toThrow(
      'optimizer.alpha = 1 is invalid: expected a finite number in [0, 1)',
    );
    await expect(mlp.fit(x, y, { optimizer: 'rmsprop', centered: 1 as unknown as boolean })).rejects.toThrow(
      'optimizer.centered = 1 is invalid: expected true or false',
    );
    await expect(mlp.fit(x, y, { optimizer: 'rmsprop', beta1: 0.9 })).rejects.toThrow(
      'no beta1 for rmsprop: its settings are learningRate, alpha, eps, momentum, centered, weightDecay',
    );
    await mlp.destroy();
  });

  it('checkpoints name its state square_avg, momentum_buffer and grad_avg; a resumed run ends bit-identical', async () => {
    const x = randomArray(40 * 6, 1);
    const y = randomInts(40, 2, 3);
    const options = {
      epochs: 3,
      batchSize: 8,
      optimizer: 'rmsprop' as const,
      momentum: 0.9,
      centered: true,
      learningRate: 0.005,
      seed: 5,
    };
    const whole = await createMLP({ layers: [6, 7, 3], seed: 2, device: gpu().device });
    await whole.fit(x, y, options);
    const expected = await whole.predict(x);

    let saved: MLPCheckpoint | undefined;
    const first = await createMLP({ layers: [6, 7, 3], seed: 2, device: gpu().device });
    await first.fit(x, y, {
      ...options,
      onCheckpoint: (cp) => {
        if (cp.epoch === 2 && !saved) saved = cp;
      },
    });
    if (!saved) throw new Error('no checkpoint at the start of epoch 2');
    const file = encodeCheckpoint(saved);
    const names = [...decodeSafetensors(file).tensors.keys()];
    for (const state of ['square_avg', 'momentum_buffer', 'grad_avg']) {
      expect(names).toContain(`optimizer.${state}.layers.0.weight`);
      expect(names).toContain(`optimizer.${state}.layers.1.bias`);
    }
    const decoded = decodeCheckpoint(file);
    expect(decoded.state.optimizer).toMatchObject({ kind: 'rmsprop', centered: true, momentum: 0.9 });
    expect(decoded.state.state.every((s) => s.some((v) => v !== 0))).toBe(true); // all three in use

    const resumed = await createMLP({ layers: [6, 7, 3], seed: 99, device: gpu().device });
    await resumed.fit(x, y, { ...options, resume: decoded });
    expect(await resumed.predict(x)).toEqual(expected);
    for (const m of [whole, first, resumed]) await m.destroy();
  });

  it('check(): the update within fp32 of the reference, measured against the update itself', async () => {
    const mlp = await createMLP({ layers: [9, 8, 4], seed: 1, device: gpu().device });
    await mlp.fit(randomArray(16 * 9, 3), randomInts(16, 4, 4), {
      optimizer: 'rmsprop',
      centered: true,
      momentum: 0.9,
      weightDecay: 0.05,
      epochs: 1,
    });
    const report = await mlp.check(randomArray(12 * 9, 5), randomInts(12, 6, 4));
    expect(report.maxRel, report.worst).toBeLessThan(1e-4);
    await mlp.destroy();
  });

  it('npm run train takes --optimizer rmsprop with --alpha and the switch --centered (and --no-centered)', () => {
    expect(parseTrainArgs(['--optimizer', 'rmsprop', '--alpha', '0.9', '--centered', '--momentum=0.5'])).toMatchObject({
      optimizer: 'rmsprop',
      alpha: 0.9,
      centered: true,
      momentum: 0.5,
    });
    expect(parseTrainArgs(['--optimizer=rmsprop', '--no-centered']).centered).toBe(false);
    expect(() => parseTrainArgs(['--optimizer', 'rmsprop', '--centered=yes'])).toThrow(
      '--centered "yes" is invalid: expected no value',
    );
    expect(() => parseTrainArgs(['--optimizer', 'adam', '--centered'])).toThrow(
      '--centered does not apply to --optimizer adam',
    );
    expect(() => parseTrainArgs(['--optimizer', 'rmsprop', '--alpha', '1'])).toThrow(
      '--alpha "1" is invalid: expected a number in [0, 1)',
    );
    expect(TRAIN_HELP).toMatch(/rmsprop \(RMSprop\)/);
    expect(TRAIN_HELP).toMatch(/--alpha X +RMSprop's α/);
    expect(TRAIN_HELP).toMatch(/--centered, --no-centered/);
    expect(TRAIN_HELP).toMatch(/\(default: momentum 0\.9, rmsprop 0\)/);
  });
});
