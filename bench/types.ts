/**
 * The benchmark report: what `npm run bench` writes as JSON and demo/bench.html downloads, shows
 * and compares. `validateBenchReport` (schema.ts) checks a parsed file against these types.
 */
import type { AdapterSummary } from '../src/gpu/adapter.js';

/** The `schema` field of every report this version writes. */
export const BENCH_SCHEMA = 'webgpu-mlp-bench/1';

/**
 * `tune`: the tuner's measurements (every variant of every shape it met, its check and the pick), made
 * by the tuned step figures and, for the square sizes, by the matmul suite.
 */
export type SuiteName = 'matmul' | 'softmax_xent' | 'activation' | 'optimizer' | 'step' | 'step_cpu' | 'tune' | 'mnist';
export const SUITES: readonly SuiteName[] = [
  'matmul',
  'softmax_xent',
  'activation',
  'optimizer',
  'step',
  'step_cpu',
  'tune',
  'mnist',
];

/** What a figure's value counts: floating-point operations, bytes moved, or training samples, per second. */
export type Unit = 'GFLOP/s' | 'GB/s' | 'samples/s';

/**
 * How a figure was timed. `timestamp`: GPU timestamps written at the start and end of the timed
 * compute pass(es). `wall`: performance.now() around submit and `queue.onSubmittedWorkDone()`.
 * `cpu`: performance.now() around the Float64 reference on the CPU.
 */
export type TimingMethod = 'timestamp' | 'wall' | 'cpu';

/** Summary of repeated samples, in milliseconds per iteration. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation). */
  q1: number;
  q3: number;
}

/** One check of a figure's output against the Float64 reference, on the same inputs. */
export interface Check {
  verified: boolean;
  /** `full`: every output element; `sampled`: a sample of elements, each from a Float64 dot product or reference call. */
  method: 'full' | 'sampled';
  /** Output elements compared. */
  elements: number;
  /** `abs`: max |gpu − ref|; `rel`: max |gpu − ref| / max(|ref|, floor·max|ref|) per tensor (the floor is in `tolerance`). */
  measure: 'abs' | 'rel';
  maxError: number;
  /** The rule an element must meet, in words, e.g. `|gpu − ref| ≤ 6.4e-4 + 1e-5·|ref|`. */
  tolerance: string;
  /** The tensor (and element) where the error was largest, or the first that failed. */
  worst: string;
}

export interface BenchFigure {
  suite: SuiteName;
  /** Unique in a report, e.g. `matmul A·Bᵀ 256×256×256`. */
  name: string;
  params: Record<string, string | number | boolean>;
  /** `ok`: verified and timed; `failed`: the output did not match the reference (not timed); `skipped`: see note. */
  status: 'ok' | 'failed' | 'skipped';
  note?: string;
  unit: Unit;
  /** FLOP, bytes or samples per iteration. */
  work: number;
  timing?: TimingMethod;
  /** Iterations per timed sample (several dispatches or steps per timestamp query). */
  iterations?: number;
  /** Timed samples. */
  samples?: number;
  /** Per-iteration time over the samples. */
  timeMs?: Summary;
  /** Median per-iteration wall clock of the same samples (includes submit and readback latency), for comparison. */
  wallMs?: number;
  /** `unit` at the median time. */
  value?: number;
  /** `unit` at the fastest sample. */
  best?: number;
  /** True only when `check` passed. */
  verified: boolean;
  check?: Check;
  /** Step figures: CPU reference ms/step ÷ GPU ms/step. */
  speedup?: number;
}

/** How the timing was done, and whether GPU timestamps are exact enough. */
export interface TimingInfo {
  /** The method of the GPU figures. */
  method: 'timestamp' | 'wall';
  /** True when the timestamps come quantised (every probed value a multiple of `resolutionNs`); null without timestamps. */
  quantized: boolean | null;
  /** Largest power of two dividing every probed timestamp, in ns; null without timestamps. */
  resolutionNs: number | null;
  /** Median GPU time of a pass with one tiny dispatch, in µs; null without timestamps. */
  tinyPassUs: number | null;
  note: string;
  warmup: number;
  reps: number;
  targetSampleMs: number;
  maxFigureS: number;
}

export interface BenchReport {
  schema: typeof BENCH_SCHEMA;
  /** ISO 8601, when the run started. */
  date: string;
  durationS: number;
  mode: 'quick' | 'full';
  environment: { runtime: 'node' | 'browser'; version: string };
  adapter: AdapterSummary | null;
  /** The kernel family the wrappers picked (`tiled` on GPUs, `direct` on CPU implementations): the untuned default. */
  kernelPreference: string;
  /** Which step and MNIST figures were taken: untuned and tuned (`both`), or one of them. Absent in older reports. */
  tune?: 'both' | 'on' | 'off';
  features: string[];
  limits: Record<string, number>;
  timing: TimingInfo;
  figures: BenchFigure[];
}
