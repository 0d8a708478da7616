/**
 * The matmul tuner: for each product a step plan prepares, it times the candidate variants
 * (candidates.ts) on the actual adapter and picks the fastest — after checking each one once against
 * the Float64 reference (`matmulRef`) on the actual shape. What it guarantees (docs/tuning.md):
 *
 * - never a failing pick: a candidate that does not compile, validate, or match the reference within
 *   1e-5·√K is marked `failed` and never chosen;
 * - bounded time: one budget per plan (TUNE_BUDGET_MS on GPUs), shared out over the plan's products as
 *   they come; a product starts only while budget is left, and after its default it tries further
 *   candidates only within its share, so a plan takes at most the budget plus one candidate's run;
 * - deterministic given the timings: candidates are tried in a fixed order, the pick is the fastest
 *   median (ties: the earlier), and it replaces the default only when faster by more than TUNE_MARGIN,
 *   so noise alone cannot move a step off the default;
 * - cached per adapter and shape on the context (`tuneCacheOf(ctx)`), persisted in IndexedDB in a browser;
 *   `'cached'` uses cached picks only and never measures.
 *
 * Inputs are seeded; large ones repeat a block of 65,521 values (a prime, so that no shifted row or
 * column reads the same values). Outputs are filled with NaN before each candidate's checked run, so
 * an element a kernel fails to write cannot pass.
 */

import { describeAdapter } from '../gpu/adapter.js';
import type { GpuContext } from '../gpu/context.js';
import { prepareBiasGrad } from '../kernels/bias_grad.js';
import {
  type MatmulArgs,
  type MatmulChoice,
  type MatmulProblem,
  matmulUnsupported,
  parseMatmulVariant,
  prepareMatmul,
} from '../kernels/matmul.js';
import { type GpuOp, OpScope } from '../kernels/op.js';
import { mulberry32 } from '../model/random.js';
import { matmulRef } from '../reference/matmul.js';
import {
  type CandidateResult,
  noticeDropped,
  type ShapeTuning,
  type TuneCache,
  tuneCacheOf,
  unusableTuning,
} from './cache.js';
import { matmulCandidates } from './candidates.js';
import { indexedDbStore } from './persist.js';
import { GpuTuneTimer, type TimedRun, type TuneTimer } from './timing.js';

/** `true`: use cached picks and measure the rest; `'cached'`: cached picks only, never measure; `false`: off. */
export type TuneMode = boolean | 'cached';

/** The budget of one plan's tuning on a GPU, ms. */
export const TUNE_BUDGET_MS = 500;
/** On a CPU implementation (SwiftShader), where one product of an MLP step takes milliseconds, ms. */
export const TUNE_BUDGET_SOFTWARE_MS = 4000;
/** A candidate replaces the default only when its median is faster by more than this fraction. */
export const TUNE_MARGIN = 0.05;
/** Part of every cache key: bump it when the variants or the rules change, so old picks are not reused. */
export const TUNE_VERSION = 1;
/** Outputs up to this many multiply-adds are checked in full; larger ones at SAMPLED elements. */
export const FULL_CHECK_MACS = 2 ** 22;
const SAMPLED = 256;
/** A timed sample lasts at least this long (runs repeated in one pass), ms. */
const SAMPLE_MS = 2;
const SAMPLES = 3;
const MAX_REPS = 1000;
/** Inputs repeat a seeded block of this many values (prime). */
const PERIOD = 65521;

export interface TunerOptions {
  mode: Exclude<TuneMode, false>;
  /** Default: TUNE_BUDGET_MS, or TUNE_BUDGET_SOFTWARE_MS on a software adapter. */
  budgetMs?: number;
  /** Products the plan will ask about: the budget is shared out over them. Default 1. */
  problems?: number;
  /** Default: GPU timestamps where the device has them, else the wall clock. */
  timer?: TuneTimer;
  /** Default TUNE_MARGIN. */
  margin?: number;
  /** Replaces the candidate list (tests). */
  candidates?: (problem: MatmulProblem) => string[];
  /** Replaces the kernel (tests: a wrong kernel must fail its check). */
  prepare?: typeof prepareMatmul;
  /** Replaces the adapter part of the cache key (tests). */
  adapterKey?: string;
}

/** What a plan's tuning did. */
export interface TuneReport {
  mode: Exclude<TuneMode, false>;
  /** The adapter line the picks are cached under. */
  adapter: string;
  budgetMs: number;
  /** Time from the tuner's creation to `finish()`, ms. */
  spentMs: number;
  timing: string;
  /** One entry per product the plan asked about, in plan order. */
  shapes: ShapeTuning[];
}

/** The adapter part of a cache key: the adapter line, the kernel family and whether the device has subgroups. */
export function adapterKey(ctx: GpuContext): string {
  // With subgroups the candidates differ (direct.subgroup), and a pick of it needs them: its own key.
  const family = `${ctx.kernelPreference}${ctx.subgroups ? ' with subgroups' : ''}`;
  return `${ctx.adapter ? describeAdapter(ctx.adapter) : 'unknown adapter'}; kernels ${family}`;
}

/** The shape part of a cache key, e.g. `A·B 128×128×784 +bias +relu`, `Aᵀ·B 784×128×128 +db`, `A·Bᵀ 128×128×10 ⊙relu'`. */
export function problemKey(problem: MatmulProblem): string {
  const { M, N, K, transposeA, transposeB, bias, activation, mask, preActivation } = problem.args;
  const form = `${transposeA ? 'Aᵀ' : 'A'}·${transposeB ? 'Bᵀ' : 'B'}`;
  const parts = [`${form} ${M}×${N}×${K}`];
  const act =
    activation && activation.name !== 'activations/linear' ? activation.name.replace(/^activations\//, '') : '';
  const constants = activation && Object.keys(activation.constants).length ? JSON.stringify(activation.constants) : '';
  if (bias) parts.push('+bias');
  if (act && !mask) parts.push(`+${act}${constants}`);
  if (act && mask) parts.push(`⊙${act}'${constants}`);
  if (preActivation) parts.push('+Z');
  if (problem.biasGrad) parts.push('+db');
  return parts.join(' ');
}

/** The pick from measured candidates: the fastest `ok` one (ties: the earlier), unless it beats the default by no more than `margin`. */
export function decidePick(results: readonly CandidateResult[], defaultVariant: string, margin: number): MatmulChoice {
  let best: CandidateResult | undefined;
  for (const r of results) {
    if (r.status !== 'ok' || r.ms === undefined) continue;
    if (!best || r.ms < (best.ms as number)) best = r;
  }
  const base = results.find((r) => r.status === 'ok' && r.variant === defaultVariant && !r.fuseBiasGrad);
  if (best && base && best !== base && (best.ms as number) > (1 - margin) * (base.ms as number)) best = base;
  return best
    ? { variant: best.variant, fuseBiasGrad: best.fuseBiasGrad }
    : { variant: defaultVariant, fuseBiasGrad: false };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** n seeded values uniform in [−1, 1): a block of PERIOD repeated. */
function seeded(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  const rand = mulberry32(seed);
  const period = Math.min(n, PERIOD);
  for (let i = 0; i < period; i++) out[i] = rand() * 2 - 1;
  for (let i = period; i < n; i += period) out.copyWithin(i, 0, Math.min(period, n - i));
  return out;
}

function seedOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** The Float64 truth of a problem's outputs, in full or at sampled elements of C. */
interface Reference {
  /** Indices of C compared (all of them when full). */
  indices: Uint32Array | undefined;
  c: Float64Array;
  pre?: Float64Array;
  db?: Float64Array;
}

export class MatmulTuner {
  readonly report: TuneReport;
  private readonly start = performance.now();
  private readonly cache: TuneCache;
  /** The test's timer, or the GPU timer (made per measured shape, so nothing is held between products). */
  private readonly timer: TuneTimer | undefined;
  private readonly timing: string;
  private readonly margin: number;
  private readonly adapter: string;
  private problemsLeft: number;
  /** Picks were measured or dropped: the store is rewritten at the end. */
  private changed = false;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly options: TunerOptions,
  ) {
    this.cache = tuneCacheOf(ctx);
    this.timer = options.timer;
    this.timing = options.timer?.method ?? (ctx.hasTimestamps ? 'timestamp' : 'wall');
    this.margin = options.margin ?? TUNE_MARGIN;
    this.adapter = options.adapterKey ?? adapterKey(ctx);
    this.problemsLeft = Math.max(1, options.problems ?? 1);
    const budgetMs = options.budgetMs ?? (ctx.adapter?.isSoftware ? TUNE_BUDGET_SOFTWARE_MS : TUNE_BUDGET_MS);
    this.report = { mode: options.mode, adapter: this.adapter, budgetMs, spentMs: 0, timing: this.timing, shapes: [] };
  }

  /** A tuner for one plan. In a browser the context's cache is backed by IndexedDB unless it was given a store (or null). */
  static async create(ctx: GpuContext, options: TunerOptions): Promise<MatmulTuner> {
    const cache = tuneCacheOf(ctx);
    if (cache.store === undefined) cache.store = indexedDbStore();
    await cache.load();
    return new MatmulTuner(ctx, options);
  }

  /** The cache key of a problem on this tuner's adapter. */
  key(problem: MatmulProblem): string {
    return `${this.adapter}|${problemKey(problem)}|v${TUNE_VERSION}`;
  }

  /** The choice for a product (see MatmulChooser); undefined keeps the context's default. Never throws. */
  readonly choose = async (problem: MatmulProblem): Promise<MatmulChoice | undefined> => {
    const share = (this.report.budgetMs - this.elapsed()) / this.problemsLeft;
    this.problemsLeft = Math.max(1, this.problemsLeft - 1);
    const key = this.key(problem);
    const shape = problemKey(problem);
    const defaultVariant = this.ctx.kernelPreference;
    const untouched = (note: string): undefined => {
      const { M, N, K } = problem.args;
      this.report.shapes.push({
        shape,
        M,
        N,
        K,
        candidates: [],
        pick: { variant: defaultVariant, fuseBiasGrad: false },
        source: 'default',
        ms: 0,
        timing: this.timing,
        note,
      });
      return undefined;
    };
    const cached = this.cache.get(key);
    const unusable = cached && unusableTuning(cached, problem);
    if (cached && unusable) {
      noticeDropped(key, unusable);
      this.cache.delete(key);
      this.changed = true; // the store is rewritten without it
    } else if (cached) {
      this.report.shapes.push({ ...cached, source: 'cache', ms: 0 });
      return cached.pick;
    }
    if (this.options.mode === 'cached') return untouched("not in the cache (tune: 'cached' never measures)");
    if (share <= 0) return untouched(`the plan's tuning budget (${this.report.budgetMs} ms) is spent`);
    const activation = problem.args.activation;
    if (activation && activation.name !== 'activations/linear' && !problem.activation) {
      return untouched("the activation's Float64 twin was not given: its epilogue cannot be checked");
    }
    let tuning: ShapeTuning;
    try {
      tuning = await this.measure(problem, shape, share);
    } catch (error) {
      return untouched(`tuning failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.changed = true;
    this.cache.set(key, tuning);
    this.report.shapes.push(tuning);
    return tuning.pick;
  };

  /** Saves new picks to the store; the report is final. */
  async finish(): Promise<TuneReport> {
    if (this.changed) await this.cache.save();
    this.report.spentMs = this.elapsed();
    return this.report;
  }

  private elapsed(): number {
    return performance.now() - this.start;
  }

  private async measure(problem: MatmulProblem, shape: string, shareMs: number): Promise<ShapeTuning> {
    const t0 = performance.now();
    const ctx = this.ctx;
    const { M, N, K, transposeB = false } = problem.args;
    const wantsDb = problem.biasGrad === true && !transposeB; // db = Σ_rows of B [K, N]
    const defaultVariant = ctx.kernelPreference;
    const scope = new OpScope(ctx);
    const scopes: OpScope[] = []; // one per candidate: its uniforms and split-K scratch
    const timer = this.timer ?? new GpuTuneTimer(ctx);
    try {
      // Seeded inputs, and the problem's own arguments on the tuner's buffers (too large for the
      // device: an error, and the shape keeps the default).
      ctx.device.pushErrorScope('out-of-memory');
      const seed = seedOf(shape);
      const a = seeded(M * K, seed);
      const b = seeded(K * N, seed + 1);
      const bias = problem.args.bias ? seeded(N, seed + 2) : undefined;
      const mask = problem.args.mask ? seeded(M * N, seed + 3) : undefined;
      const upload = (label: string, data: Float32Array<ArrayBuffer>) => {
        const buffer = scope.storage(`tune.${label}`, data.byteLength);
        ctx.device.queue.writeBuffer(buffer, 0, data);
        return buffer;
      };
      const out = scope.storage('tune.C', M * N * 4);
      const pre = problem.args.preActivation ? scope.storage('tune.Z', M * N * 4) : undefined;
      const db = wantsDb ? scope.storage('tune.db', N * 4) : undefined;
      const bBuffer = upload('B', b);
      const base: MatmulArgs = {
        ...problem.args,
        a: upload('A', a),
        b: bBuffer,
        out,
        bias: bias && upload('bias', bias),
        mask: mask && upload('mask', mask),
        preActivation: pre,
        biasGrad: undefined,
      };
      const oom = await ctx.device.popErrorScope();
      if (oom) throw new Error(`the tuner's buffers do not fit: ${oom.message}`);
      const nan = new Float32Array(M * N).fill(Number.NaN);
      let reference: Reference | undefined;
      const truth = () => {
        reference ??= this.reference(problem, a, b, bias, mask, wantsDb, seed);
        return reference;
      };

      // The prepared runs of the candidates that passed, by name, kept for the confirmation round.
      const kept = new Map<string, { run: TimedRun; reps: number }>();
      const run = async (variant: string, fuse: boolean): Promise<CandidateResult> => {
        const result: CandidateResult = { variant, fuseBiasGrad: fuse, status: 'failed' };
        const own = new OpScope(ctx);
        scopes.push(own);
        const label = `tune.${variant}${fuse ? '+db' : ''}`;
        ctx.device.pushErrorScope('out-of-memory');
        ctx.device.pushErrorScope('validation');
        let failure: unknown;
        let got: { c: Float32Array; pre?: Float32Array; db?: Float32Array } | undefined;
        let ops: GpuOp[] = [];
        let once = 0;
        try {
          const prepare = this.options.prepare ?? prepareMatmul;
          ops = [await prepare(ctx, own, { ...base, variant, biasGrad: fuse ? db : undefined }, label)];
          if (db && !fuse) {
            ops.push(await prepareBiasGrad(ctx, own, { grad: bBuffer, rows: K, cols: N, out: db }, `${label}.db`));
          }
          for (const o of [out, pre]) if (o) ctx.device.queue.writeBuffer(o, 0, nan);
          if (db) ctx.device.queue.writeBuffer(db, 0, nan, 0, N);
          once = await timer.time({ variant, fuseBiasGrad: fuse, ops }, 1); // the checked run, also the calibration
          got = {
            c: await ctx.readF32(out, 0, M * N),
            pre: pre && (await ctx.readF32(pre, 0, M * N)),
            db: db && (await ctx.readF32(db, 0, N)),
          };
        } catch (error) {
          failure = error;
        }
        const validation = await ctx.device.popErrorScope();
        const oom = await ctx.device.popErrorScope();
        const error = oom ?? validation;
        if (error || failure !== undefined || !got) {
          result.note = error ? `GPU error: ${error.message}` : `error: ${(failure as Error)?.message ?? failure}`;
          return result;
        }
        const check = this.compare(truth(), got, K, problem.activation !== undefined);
        result.maxError = check.maxError;
        result.check = check.full ? 'full' : 'sampled';
        result.elements = check.elements;
        if (check.worst) {
          result.note = `does not match the reference: ${check.worst}`;
          return result;
        }
        // Timed: reps runs per sample, so that a sample lasts about SAMPLE_MS (or 40 steps of quantised
        // timestamps, the error of its two ends then under 5%); the median of SAMPLES.
        const timed: TimedRun = { variant, fuseBiasGrad: fuse, ops };
        const sampleMs = Math.max(SAMPLE_MS, 40 * (timer.resolutionMs ?? 0));
        const reps = Math.max(1, Math.min(MAX_REPS, Math.ceil(sampleMs / Math.max(once, 1e-3))));
        const samples: number[] = [];
        for (let i = 0; i < SAMPLES; i++) samples.push((await timer.time(timed, reps)) / reps);
        Object.assign(result, { status: 'ok', ms: median(samples), samplesMs: samples, reps });
        kept.set(`${variant}${fuse ? '+db' : ''}`, { run: timed, reps });
        return result;
      };

      const candidates =
        this.options.candidates?.(problem) ??
        matmulCandidates(problem, defaultVariant, ctx.device.limits.maxStorageBufferBindingSize, ctx.subgroups);
      const results: CandidateResult[] = [];
      const overBudget = () => performance.now() - t0 > shareMs;
      const skip = (variant: string, fuse: boolean) =>
        results.push({ variant, fuseBiasGrad: fuse, status: 'skipped', note: "over this shape's share of the budget" });
      for (const [i, variant] of candidates.entries()) {
        if (i > 0 && overBudget()) skip(variant, false);
        else results.push(await run(variant, false));
      }
      // db fused into the product: tried for the fastest unfused candidate and for the default.
      if (wantsDb) {
        const best = decidePick(results, defaultVariant, 0).variant;
        for (const variant of new Set([best, defaultVariant])) {
          if (parseMatmulVariant(variant).spec.family === 'vec4') continue;
          if (matmulUnsupported({ ...base, biasGrad: db }, variant)) continue;
          if (overBudget()) skip(variant, true);
          else results.push(await run(variant, true));
        }
      }
      // A pick other than the default is confirmed: the two timed again, alternately (drift and load
      // then weigh on both alike); it stands only if it still beats the default by the margin.
      let pick = decidePick(results, defaultVariant, this.margin);
      const winner = kept.get(`${pick.variant}${pick.fuseBiasGrad ? '+db' : ''}`);
      const baseline = kept.get(defaultVariant);
      const notes: string[] = [];
      if (winner && baseline && winner !== baseline) {
        const a: number[] = [];
        const b: number[] = [];
        for (let i = 0; i < SAMPLES; i++) {
          a.push((await timer.time(baseline.run, baseline.reps)) / baseline.reps);
          b.push((await timer.time(winner.run, winner.reps)) / winner.reps);
        }
        const [ms0, ms1] = [median(a), median(b)];
        const name = `${pick.variant}${pick.fuseBiasGrad ? '+db' : ''}`;
        const confirmed = ms1 <= (1 - this.margin) * ms0;
        notes.push(
          `${name} ${confirmed ? 'confirmed' : 'not confirmed'} against ${defaultVariant}: ${ms1.toPrecision(3)} vs ${ms0.toPrecision(3)} ms timed alternately`,
        );
        if (!confirmed) pick = { variant: defaultVariant, fuseBiasGrad: false };
      }
      const skipped = results.filter((r) => r.status === 'skipped').length;
      if (skipped)
        notes.push(`${skipped} of ${results.length} candidates not run: over this shape's share of the budget`);
      return {
        shape,
        M,
        N,
        K,
        candidates: results,
        pick,
        source: 'measured',
        ms: performance.now() - t0,
        timing: this.timing,
        ...(notes.length ? { note: notes.join('; ') } : {}),
      };
    } finally {
      if (!this.timer) timer.destroy();
      for (const own of scopes) own.destroy();
      scope.destroy();
    }
  }

  /** The Float64 reference of the problem on the tuner's inputs: C (and Z, db) in full, or C at sampled elements. */
  private reference(
    problem: MatmulProblem,
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | undefined,
    mask: Float32Array | undefined,
    wantsDb: boolean,
    seed: number,
  ): Reference {
    const { M, N, K, transposeA = false, transposeB = false } = problem.args;
    const activation = problem.activation;
    let db: Float64Array | undefined;
    if (wantsDb) {
      db = new Float64Array(N);
      for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) db[n] += b[k * N + n] as number;
    }
    if (M * N * K <= FULL_CHECK_MACS) {
      const c = new Float64Array(M * N);
      const pre = problem.args.preActivation ? new Float64Array(M * N) : undefined;
      matmulRef(a, b, c, { M, N, K, transposeA, transposeB, bias, activation, mask, preActivation: pre });
      return { indices: undefined, c, pre, db };
    }
    // Sampled: the first and last elements and seeded others, each a 1×1 product of a row of op(A) and a column of op(B).
    const rand = mulberry32(seed + 4);
    const picked = new Set<number>([0, M * N - 1]);
    while (picked.size < Math.min(SAMPLED, M * N)) picked.add(Math.floor(rand() * M * N));
    const indices = Uint32Array.from([...picked].sort((x, y) => x - y));
    const c = new Float64Array(M * N);
    const pre = problem.args.preActivation ? new Float64Array(M * N) : undefined;
    const row = new Float64Array(K);
    const col = new Float64Array(K);
    const one = new Float64Array(1);
    const z = new Float64Array(1);
    for (const i of indices) {
      const m = Math.floor(i / N);
      const n = i % N;
      for (let k = 0; k < K; k++) {
        row[k] = (transposeA ? a[k * M + m] : a[m * K + k]) as number;
        col[k] = (transposeB ? b[n * K + k] : b[k * N + n]) as number;
      }
      matmulRef(row, col, one, {
        M: 1,
        N: 1,
        K,
        activation,
        bias: bias ? [bias[n] as number] : undefined,
        mask: mask ? [mask[i] as number] : undefined,
        preActivation: pre ? z : undefined,
      });
      c[i] = one[0] as number;
      if (pre) pre[i] = z[0] as number;
    }
    return { indices, c, pre, db };
  }

  /** Compares a candidate's outputs with the reference: |gpu − ref| ≤ 1e-5·√K (+2e-6 with an activation) + 1e-5·|ref|. */
  private compare(
    ref: Reference,
    got: { c: Float32Array; pre?: Float32Array; db?: Float32Array },
    K: number,
    activation: boolean,
  ): { maxError: number; worst: string | undefined; full: boolean; elements: number } {
    const atol = 1e-5 * Math.sqrt(K) + (activation ? 2e-6 : 0);
    const rtol = activation ? 1.2e-5 : 1e-5;
    let maxError = 0;
    let elements = 0;
    let worst: string | undefined;
    const each = (name: string, g: Float32Array, r: Float64Array, indices: ArrayLike<number> | undefined) => {
      const n = indices ? indices.length : r.length;
      elements += n;
      for (let j = 0; j < n; j++) {
        const i = indices ? (indices[j] as number) : j;
        const d = Math.abs((g[i] as number) - (r[i] as number));
        const error = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
        maxError = Math.max(maxError, error);
        if (!(error <= atol + rtol * Math.abs(r[i] as number)) && worst === undefined) {
          worst = `${name}[${i}]: gpu ${g[i]}, ref ${r[i]}`;
        }
      }
    };
    each('C', got.c, ref.c, ref.indices);
    if (ref.pre && got.pre) each('Z', got.pre, ref.pre, ref.indices);
    if (ref.db && got.db) each('db', got.db, ref.db, undefined);
    return { maxError, worst, full: ref.indices === undefined, elements };
  }
}
