/**
 * How the tuner times a candidate: `reps` runs of its dispatches encoded into one compute pass and
 * submitted once, timed by GPU timestamps at the pass's start and end (timestamp-query), or without
 * them by the wall clock from submit to `onSubmittedWorkDone`. Repeating inside one pass counts what a
 * dispatch costs in a real step (its share of the pass), and makes a sample long enough that a
 * browser's timestamp quantisation (about 0.1 ms) or the submit's latency stays small against it.
 * Tests give a `TuneTimer` of their own, whose answers decide the pick.
 */
import type { GpuContext } from '../gpu/context.js';
import { GpuPassTimer } from '../gpu/pass_timer.js';
import type { GpuOp } from '../kernels/op.js';

/** What is being timed: the candidate and its prepared dispatches. */
export interface TimedRun {
  variant: string;
  fuseBiasGrad: boolean;
  /** One run: these ops in order (the matmul's dispatches, and bias_grad's when db is separate). */
  ops: readonly GpuOp[];
}

export interface TuneTimer {
  /** `timestamp`, `wall`, or what a test's timer calls itself. */
  readonly method: string;
  /**
   * The step of the timestamps seen so far, ms (browsers and Dawn may quantise them, e.g. to 0.1 ms
   * or 2¹⁶ ns): samples are made long enough that it stays small against them. 0 when unknown.
   */
  readonly resolutionMs?: number;
  /** Ms for `reps` runs of `run.ops` in one compute pass (a sample). */
  time(run: TimedRun, reps: number): Promise<number>;
  destroy(): void;
}

/**
 * The GPU timer (src/gpu/pass_timer.ts) as the tuner uses it: a sample is the pass's GPU time, or the
 * wall clock where the device has no timestamps or they were unusable, here including a pass whose
 * end equals its start (a pass shorter than the step of quantised timestamps: 0 ms would be no time).
 */
export class GpuTuneTimer extends GpuPassTimer implements TuneTimer {
  constructor(ctx: GpuContext) {
    super(ctx, 'tune');
  }

  async time(run: TimedRun, reps: number): Promise<number> {
    const sample = await this.timePass(run.ops, reps, 'tune.sample');
    return sample.fromTimestamps && sample.ms > 0 ? sample.ms : sample.wallMs;
  }
}
