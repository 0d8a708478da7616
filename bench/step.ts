/**
 * Whole training steps: forward, softmax + cross-entropy, backward and the Adam update, up to 8
 * steps per submit through `Model.submitSteps`, as `fit` trains (the checked step: one submit).
 * ms/step and samples/s, then the same step on the Float64 CPU reference for the ratio where that
 * takes reasonable time.
 *
 * The GPU step is checked once, on the step that starts from the initial weights:
 * - with the CPU reference: every tensor (hidden activations, logits, loss, dZ, every gradient)
 *   against `mlpBackwardRef`, and the updated weights against `optimizerUpdateRef` applied to the
 *   GPU's gradients (so an fp32 rounding of a near-zero gradient cannot flip Adam's sign);
 * - without it (large models): sampled rows through the reference forward and head, and sampled
 *   elements of every dW, db, dZ and updated weight, each from a Float64 reference call on the
 *   slice of GPU inputs it depends on.
 */

import type { GpuContext } from '../src/gpu/context.js';
import { relu } from '../src/model/activations/relu.js';
import type { ParamLayout } from '../src/model/layout.js';
import { cloneParamsRef, mlpBackwardRef, mlpForwardRef, type RefParams } from '../src/model/reference.js';
import type { MlpSpec, Targets } from '../src/model/spec.js';
import { hyperOf, optimizerDefinition, type ResolvedOptimizer } from '../src/optim/index.js';
import { optimizerUpdateRef, RefOptimizerState } from '../src/optim/reference.js';
import { biasGradRef } from '../src/reference/bias_grad.js';
import { matmulRef } from '../src/reference/matmul.js';
import { softmaxXentRef } from '../src/reference/softmax_xent.js';
import { referenceStep, toRefParams } from '../src/train/check.js';
import { Model } from '../src/train/model.js';
import type { StepPlan } from '../src/train/plan.js';
import { tuneCacheOf } from '../src/tune/cache.js';
import { formatBytes } from './case.js';
import { type BenchSettings, MIN_RUNS, measureInterleaved } from './measure.js';
import { summarise } from './stats.js';
import type { BenchTimer } from './timer.js';
import { picksLine, tuneFigures } from './tune.js';
import type { BenchFigure, Check } from './types.js';
import { CheckBuilder, randomF32, randomU32, sampleIndices, seedOf } from './verify.js';

export type StepModelName = 'S' | 'S256' | 'M' | 'L';

export interface StepModel {
  name: StepModelName;
  layers: readonly number[];
  batch: number;
  /** The Float64 reference: timed `cpuReps` times, once, or never (it would take hours). */
  cpu: 'repeat' | 'once' | 'never';
}

export const STEP_MODELS: Readonly<Record<StepModelName, StepModel>> = {
  S: { name: 'S', layers: [784, 128, 10], batch: 128, cpu: 'repeat' },
  S256: { name: 'S256', layers: [784, 256, 10], batch: 128, cpu: 'repeat' },
  M: { name: 'M', layers: [784, 1024, 1024, 10], batch: 1024, cpu: 'once' },
  L: { name: 'L', layers: [784, 4096, 4096, 4096, 10], batch: 4096, cpu: 'never' },
};

/**
 * Every tensor of a step within STEP_REL_TOL of the reference, relative to max(|ref|, STEP_REL_FLOOR·max|ref|).
 * `checkStep` (test/train/step.test.ts) floors at 1e-3 of the scale; these networks are wider and
 * deeper: an fp32 logit of M (K = 1024, three layers) errs by ~1.4e-6 at a scale of ~2 (6.9e-4 of the
 * 1e-3 floor), L's K = 4096 more. Flooring at 1e-2 of the scale leaves room for that rounding, while a
 * wrong index or a missing term errs by the size of typical elements, ~0.1–1 of the scale.
 */
export const STEP_REL_TOL = 1e-3;
export const STEP_REL_FLOOR = 1e-2;
const RULE = `|gpu − ref| ≤ ${STEP_REL_TOL}·max(|ref|, ${STEP_REL_FLOOR}·max|ref|) per tensor`;
const SAMPLED_ROWS = 4;
/** ReLU's Float64 functions, for the sampled dZ checks. */
const RELU = { forward: (x: number) => relu.forward(x, {}), grad: (a: number) => relu.grad(a, {}) };
const SAMPLED_PER_TENSOR = 64;
const SEED = 1;
const LEARNING_RATE = 1e-3;
/** Steps per submission in the timing, as `fit` groups them. */
const STEPS_PER_SUBMIT = 8;

/** Multiply-adds of one step: forward A·W, backward Aᵀ·dZ for every layer and dZ·Wᵀ for all but the first. */
export function stepMacs(layers: readonly number[], batch: number): number {
  let macs = 0;
  for (let l = 0; l + 1 < layers.length; l++) macs += batch * layers[l] * layers[l + 1] * (l === 0 ? 2 : 3);
  return macs;
}

/** Which step figures a run takes: untuned and tuned side by side (`both`), or one of them. */
export type TuneSetting = 'both' | 'on' | 'off';

/** What a figure needs from the runner: the device, the timer, the settings, progress and the rates so far. */
export interface BenchEnv {
  ctx: GpuContext;
  timer: BenchTimer;
  settings: BenchSettings;
  log: (line: string) => void;
  /** Measured rates per suite (work per ms), for estimating the time of the next figure. */
  rates: Map<string, number>;
  /** Step (and MNIST) figures with the untuned kernels, tuned ones, or both. Default both. */
  tune?: TuneSetting;
}

/** The tuning modes a setting asks for, untuned first. */
export function tuneModes(setting: TuneSetting | undefined): boolean[] {
  return setting === 'on' ? [true] : setting === 'off' ? [false] : [false, true];
}

function figureBase(model: StepModel, suite: 'step' | 'step_cpu', tuned = false): BenchFigure {
  const where = suite === 'step' ? `GPU${tuned ? ' tuned' : ''}` : 'CPU Float64 reference';
  return {
    suite,
    name: `step ${model.name} [${model.layers.join(', ')}] B=${model.batch} ${where}`,
    params: {
      model: model.name,
      layers: model.layers.join(','),
      batch: model.batch,
      activation: 'relu',
      optimizer: 'adam',
      flopPerStep: 2 * stepMacs(model.layers, model.batch),
      ...(suite === 'step' ? { stepsPerSubmit: STEPS_PER_SUBMIT, tuned } : {}),
    },
    status: 'skipped',
    unit: 'samples/s',
    work: model.batch,
    verified: false,
  };
}

/**
 * Runs the GPU figures of `model` — with the untuned kernels and tuned (`env.tune`), in one run, from
 * the same weights and batch — and its CPU twin. A tuned figure starts from an empty tuning cache, so
 * its plan is tuned cold; its params give the tuning time and the picks, and the tuner's measurements
 * follow as `tune` figures (every variant of every shape, its check, the pick).
 */
export async function runStepModel(env: BenchEnv, model: StepModel): Promise<BenchFigure[]> {
  const { ctx, settings } = env;
  const modes = tuneModes(env.tune);
  const gpus = modes.map((tuned) => figureBase(model, 'step', tuned));
  const cpu = figureBase(model, 'step_cpu');
  const spec: MlpSpec = {
    layers: [...model.layers],
    activations: model.layers.slice(2).map(() => 'relu' as const),
    head: 'softmax',
  };
  const B = model.batch;
  const macs = stepMacs(model.layers, B);
  const budgetMs = settings.maxFigureS * 1000;

  // Limits: the optimizer binds all parameters at once; the widest activation is [B, n].
  const floats = model.layers.reduce((sum, n, l) => (l ? sum + model.layers[l - 1] * n + n : 0), 0);
  const bindings = { parameters: floats * 4 + 4096, activations: B * Math.max(...model.layers) * 4 };
  const tooBig = limitProblem(ctx, bindings);
  if (tooBig) {
    for (const gpu of gpus) gpu.note = tooBig;
    cpu.note = 'GPU step skipped';
    return [...gpus, cpu];
  }
  const gpuRate = env.rates.get('step');
  if (gpuRate !== undefined && ((2 * macs) / gpuRate) * MIN_RUNS > budgetMs) {
    for (const gpu of gpus) {
      gpu.note = `estimated ${((2 * macs) / gpuRate / 1000).toFixed(1)} s/step at the rate of the previous model: ${MIN_RUNS} steps would exceed the ${settings.maxFigureS} s figure budget (--max-figure-s)`;
    }
    cpu.note = 'GPU step skipped';
    return [...gpus, cpu];
  }
  const cpuRate = env.rates.get('step_cpu');
  let cpuPlan: 'repeat' | 'once' | 'never' = model.cpu;
  let cpuNote = '';
  if (cpuPlan === 'never') {
    const guess = cpuRate ? ` (about ${formatDuration(macs / cpuRate)} a step here)` : '';
    cpuNote = `the Float64 reference would take too long${guess}; the GPU step is checked at sampled elements`;
  } else if (cpuRate !== undefined && macs / cpuRate > budgetMs) {
    cpuNote = `estimated ${formatDuration(macs / cpuRate)} for one reference step: over the ${settings.maxFigureS} s figure budget (--max-figure-s)`;
    cpuPlan = 'never';
  }

  const tuning: BenchFigure[] = [];
  const cpuTimes: number[] = [];
  let cpuCheck: Check | undefined;
  // The same inputs for every mode (seeded by the untuned figure's name).
  const seed = seedOf(figureBase(model, 'step').name);
  const x = randomF32(B * model.layers[0], seed, 0, 1); // pixel-like inputs in [0, 1)
  const labels = randomU32(B, seed + 1, model.layers[model.layers.length - 1]);
  const targets: Targets = { kind: 'labels', labels };
  // Build and check each mode's model; keep the verified ones for the timing.
  const ready: { gpu: BenchFigure; m: Model; plan: StepPlan; firstMs: number; planMs: number; tuned: boolean }[] = [];
  const models: Model[] = [];
  try {
    for (const [i, tuned] of modes.entries()) {
      const gpu = gpus[i] as BenchFigure;
      const mode = tuned ? 'tuned' : 'untuned';
      env.log(`  step ${model.name} (${mode}): building the model`);
      if (tuned) await tuneCacheOf(ctx).clear(); // tuned cold: the plan below measures every shape
      const m = await Model.create({
        layers: model.layers,
        activation: 'relu',
        head: 'softmax',
        seed: SEED,
        context: ctx,
        optimizer: { kind: 'adam', learningRate: LEARNING_RATE },
        label: `bench.step.${model.name}${tuned ? '.tuned' : ''}`,
        tune: tuned,
      });
      models.push(m);
      const t0 = performance.now();
      const plan = await m.plan(B, 'labels');
      await ctx.compiled(); // steady state: the default kernels, compiled behind the quick ones
      const planMs = performance.now() - t0;
      if (plan.tuning) {
        gpu.params.tuneMs = Math.round(plan.tuning.spentMs);
        gpu.params.tuneBudgetMs = plan.tuning.budgetMs;
        gpu.params.picks = picksLine(plan.tuning);
        tuning.push(...tuneFigures(model.name, plan.tuning, ctx.kernelPreference));
        env.log(`  step ${model.name}: tuned in ${(planMs / 1000).toFixed(2)} s: ${gpu.params.picks}`);
      }
      m.uploadBatch(plan, x, targets);
      const before = await m.readParams();

      const first = await env.timer.timeSubmits(() => m.submitStep(plan), `${gpu.name}.checked`);
      const gpuTensors = await readStep(ctx, m, plan);
      env.log(`  step ${model.name} (${mode}): checking against the Float64 reference`);
      let check: Check;
      if (cpuPlan !== 'never') {
        const result = checkStepFull(m, before, x, targets, B, gpuTensors);
        check = result.check;
        if (cpuCheck === undefined) {
          cpuCheck = check;
          cpuTimes.push(result.cpuMs);
          if (cpuPlan === 'repeat') {
            const refBefore = toRefParams(m.layout, before);
            for (let r = 1; r < settings.cpuReps; r++)
              cpuTimes.push(referenceStepMs(spec, m.optimizerConfig, refBefore, x, targets, B));
          }
          env.rates.set('step_cpu', macs / Math.min(...cpuTimes));
        }
      } else {
        check = await checkStepSampled(spec, m.optimizerConfig, m.layout, before, x, targets, B, gpuTensors, seed);
        cpu.note = cpuNote;
      }
      gpu.check = check;
      gpu.verified = check.verified;
      if (!check.verified) {
        gpu.status = 'failed';
        gpu.note = `does not match the reference: ${check.worst}`;
        continue;
      }
      ready.push({ gpu, m, plan, firstMs: first.wallMs, planMs, tuned });
    }

    // Timed with their samples interleaved, so that the machine's load weighs on both alike; each
    // sample as fit submits steps: up to STEPS_PER_SUBMIT per submission.
    if (ready.length)
      env.log(`  step ${model.name}: timing ${ready.map((r) => (r.tuned ? 'tuned' : 'untuned')).join(' and ')}`);
    const results = await measureInterleaved(
      ready.map(
        ({ gpu, m, plan }) =>
          (iterations: number) =>
            env.timer.timeSubmits(async () => {
              for (let k = 0; k < iterations; k += STEPS_PER_SUBMIT) {
                await m.submitSteps(
                  plan,
                  Array.from({ length: Math.min(STEPS_PER_SUBMIT, iterations - k) }, () => []),
                );
              }
            }, gpu.name),
      ),
      settings,
      env.timer.method,
      Math.max(0, ...ready.map((r) => r.firstMs)),
    );
    for (const [i, r] of results.entries()) {
      const { gpu, planMs, tuned } = ready[i] as (typeof ready)[number];
      Object.assign(gpu, {
        status: 'ok',
        timing: r.timing,
        iterations: r.iterations,
        samples: r.samples,
        timeMs: r.timeMs,
        wallMs: r.wallMs,
        value: (B * 1000) / r.timeMs.median,
        best: (B * 1000) / r.timeMs.min,
      });
      const notes = [r.note, tuned ? `tuned in ${(planMs / 1000).toFixed(2)} s` : ''].filter((n) => n);
      if (notes.length) gpu.note = notes.join('; ');
      if (!tuned) env.rates.set('step', (2 * macs) / r.timeMs.median);
    }
  } finally {
    for (const m of models) await m.destroy();
  }
  if (cpuTimes.length && cpuCheck) {
    const t = summarise(cpuTimes);
    Object.assign(cpu, {
      status: cpuCheck.verified ? 'ok' : 'failed',
      timing: 'cpu',
      iterations: 1,
      samples: cpuTimes.length,
      timeMs: t,
      value: (B * 1000) / t.median,
      best: (B * 1000) / t.min,
      check: cpuCheck,
      verified: cpuCheck.verified,
    });
    if (!cpuCheck.verified) cpu.note = 'the GPU step does not match this reference';
    for (const gpu of gpus) if (gpu.timeMs) gpu.speedup = t.median / gpu.timeMs.median;
  }
  return [...gpus, ...tuning, cpu];
}

/** Why the adapter cannot hold these bindings, or undefined when it can. */
export function limitProblem(ctx: GpuContext, bindings: Record<string, number>): string | undefined {
  const { maxStorageBufferBindingSize, maxBufferSize } = ctx.device.limits;
  for (const [name, bytes] of Object.entries(bindings)) {
    if (bytes > maxStorageBufferBindingSize) {
      return `needs a ${formatBytes(bytes)} binding (${name}); this adapter's maxStorageBufferBindingSize is ${formatBytes(maxStorageBufferBindingSize)}`;
    }
    if (bytes > maxBufferSize) {
      return `needs a ${formatBytes(bytes)} buffer (${name}); this adapter's maxBufferSize is ${formatBytes(maxBufferSize)}`;
    }
  }
  return undefined;
}

function formatDuration(ms: number): string {
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(0)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** What one GPU step left in its buffers. */
interface StepTensors {
  /** outputs[l] = A_{l+1} for hidden layers, the logits for the last: [B, n_{l+1}]. */
  outputs: Float32Array[];
  /** dz[l] = ∂L/∂Z_l: [B, n_{l+1}]. */
  dz: Float32Array[];
  lossRows: Float32Array;
  grads: Float32Array;
  after: Float32Array;
}

async function readStep(ctx: GpuContext, m: Model, plan: StepPlan): Promise<StepTensors> {
  const B = plan.batch;
  const widths = m.spec.layers.slice(1);
  const [outputs, dz, lossRows, grads, after] = await Promise.all([
    Promise.all(plan.outputs.map((b, l) => ctx.readF32(b, 0, B * widths[l]))),
    Promise.all(plan.dz.map((b, l) => ctx.readF32(b, 0, B * widths[l]))),
    ctx.readF32(plan.lossRows, 0, B),
    m.readGrads(),
    m.readParams(),
  ]);
  return { outputs, dz, lossRows, grads, after };
}

/** One reference step (forward, backward, Adam) from `params`, timed; `params` is left as it was. */
function referenceStepMs(
  spec: MlpSpec,
  o: ResolvedOptimizer,
  params: RefParams,
  x: Float32Array,
  targets: Targets,
  B: number,
): number {
  const p = cloneParamsRef(params);
  const state = new RefOptimizerState(spec, o);
  const t0 = performance.now();
  const { grads } = mlpBackwardRef(spec, p, x, targets, B);
  optimizerUpdateRef(state, p, grads);
  return performance.now() - t0;
}

/**
 * Every tensor of the GPU step against the Float64 reference step from the same weights and batch
 * (`referenceStep`, as `check()` computes it; the update from the GPU's own gradients).
 */
function checkStepFull(
  m: Model,
  before: Float32Array,
  x: Float32Array,
  targets: Targets,
  B: number,
  gpu: StepTensors,
): { check: Check; cpuMs: number } {
  const { spec, layout } = m;
  const L = spec.layers.length - 1;
  const gpuGrads = toRefParams(layout, gpu.grads);
  const t0 = performance.now();
  const ref = referenceStep(m, toRefParams(layout, before), { step: 0, buffers: [] }, x, targets, B, gpuGrads);
  const cpuMs = performance.now() - t0;

  const c = new CheckBuilder('full', 'rel', RULE, STEP_REL_FLOOR);
  for (let l = 0; l < L - 1; l++) c.rel(`layers.${l}.activation`, gpu.outputs[l], ref.acts[l + 1], STEP_REL_TOL);
  c.rel('logits', gpu.outputs[L - 1], ref.logits, STEP_REL_TOL);
  c.rel('loss rows', gpu.lossRows, ref.lossRows, STEP_REL_TOL);
  c.rel('logits.grad', gpu.dz[L - 1], ref.dLogits, STEP_REL_TOL);
  for (let l = 0; l < L; l++) {
    c.rel(`layers.${l}.weight.grad`, gpuGrads[l].w, ref.grads[l].w, STEP_REL_TOL);
    c.rel(`layers.${l}.bias.grad`, gpuGrads[l].b, ref.grads[l].b, STEP_REL_TOL);
  }
  const gpuAfter = toRefParams(layout, gpu.after);
  for (let l = 0; l < L; l++) {
    c.rel(`layers.${l}.weight (updated)`, gpuAfter[l].w, ref.after[l].w, STEP_REL_TOL);
    c.rel(`layers.${l}.bias (updated)`, gpuAfter[l].b, ref.after[l].b, STEP_REL_TOL);
  }
  return { check: c.result(), cpuMs };
}

/** Sampled checks of a step too large for the full reference (see the file comment). */
async function checkStepSampled(
  spec: MlpSpec,
  o: ResolvedOptimizer,
  layout: ParamLayout,
  before: Float32Array,
  x: Float32Array,
  targets: Targets,
  B: number,
  gpu: StepTensors,
  seed: number,
): Promise<Check> {
  const widths = spec.layers;
  const L = widths.length - 1;
  const C = widths[L];
  const D = widths[0];
  const c = new CheckBuilder('sampled', 'rel', RULE, STEP_REL_FLOOR);
  const labels = targets.kind === 'labels' ? targets.labels : new Uint32Array(B);

  // Forward and head for a few rows: the reference on a sub-batch of those rows (rows are independent).
  const rows = sampleIndices(B, SAMPLED_ROWS, seed + 10);
  const R = rows.length;
  const xs = new Float32Array(R * D);
  rows.forEach((r, k) => {
    xs.set(x.subarray(r * D, (r + 1) * D), k * D);
  });
  const params = toRefParams(layout, before);
  const fwd = mlpForwardRef(spec, params, xs, R);
  const pick = (t: Float32Array, n: number) => {
    const out = new Float32Array(R * n);
    rows.forEach((r, k) => {
      out.set(t.subarray(r * n, (r + 1) * n), k * n);
    });
    return out;
  };
  for (let l = 0; l < L - 1; l++) {
    c.rel(`layers.${l}.activation (rows)`, pick(gpu.outputs[l], widths[l + 1]), fwd.acts[l + 1], STEP_REL_TOL);
  }
  c.rel('logits (rows)', pick(gpu.outputs[L - 1], C), fwd.logits, STEP_REL_TOL);
  const refGrad = new Float64Array(R * C);
  const refLoss = new Float64Array(R);
  const subLabels = Uint32Array.from(rows, (r) => labels[r]);
  softmaxXentRef(fwd.logits, R, C, { kind: 'labels', labels: subLabels }, refGrad, refLoss, B);
  c.rel('loss rows (rows)', pick(gpu.lossRows, 1), refLoss, STEP_REL_TOL);
  c.rel('logits.grad (rows)', pick(gpu.dz[L - 1], C), refGrad, STEP_REL_TOL);

  // Backward, layer by layer, at sampled elements from the GPU's inputs to each product.
  const one = new Float64Array(1);
  for (let l = L - 1; l >= 0; l--) {
    const fanIn = widths[l];
    const fanOut = widths[l + 1];
    const input = l === 0 ? x : gpu.outputs[l - 1]; // A_l: [B, fanIn]
    const dz = gpu.dz[l]; // [B, fanOut]
    const w = layout.weights[l];
    const b = layout.biases[l];
    // dW_l[i, j] = Σ_r A_l[r, i]·dZ_l[r, j]
    const wIdx = sampleIndices(fanIn * fanOut, SAMPLED_PER_TENSOR, seed + 20 + l);
    const dwGpu = new Float64Array(wIdx.length);
    const dwRef = new Float64Array(wIdx.length);
    const colA = new Float64Array(B);
    const colG = new Float64Array(B);
    wIdx.forEach((idx, k) => {
      const i = Math.floor(idx / fanOut);
      const j = idx % fanOut;
      for (let r = 0; r < B; r++) {
        colA[r] = input[r * fanIn + i];
        colG[r] = dz[r * fanOut + j];
      }
      matmulRef(colA, colG, one, { M: 1, N: 1, K: B });
      dwRef[k] = one[0];
      dwGpu[k] = gpu.grads[w.offset + idx];
    });
    c.rel(`layers.${l}.weight.grad (sampled)`, dwGpu, dwRef, STEP_REL_TOL);
    // db_l[j] = Σ_r dZ_l[r, j]
    const bIdx = sampleIndices(fanOut, SAMPLED_PER_TENSOR, seed + 40 + l);
    const dbGpu = Float64Array.from(bIdx, (j) => gpu.grads[b.offset + j]);
    const dbRef = Float64Array.from(bIdx, (j) => {
      for (let r = 0; r < B; r++) colG[r] = dz[r * fanOut + j];
      biasGradRef(colG, B, 1, one);
      return one[0];
    });
    c.rel(`layers.${l}.bias.grad (sampled)`, dbGpu, dbRef, STEP_REL_TOL);
    if (l === 0) continue;
    // dZ_{l−1}[r, i] = (Σ_j dZ_l[r, j]·W_l[i, j]) ⊙ relu'(A_l[r, i])
    const zIdx = sampleIndices(B * fanIn, SAMPLED_PER_TENSOR, seed + 60 + l);
    const prev = gpu.dz[l - 1];
    const dzGpu = Float64Array.from(zIdx, (idx) => prev[idx]);
    const dzRef = Float64Array.from(zIdx, (idx) => {
      const r = Math.floor(idx / fanIn);
      const i = idx % fanIn;
      const rowG = dz.subarray(r * fanOut, (r + 1) * fanOut);
      const rowW = before.subarray(w.offset + i * fanOut, w.offset + (i + 1) * fanOut);
      matmulRef(rowG, rowW, one, { M: 1, N: 1, K: fanOut, activation: RELU, mask: [input[idx]] });
      return one[0];
    });
    c.rel(`layers.${l - 1}.dZ (sampled)`, dzGpu, dzRef, STEP_REL_TOL);
  }

  // The Adam update (first step: m = v = 0) at sampled parameters, from the GPU's gradients.
  const pIdx = sampleIndices(layout.totalFloats, SAMPLED_PER_TENSOR * 4, seed + 80);
  const afterGpu = Float64Array.from(pIdx, (i) => gpu.after[i]);
  const def = optimizerDefinition(o.kind);
  const afterRef = Float64Array.from(pIdx, (i) => {
    const p = Float64Array.of(before[i]);
    const state = def.state.map(() => new Float64Array(1));
    def.updateRef(p, [gpu.grads[i]], state, hyperOf(o), 1, i < layout.decayCount ? 1 : 0); // weights decay, biases not
    return p[0];
  });
  c.rel('parameters (updated, sampled)', afterGpu, afterRef, STEP_REL_TOL);
  return c.result();
}
