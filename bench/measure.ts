/**
 * The timing loop shared by every GPU figure: calibrate the iterations per sample from one warm
 * iteration, fit the plan into the per-figure time budget, warm up, then take the samples.
 */
import { summarise } from './stats.js';
import type { TimedSample } from './timer.js';
import type { Summary, TimingMethod } from './types.js';

/** How hard to measure; see `resolveBenchSettings` for the defaults of `--quick` and of a full run. */
export interface BenchSettings {
  quick: boolean;
  /** Timed samples per figure. */
  reps: number;
  /** Untimed samples (of the calibrated size) before them. */
  warmup: number;
  /** Iterations per sample are chosen so that a sample lasts at least this long. */
  targetSampleMs: number;
  /** At most this many iterations (dispatches or steps) per sample. */
  maxIterations: number;
  /** A figure whose estimated time exceeds this is skipped, or measured with fewer samples. */
  maxFigureS: number;
  /** Float64 reference steps timed for the S model. */
  cpuReps: number;
}

/** Fewer samples than this are taken only when one iteration alone nearly fills the budget. */
export const MIN_REPS = 3;

/**
 * Iterations a figure needs at the least: the checked one, the calibration, one sample. A figure
 * estimated to exceed the budget with these is skipped.
 */
export const MIN_RUNS = 3;

export interface Measurement {
  timing: Exclude<TimingMethod, 'cpu'>;
  iterations: number;
  samples: number;
  timeMs: Summary;
  wallMs: number;
  note?: string;
}

/**
 * Measures `sample(iterations)` (which runs that many iterations and times them as one sample).
 * `preferred` is the timer's method; a figure falls back to wall clock when any of its samples had
 * unusable timestamps, and says so. `spentMs`: what the figure already took (its checked run), counted
 * against the budget with the calibration run.
 */
export async function measure(
  sample: (iterations: number) => Promise<TimedSample>,
  settings: BenchSettings,
  preferred: 'timestamp' | 'wall',
  spentMs = 0,
): Promise<Measurement> {
  const calibration = await sample(1);
  const t1 = Math.max(calibration.ms, 1e-4);
  const spent = spentMs + calibration.wallMs;
  let iterations = Math.min(settings.maxIterations, Math.max(1, Math.ceil(settings.targetSampleMs / t1)));
  let reps = settings.reps;
  let warmup = settings.warmup;
  const budgetMs = settings.maxFigureS * 1000;
  const fits = () => spent + t1 * iterations * (warmup + reps) <= budgetMs;
  while (!fits() && reps > MIN_REPS) reps--;
  while (!fits() && iterations > 1) iterations = Math.max(1, Math.floor(iterations / 2));
  while (!fits() && warmup > 0) warmup--; // the checked run and the calibration already warmed it up
  while (!fits() && reps > 1) reps--;
  const reduced = reps < settings.reps || warmup < settings.warmup;
  for (let i = 0; i < warmup; i++) await sample(iterations);
  const taken: TimedSample[] = [];
  for (let i = 0; i < reps; i++) taken.push(await sample(iterations));
  const allTimestamps = preferred === 'timestamp' && taken.every((s) => s.fromTimestamps);
  const perIteration = taken.map((s) => (allTimestamps ? s.ms : s.wallMs) / iterations);
  const notes: string[] = [];
  if (preferred === 'timestamp' && !allTimestamps) notes.push('timestamps unusable here: wall clock');
  if (reduced) notes.push(`${reps} samples, ${warmup} warm-up, to fit the ${settings.maxFigureS} s budget`);
  const m: Measurement = {
    timing: allTimestamps ? 'timestamp' : 'wall',
    iterations,
    samples: reps,
    timeMs: summarise(perIteration),
    wallMs: summarise(taken.map((s) => s.wallMs / iterations)).median,
  };
  if (notes.length) m.note = notes.join('; ');
  return m;
}
