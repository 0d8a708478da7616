/**
 * `npm run bench -- --quick` end to end in Node (Dawn on SwiftShader here): the same code path as
 * the CLI, the JSON against its schema, every figure verified; then that a wrong kernel fails its
 * check instead of scoring, and the sampled check of a step too large for the full reference.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NODE_FLAGS, runBenchCli } from '../../bench/cli.js';
import { matmulCase } from '../../bench/matmul.js';
import { resolveBenchSettings, runBench } from '../../bench/run.js';
import { validateBenchReport } from '../../bench/schema.js';
import { runStepModel } from '../../bench/step.js';
import { BenchTimer } from '../../bench/timer.js';
import type { BenchReport } from '../../bench/types.js';
import { type MatmulArgs, prepareMatmul } from '../../src/kernels/matmul.js';
import type { GpuOp, OpScope } from '../../src/kernels/op.js';
import { useGpuContext } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-mlp-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench -- --quick', () => {
  it('runs every suite, writes a valid report and verifies every figure', async () => {
    const out = join(dir, 'quick.json');
    const lines: string[] = [];
    const errors: string[] = [];
    const t0 = performance.now();
    const result = await runBenchCli(['--quick', '--out', out], {
      log: (l) => lines.push(l),
      error: (l) => errors.push(l),
    });
    const seconds = (performance.now() - t0) / 1000;
    console.log(`bench --quick: ${seconds.toFixed(1)} s\n${lines.slice(-30).join('\n')}`);
    expect(errors).toEqual([]);
    expect(result.code).toBe(0);

    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(validateBenchReport(report)).toEqual([]);
    expect(report.mode).toBe('quick');
    expect(report.environment.runtime).toBe('node');
    expect(report.adapter?.vendor).toBeTruthy();
    expect(report.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    for (const f of report.figures) {
      // The tuner's candidates past a shape's share of the budget are 'skipped' (and say so); none fails.
      if (f.suite === 'tune' && f.status === 'skipped') {
        expect(f.note, f.name).toMatch(/budget/);
        continue;
      }
      expect(f.status, `${f.name}: ${f.note ?? ''}`).toBe('ok');
      expect(f.verified, f.name).toBe(true);
      expect(f.check?.verified, f.name).toBe(true);
      expect(f.value, f.name).toBeGreaterThan(0);
    }
    const suites = new Set(report.figures.map((f) => f.suite));
    expect([...suites].sort()).toEqual([
      'activation',
      'matmul',
      'optimizer',
      'softmax_xent',
      'step',
      'step_cpu',
      'tune',
    ]);

    // The step of S untuned and tuned, side by side in one run; the tuned one says what tuning cost and picked.
    const steps = report.figures.filter((f) => f.suite === 'step');
    expect(steps.map((f) => f.params.tuned)).toEqual([false, true]);
    expect(steps[1].params.tuneMs).toBeGreaterThan(0);
    expect(String(steps[1].params.picks)).toMatch(/A·B 128×128×784 \+bias \+relu → direct/);
    expect(report.tune).toBe('both');
    // Every matmul shape of S's step, with each variant's time and check, one of them picked; and the squares.
    const tuned = report.figures.filter((f) => f.suite === 'tune');
    for (const origin of ['S', 'matmul']) {
      const shapes = new Set(tuned.filter((f) => f.params.origin === origin).map((f) => f.params.shape));
      expect(shapes.size, origin).toBe(origin === 'S' ? 5 : 3);
      for (const shape of shapes) {
        const candidates = tuned.filter((f) => f.params.origin === origin && f.params.shape === shape);
        expect(candidates.filter((f) => f.params.picked).length, `${shape}`).toBe(1);
        expect(candidates.find((f) => f.params.default)?.status, `${shape}: the default is always measured`).toBe('ok');
        expect(candidates.find((f) => f.params.picked)?.status, `${shape}: the pick passed its check`).toBe('ok');
      }
    }
    const forms = new Set(report.figures.filter((f) => f.params.origin === 'square').map((f) => f.params.form));
    expect([...forms].sort()).toEqual(['A·B', 'A·Bᵀ', 'Aᵀ·B']);
    expect(report.figures.find((f) => f.suite === 'step')?.speedup).toBeGreaterThan(0);

    // Dawn was created with NODE_FLAGS: its timestamps must not come in 2¹⁶ ns steps.
    expect(NODE_FLAGS).toContain('disable-dawn-features=timestamp_quantization');
    expect(report.timing.method).toBe('timestamp');
    expect(report.timing.quantized).toBe(false);
    expect(report.timing.resolutionNs).toBeLessThan(1024);
    expect(report.timing.tinyPassUs).toBeGreaterThan(0);

    // The table names every figure.
    const table = lines.join('\n');
    for (const f of report.figures) expect(table).toContain(f.name.replace(/^(matmul|step|softmax_xent|tune) /, ''));
    expect(table).toMatch(
      /adapter: .*; kernels: (direct|tiled) \(untuned default\); tuned figures: beside the untuned ones/,
    );
  }, 300_000);

  it('answers --help, and refuses bad options with exit code 2 and a reason', async () => {
    const log: string[] = [];
    const err: string[] = [];
    const io = { log: (l: string) => log.push(l), error: (l: string) => err.push(l) };
    expect((await runBenchCli(['--help'], io)).code).toBe(0);
    expect(log.join('\n')).toContain('--quick');
    expect((await runBenchCli(['--reps', 'many'], io)).code).toBe(2);
    expect((await runBenchCli(['--fast'], io)).code).toBe(2);
    expect(err.join('\n')).toMatch(/--reps "many" is invalid: expected an integer/);
    expect(err.join('\n')).toMatch(/unknown option "--fast"/);
    // An unknown WEBGPU_MLP_RUNTIME is refused as a bad option is.
    const before = process.env.WEBGPU_MLP_RUNTIME;
    process.env.WEBGPU_MLP_RUNTIME = 'bogus';
    try {
      expect((await runBenchCli(['--quick'], io)).code).toBe(2);
      expect(err.at(-1)).toMatch(/^bench: WEBGPU_MLP_RUNTIME=bogus is not a runtime/);
    } finally {
      if (before === undefined) delete process.env.WEBGPU_MLP_RUNTIME;
      else process.env.WEBGPU_MLP_RUNTIME = before;
    }
    // An --out it could not write is refused before the run, not after it.
    const dir = mkdtempSync(join(tmpdir(), 'bench-out-'));
    try {
      expect((await runBenchCli(['--quick', '--out', dir], io)).code).toBe(2);
      expect(err.at(-1)).toBe(`bench: --out ${dir} is a directory: give a file path`);
      expect(log.some((l) => l.startsWith('adapter:'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a wrong kernel', () => {
  const gpu = useGpuContext();
  const environment = { runtime: 'node', version: 'test' } as const;

  /** Kernels that compute the wrong thing, fast: a missing transpose, a dropped k. */
  const wrong: Record<string, (ctx: never, scope: OpScope, args: MatmulArgs, label?: string) => Promise<GpuOp>> = {
    'ignores transposeB': (ctx, scope, args, label) => prepareMatmul(ctx, scope, { ...args, transposeB: false }, label),
    'drops the last k': (ctx, scope, args, label) => prepareMatmul(ctx, scope, { ...args, K: args.K - 1 }, label),
  };

  for (const [what, kernel] of Object.entries(wrong)) {
    it(`that ${what} fails its check and is not timed`, async () => {
      const ctx = gpu();
      const c = matmulCase({ form: 'A·Bᵀ', M: 64, N: 64, K: 64, origin: 'square' }, kernel as typeof prepareMatmul);
      const report = await runBench(ctx, { quick: true, cases: [c], suites: ['matmul'], environment });
      expect(validateBenchReport(report)).toEqual([]);
      const [f] = report.figures;
      expect(f.status).toBe('failed');
      expect(f.verified).toBe(false);
      expect(f.check?.verified).toBe(false);
      expect(f.value).toBeUndefined();
      expect(f.timeMs).toBeUndefined();
      expect(f.note).toMatch(/does not match the reference/);
    });
  }

  it('the right kernel on the same case passes', async () => {
    const c = matmulCase({ form: 'A·Bᵀ', M: 64, N: 64, K: 64, origin: 'square' });
    const report = await runBench(gpu(), { quick: true, reps: 1, cases: [c], suites: ['matmul'], environment });
    expect(report.figures[0].status).toBe('ok');
    expect(report.figures[0].check?.maxError).toBeLessThan(1e-5);
  });
});

describe('sizes the adapter cannot hold', () => {
  const gpu = useGpuContext();

  it('are skipped with a note naming the limit, before anything is allocated', async () => {
    const ctx = gpu();
    const { maxStorageBufferBindingSize } = ctx.device.limits;
    const M = Math.floor(maxStorageBufferBindingSize / (4 * 1024)) + 64; // A: [M, 1024] f32, just over the limit
    const c = matmulCase({ form: 'A·B', M, N: 16, K: 1024, origin: 'square' });
    const environment = { runtime: 'node', version: 'test' } as const;
    const report = await runBench(ctx, { quick: true, cases: [c], suites: ['matmul'], environment });
    expect(validateBenchReport(report)).toEqual([]);
    expect(report.figures[0].status).toBe('skipped');
    expect(report.figures[0].note).toMatch(/needs a .* binding \(a\); this adapter's maxStorageBufferBindingSize is/);
  });
});

describe('steps too large for the full reference', () => {
  const gpu = useGpuContext();

  it('are checked at sampled elements of every tensor', async () => {
    const ctx = gpu();
    const timer = BenchTimer.create(ctx);
    const settings = resolveBenchSettings({ quick: true, reps: 1, warmup: 0 });
    const env = { ctx, timer, settings, log: () => {}, rates: new Map<string, number>() };
    try {
      const [step, cpu] = await runStepModel(
        { ...env, tune: 'off' },
        {
          name: 'S',
          layers: [784, 48, 24, 10],
          batch: 32,
          cpu: 'never',
        },
      );
      expect(step.status, step.note).toBe('ok');
      expect(step.check?.method).toBe('sampled');
      expect(step.check?.verified).toBe(true);
      // rows of the forward and head, and samples of each dW, db, dZ and of the updated parameters
      expect(step.check?.elements).toBeGreaterThan(500);
      expect(cpu.status).toBe('skipped');
      expect(cpu.note).toMatch(/too long/);
    } finally {
      timer.destroy();
    }
  }, 120_000);
});
