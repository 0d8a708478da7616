/**
 * The timing loop shared by every GPU figure: calibrate the iterations per sample from one warm
 * iteration, fit the plan into the per-figure time budget, warm up, then take the samples.
 */

import type { PassSample } from '../src/gpu/pass_timer.js';
import { summarise } from './stats.js';
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
  sample: (iterations: number) => Promise<PassSample>,
  settings: BenchSettings,
  preferred: 'timestamp' | 'wall',
  spentMs = 0,
): Promise<Measurement> {
  const [m] = await measureInterleaved([sample], settings, preferred, spentMs);
  return m as Measurement;
}

/**
 * Measures several figures with their samples interleaved (A, B, A, B, …) after calibrating each: a
 * change of the machine's load during the run then weighs on all of them alike, which is how two
 * figures are compared in one run (the untuned and the tuned step). Each gets the figure budget.
 */
export async function measureInterleaved(
  samplers: readonly ((iterations: number) => Promise<PassSample>)[],
  settings: BenchSettings,
  preferred: 'timestamp' | 'wall',
  spentMs = 0,
): Promise<Measurement[]> {
  const t1: number[] = [];
  let spent = spentMs;
  for (const sample of samplers) {
    const calibration = await sample(1);
    t1.push(Math.max(calibration.ms, 1e-4));
    spent += calibration.wallMs;
  }
  const iterations = t1.map((t) =>
    Math.min(settings.maxIterations, Math.max(1, Math.ceil(settings.targetSampleMs / t))),
  );
  let reps = settings.reps;
  let warmup = settings.warmup;
  const budgetMs = settings.maxFigureS * 1000 * samplers.length;
  const round = () => t1.reduce((sum, t, i) => sum + t * (iterations[i] as number), 0);
  const fits = () => spent + round() * (warmup + reps) <= budgetMs;
  const halve = () => {
    for (let i = 0; i < iterations.length; i++) iterations[i] = Math.max(1, Math.floor((iterations[i] as number) / 2));
  };
  while (!fits() && reps > MIN_REPS) reps--;
  while (!fits() && iterations.some((n) => n > 1)) halve();
  while (!fits() && warmup > 0) warmup--; // the checked run and the calibration already warmed it up
  while (!fits() && reps > 1) reps--;
  const reduced = reps < settings.reps || warmup < settings.warmup;
  for (let w = 0; w < warmup; w++) for (const [i, sample] of samplers.entries()) await sample(iterations[i] as number);
  const taken: PassSample[][] = samplers.map(() => []);
  for (let r = 0; r < reps; r++) {
    for (const [i, sample] of samplers.entries()) taken[i]?.push(await sample(iterations[i] as number));
  }
  return taken.map((samples, i) => {
    const n = iterations[i] as number;
    const allTimestamps = preferred === 'timestamp' && samples.every((s) => s.fromTimestamps);
    const perIteration = samples.map((s) => (allTimestamps ? s.ms : s.wallMs) / n);
    const notes: string[] = [];
    if (preferred === 'timestamp' && !allTimestamps) notes.push('timestamps unusable here: wall clock');
    if (reduced) notes.push(`${reps} samples, ${warmup} warm-up, to fit the ${settings.maxFigureS} s budget`);
    if (samplers.length > 1) notes.push(`samples interleaved with ${samplers.length - 1} other figure(s)`);
    const m: Measurement = {
      timing: allTimestamps ? 'timestamp' : 'wall',
      iterations: n,
      samples: reps,
      timeMs: summarise(perIteration),
      wallMs: summarise(samples.map((s) => s.wallMs / n)).median,
    };
    if (notes.length) m.note = notes.join('; ');
    return m;
  });
}
