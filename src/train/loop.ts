/**
 * The training loop, once for everyone: `TrainingRun` is an async iterator of events — progress a
 * few times per epoch, checkpoints, the end of each epoch — so a caller pauses it by not asking for
 * the next event and resumes by asking again. `fit` drains it with callbacks (the library, the CLI);
 * the demo pulls it a chunk at a time between animation frames.
 *
 * Per epoch: a seeded shuffle, batches in the shuffled order (gathered on the GPU), several steps per
 * submit, statistics read asynchronously every `progressEvery` steps (one read behind, so the GPU never
 * drains for them), evaluation on the held-out set at the end.
 */

import { DeviceLostError } from '../gpu/context.js';
import { GpuWorkRefused } from '../gpu/refused.js';
import type { EarlyStoppingState, TrainingCheckpoint } from '../io/checkpoint_file.js';
import { checkSeed, permutation } from '../model/random.js';
import { checkPositiveInt, fail } from '../params.js';
import { EarlyStopper, type EarlyStopping, type EarlyStoppingResult, sameEarlyStopping } from './early_stopping.js';
import type { Evaluation } from './evaluate.js';
import type { Stats } from './model.js';
import type { LearningRateFunction } from './schedule.js';

export type { EarlyStoppingResult, TrainingCheckpoint };

export interface StepProgress {
  epoch: number;
  /** Steps done in this epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Mean training loss over this epoch so far. */
  loss: number;
  /** Training accuracy over this epoch so far. */
  accuracy: number;
  /** Rows trained on in this epoch so far (of this run). */
  samples: number;
  stepsPerSecond: number;
  samplesPerSecond: number;
  /** Milliseconds since the run started. */
  elapsedMs: number;
}

export interface EpochResult {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Milliseconds this epoch's training took (evaluation and the run's setup excluded). */
  epochMs: number;
  /** Milliseconds since the run started (its setup included). */
  elapsedMs: number;
  /** Rows trained on per second of `epochMs`: shader compilation and buffer setup are not in it (see setupMs). */
  samplesPerSecond: number;
  /**
   * First epoch of a run only: milliseconds spent before its first step making the step plans
   * (compiling shaders, allocating buffers; in fit, measuring the loss before training too, which makes
   * them), which samplesPerSecond leaves out.
   */
  setupMs?: number;
  /** The last epoch of a run with early stopping: what it decided (see FitOptions.earlyStopping). */
  earlyStopping?: EarlyStoppingResult;
}

/** What a run yields, in order. */
export type TrainingEvent =
  | { type: 'progress'; progress: StepProgress }
  | { type: 'checkpoint'; checkpoint: TrainingCheckpoint }
  | { type: 'epoch'; result: EpochResult };

/**
 * Thrown when training stops on an error; carries the last good checkpoint to resume from. The
 * checkpoint is not enumerable: an uncaught error prints its message (which says where the checkpoint
 * is) and stack, not megabytes of parameters.
 */
export class TrainingInterrupted extends Error {
  /** The last good checkpoint (its epoch and step are in the message), or undefined when none was taken. */
  declare readonly checkpoint: TrainingCheckpoint | undefined;

  constructor(message: string, checkpoint: TrainingCheckpoint | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrainingInterrupted';
    Object.defineProperty(this, 'checkpoint', { value: checkpoint, enumerable: false });
  }
}

/**
 * What the training loop drives: the GPU (Model + GpuDataset) or the CPU reference. Rows are
 * visited in the order given to `shuffle`; `step(start, rows)` trains on order[start, start + rows).
 */
export interface BatchTrainer {
  /** Rows in the training set. */
  readonly count: number;
  readonly learningRate: number;
  shuffle(order: Uint32Array): void;
  /** One step; `learningRate` replaces the optimizer's rate for this step only (a schedule's). */
  step(start: number, rows: number, learningRate?: number): Promise<void>;
  /**
   * Optional: several steps of `rows` rows at these starts, as one submission (the same result as one
   * by one), with a learning rate per step when a schedule gives them.
   */
  stepMany?(starts: readonly number[], rows: number, learningRates?: readonly number[]): Promise<void>;
  /** Optional: makes what steps of these row counts need (plans, pipelines) before the run's clock starts. */
  prepare?(rows: readonly number[]): Promise<void>;
  /** Training statistics since the last reset (waits for the work submitted so far). */
  readStats(): Promise<Stats>;
  resetStats(): void;
  /** Evaluation on the held-out set; undefined when there is none. */
  readonly evaluate: (() => Promise<Evaluation>) | undefined;
  /** The trainer's state, copied to the CPU. */
  snapshot(): Promise<unknown>;
  /** Puts a snapshot back. */
  restore(state: unknown): Promise<void>;
  /**
   * The mean loss of predictions that know nothing (softmax: ln C; sigmoid: C·ln 2), when the loss has
   * one: the scale the divergence rule compares with. Undefined for regression losses.
   */
  readonly chanceLoss?: number;
  /** Optional: what is wrong with a snapshot (a non-finite parameter…), or undefined when it is good. */
  checkSnapshot?(state: unknown): string | undefined;
  /**
   * Optional: ends an epoch without waiting for the trainer — its training statistics and a snapshot of
   * its state are set aside behind the epoch's steps, and the statistics reset for the next epoch — and
   * resolves with them once they are read. With it, epochs of a few steps are pipelined (TrainingRun).
   */
  endEpoch?(): Promise<{ stats: Stats; snapshot: unknown }>;
  /** Optional: releases what the trainer held for the run (e.g. pinned step plans). */
  close?(): void;
}

export interface RunOptions {
  /** The last epoch to train (1-based, inclusive). */
  epochs: number;
  batchSize: number;
  /** Seed of the per-epoch shuffles. Default 0. */
  seed?: number;
  /**
   * Steps between statistics reads, and so between progress events. May be changed on the run
   * between events (`run.progressEvery`). Default 25.
   */
  progressEvery?: number;
  /**
   * Read statistics one progress point late (default true): the read of point k is queued behind its
   * steps and awaited at point k + 1, so the GPU keeps working meanwhile. False waits for each read at
   * its own point (the progress event then describes the steps just submitted, after the GPU ran them).
   */
  readBehind?: boolean;
  /**
   * Steps encoded into one submission when the trainer can (`BatchTrainer.stepMany`): fewer submits,
   * the same arithmetic. Groups never cross a statistics read. Default 8.
   */
  stepsPerSubmit?: number;
  /**
   * Steps between checkpoints (rounded up to a statistics read). A checkpoint is also taken at the
   * start and after every epoch, the last included (then at epoch `epochs + 1`, step 0: resuming it
   * with more epochs continues the run), except when early stopping ended the run or restored an
   * earlier epoch's parameters. A diverging run is rolled back to the last one; after a lost device,
   * the error carries it (`TrainingInterrupted.checkpoint`) so training can resume on a new device.
   * Default: only at the start and after every epoch.
   */
  checkpointEvery?: number;
  /**
   * Start at this point (a TrainingCheckpoint's epoch and step); the same seed gives the same shuffles.
   * With `run` (what the checkpoint records of its run), a different seed, batch size or number of
   * training rows, or other early stopping settings, is refused: the run would not be the one the
   * checkpoint belongs to. `earlyStopping` is where the checkpoint's early stopping stood: the resumed
   * run stops and restores as the whole run would. A finished run's last checkpoint (epoch `epochs + 1`,
   * step 0) trains nothing: the run only yields it.
   */
  start?: { epoch: number; step: number; run?: RunIdentity; earlyStopping?: EarlyStoppingState };
  /** Aborting stops training at the next progress point; the parameters keep what was learned. */
  signal?: AbortSignal;
  /**
   * When training counts as diverged besides a non-finite loss: at a checkpoint or the end of an epoch,
   * the epoch's mean loss exceeding `factor` × the larger of the loss of chance predictions (when the
   * head has one) and the run's first loss read — a rise against where the run started, so that a run
   * whose first loss is already far above chance (badly scaled inputs) is not stopped for it. Default
   * factor 100; false turns the rule off (non-finite losses still stop the run).
   */
  divergence?: { factor?: number } | false;
  /**
   * What the divergence message advises instead of a smaller learning rate, when the caller knows
   * better (fit: the inputs are badly scaled, naming the column and its range).
   */
  divergenceAdvice?: string;
  /** A learning rate per step (a schedule, checked by resolveLearningRate); default the optimizer's own. */
  learningRate?: LearningRateFunction;
  /**
   * How many of the run's first steps have their rate asked for before it starts (default
   * SCHEDULE_CHECK_STEPS, 100,000): bounded, whatever the number of epochs; later steps are asked as
   * they come, and a bad rate there ends the run with TrainingInterrupted.
   */
  scheduleCheckSteps?: number;
  /** Stop when the monitored quantity stops improving (resolved by resolveEarlyStopping). */
  earlyStopping?: EarlyStopping;
}

/** What identifies a run, recorded in its checkpoints: a resumed run must match it to continue it. */
export interface RunIdentity {
  /** The shuffles' seed. */
  seed: number;
  batchSize: number;
  /** Rows in the training set. */
  rows: number;
}

/** Pipelined epochs (TrainingRun): epochs are submitted ahead until about this many steps are in flight… */
export const PIPELINE_STEPS = 16;
/** …and at most this many epochs. */
export const PIPELINE_MAX_EPOCHS = 8;

/** Inputs whose magnitude exceeds this (after the network's own scaling) are called badly scaled. */
export const BADLY_SCALED = 100;

/**
 * The divergence advice (RunOptions.divergenceAdvice) for training inputs x: [rows, cols] that are
 * badly scaled — some column reaching beyond ±BADLY_SCALED as the first layer sees it (after `affine`,
 * a table network's scaling) — naming the worst column (`names`, or its index) and its range; undefined
 * when the inputs are fine. `remedy` says what to do about it.
 */
export function scalingAdvice(
  x: Float32Array,
  cols: number,
  remedy: string,
  options: { names?: readonly string[]; affine?: { scale: Float32Array; shift: Float32Array } } = {},
): string | undefined {
  const min = new Float64Array(cols).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(cols).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < x.length; i++) {
    const c = i % cols;
    if (x[i] < min[c]) min[c] = x[i];
    if (x[i] > max[c]) max[c] = x[i];
  }
  let worst = -1;
  let size = BADLY_SCALED;
  for (let c = 0; c < cols; c++) {
    const s = options.affine?.scale[c] ?? 1;
    const t = options.affine?.shift[c] ?? 0;
    const reach = Math.max(Math.abs(min[c] * s + t), Math.abs(max[c] * s + t));
    if (reach > size) {
      size = reach;
      worst = c;
    }
  }
  if (worst < 0) return undefined;
  const number = (v: number) => v.toLocaleString('en-US', { maximumSignificantDigits: 5 });
  const name = options.names?.[worst];
  const which = name === undefined ? `input ${worst} (of ${cols})` : `input column ${JSON.stringify(name)}`;
  return `The inputs are badly scaled: ${which} ranges from ${number(min[worst])} to ${number(max[worst])}. ${remedy}`;
}

/**
 * The rows fit measures the loss before training on (the divergence rule's reference, RunOptions
 * divergence): the first batch, or fewer when that batch's forward pass would cost more than
 * INITIAL_LOSS_WORK multiply-adds (rows × parameters), but never under INITIAL_LOSS_MIN_ROWS: a mean
 * over a few hundred rows is ample for a rule that compares with 100× it, and the setup is spared a
 * large forward pass on the quick kernels ([784,1024,1024,10] B=1024: 1.9 G multiply-adds, 1.5 of its
 * 2.5 s setup on SwiftShader).
 */
export function initialLossRows(batch: number, parameters: number): number {
  const affordable = Math.floor(INITIAL_LOSS_WORK / Math.max(1, parameters));
  return Math.min(batch, Math.max(INITIAL_LOSS_MIN_ROWS, affordable));
}
/** See initialLossRows. */
export const INITIAL_LOSS_WORK = 2 ** 26;
/** See initialLossRows. */
export const INITIAL_LOSS_MIN_ROWS = 256;

/** The default divergence factor (see RunOptions.divergence). */
export const DIVERGENCE_FACTOR = 100;

/** Steps whose learning rate is asked for before a run starts, at most (see RunOptions.scheduleCheckSteps). */
export const SCHEDULE_CHECK_STEPS = 100_000;

/**
 * Runs steps [from, to) of an epoch: step s trains on rows [s·batchSize, s·batchSize + batchSize)
 * of the trainer's order (fewer for the last). Up to `group` consecutive steps of equal size go in
 * one submission where the trainer can (`stepMany`); the result is the same either way.
 */
export async function runSteps(
  trainer: BatchTrainer,
  from: number,
  to: number,
  batchSize: number,
  group = 8,
  /** The learning rate of step s of the epoch, when a schedule sets it. */
  rateAt?: (step: number) => number,
): Promise<void> {
  const rowsAt = (step: number) => Math.min(batchSize, trainer.count - step * batchSize);
  for (let s = from; s < to; ) {
    const rows = rowsAt(s);
    let size = 1;
    while (size < group && s + size < to && rowsAt(s + size) === rows) size++;
    if (size > 1 && trainer.stepMany) {
      const steps = Array.from({ length: size }, (_, i) => s + i);
      await trainer.stepMany(
        steps.map((k) => k * batchSize),
        rows,
        rateAt && steps.map(rateAt),
      );
    } else {
      size = 1;
      await trainer.step(s * batchSize, rows, rateAt?.(s));
    }
    s += size;
  }
}

/** The distinct row counts of an epoch's steps: the batch size, and a smaller last batch if any. */
export function stepRows(count: number, batchSize: number): number[] {
  const last = count % batchSize;
  return last === 0 || count < batchSize ? [Math.min(count, batchSize)] : [batchSize, last];
}

/** A training run over a BatchTrainer, as an async iterator of events (see the module comment). */
export class TrainingRun implements AsyncIterable<TrainingEvent> {
  /** Steps between statistics reads and progress events; may be changed between events. */
  progressEvery: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly stepsPerEpoch: number;
  /** One result per epoch completed so far. */
  readonly results: EpochResult[] = [];
  /** Where the run is: the epoch being trained (1-based) and the steps of it done. */
  epoch: number;
  step: number;
  /** The last checkpoint taken (the last good state). */
  lastCheckpoint: TrainingCheckpoint | undefined;
  private readonly group: number;
  private readonly seed: number;
  private readonly readBehind: boolean;
  private readonly checkpointEvery: number;
  private readonly identity: RunIdentity;
  private readonly divergenceFactor: number;
  /** The first mean loss read in this run: the scale divergence is measured against (with the chance loss). */
  private firstLoss: number | undefined;
  /**
   * The loss of the network before the run's first step, when the caller measured it (fit does, on a
   * batch of its training rows): the divergence rule's reference in place of the first reading, which
   * may already include a rise when a rate explodes within the first progress interval.
   */
  initialLoss: number | undefined;
  /**
   * Milliseconds of the run's setup its caller did before starting it (fit measures the loss before
   * training with the step plan, which compiles its pipelines then): counted in the first epoch's setupMs
   * and in elapsedMs.
   */
  setupBeforeMs = 0;
  /** The latest statistics read, and where. */
  private latest: { epoch: number; step: number; stats: Stats } | undefined;
  private started = false;
  /** When the run started (performance.now()). */
  private t0 = 0;
  /** The run's early stopping, whose state goes into every checkpoint. */
  private stopping: EarlyStopper | undefined;

  constructor(
    readonly trainer: BatchTrainer,
    private readonly options: RunOptions,
  ) {
    const { epochs, batchSize } = options;
    checkPositiveInt('epochs', epochs);
    checkPositiveInt('batchSize', batchSize, trainer.count);
    this.progressEvery = options.progressEvery ?? 25;
    checkPositiveInt('progressEvery', this.progressEvery);
    this.group = options.stepsPerSubmit ?? 8;
    checkPositiveInt('stepsPerSubmit', this.group, 256);
    this.epochs = epochs;
    this.batchSize = batchSize;
    this.seed = checkSeed('seed', options.seed ?? 0);
    this.readBehind = options.readBehind ?? true;
    this.checkpointEvery = options.checkpointEvery ?? Number.POSITIVE_INFINITY;
    if (this.checkpointEvery !== Number.POSITIVE_INFINITY) checkPositiveInt('checkpointEvery', this.checkpointEvery);
    const { signal } = options;
    if (
      signal !== undefined &&
      (typeof signal !== 'object' || signal === null || typeof signal.aborted !== 'boolean')
    ) {
      fail('signal', signal, "an AbortSignal (AbortController's .signal)");
    }
    this.stepsPerEpoch = Math.ceil(trainer.count / batchSize);
    const start = options.start ?? { epoch: 1, step: 0 };
    if (
      !Number.isInteger(start.epoch) ||
      start.epoch < 1 ||
      !Number.isInteger(start.step) ||
      start.step < 0 ||
      start.step >= this.stepsPerEpoch
    ) {
      throw new Error(
        `start = ${JSON.stringify(start)} is invalid: expected epoch ≥ 1 and step in 0..${this.stepsPerEpoch - 1}`,
      );
    }
    // A finished run's last checkpoint (epoch `epochs + 1`, step 0) is that run's end: nothing to train.
    if (start.epoch > epochs + 1 || (start.epoch === epochs + 1 && start.step > 0)) {
      throw new Error(
        `epochs = ${epochs} is invalid: the run resumes at epoch ${start.epoch}, step ${start.step}, past the end of a run of ${epochs} epochs; give epochs ≥ ${start.epoch} (the total, counting the epochs already trained)`,
      );
    }
    this.identity = { seed: this.seed, batchSize, rows: trainer.count };
    if (start.run) {
      const mismatches = (Object.keys(this.identity) as (keyof RunIdentity)[])
        .filter((k) => start.run?.[k] !== undefined && start.run[k] !== this.identity[k])
        .map((k) => `${k} ${start.run?.[k]} in the checkpoint, ${this.identity[k]} now`);
      const early = (e: EarlyStoppingState['settings'] | undefined) => (e ? JSON.stringify(e) : 'none');
      if (!sameEarlyStopping(start.earlyStopping?.settings, options.earlyStopping)) {
        mismatches.push(
          `early stopping ${early(start.earlyStopping?.settings)} in the checkpoint, ${early(options.earlyStopping)} now`,
        );
      }
      if (mismatches.length) {
        throw new Error(
          `the checkpoint belongs to another run (${mismatches.join('; ')}): resume with the same seed, batch size, training data and early stopping, or start a new run`,
        );
      }
    }
    const divergence = options.divergence;
    this.divergenceFactor = divergence === false ? Number.POSITIVE_INFINITY : (divergence?.factor ?? DIVERGENCE_FACTOR);
    if (!(this.divergenceFactor > 1)) {
      fail('divergence.factor', this.divergenceFactor, 'a number > 1');
    }
    const checkSteps = options.scheduleCheckSteps;
    if (checkSteps !== undefined && !(Number.isSafeInteger(checkSteps) && checkSteps >= 0)) {
      fail('scheduleCheckSteps', checkSteps, 'an integer ≥ 0');
    }
    this.epoch = start.epoch;
    this.step = start.step;
    this.checkSchedule();
  }

  /**
   * Asks a learning-rate schedule for the rate of the run's first steps before it starts — all of them
   * up to `scheduleCheckSteps` (100,000 by default: a pure function of its arguments costs microseconds
   * a step, so well under a second), never more, however many epochs are asked for (early stopping may
   * end a run of 10⁸ epochs after a few) — so that a rate out of range is an error now rather than in the
   * middle of training. A preset's rates lie between its initial and its last rate, checked when it was
   * resolved; a function's later steps are asked as they come (see rateAt).
   */
  private checkSchedule(): void {
    let left = this.options.scheduleCheckSteps ?? SCHEDULE_CHECK_STEPS;
    for (let epoch = this.epoch; epoch <= this.epochs && left > 0; epoch++) {
      const rateAt = this.rateAt(epoch);
      if (!rateAt) return;
      for (let s = epoch === this.epoch ? this.step : 0; s < this.stepsPerEpoch && left > 0; s++, left--) rateAt(s);
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<TrainingEvent, void, undefined> {
    if (this.started) throw new Error('a TrainingRun is iterated once; make a new run to train again');
    this.started = true;
    return this.events();
  }

  private async *events(): AsyncGenerator<TrainingEvent, void, undefined> {
    const { trainer } = this;
    const n = trainer.count;
    // The run's clock starts with the setup its caller did for it (setupBeforeMs).
    const t0 = performance.now() - this.setupBeforeMs;
    this.t0 = t0;
    const { earlyStopping, start } = this.options;
    // A resumed run's early stopping goes on from where the checkpoint's stood (same settings: checked).
    const from = sameEarlyStopping(start?.earlyStopping?.settings, earlyStopping) ? start?.earlyStopping : undefined;
    const stopping = earlyStopping && new EarlyStopper(earlyStopping, trainer, from);
    this.stopping = stopping;
    let sinceCheckpoint = 0;
    let setupMs: number | undefined;
    try {
      // The first checkpoint's state is read while the step plans are made (nothing before the first
      // step changes it): one wait for both instead of one after the other.
      const first = trainer.prepare ? trainer.snapshot() : undefined;
      first?.catch(() => {}); // surfaces below, where it is awaited
      if (trainer.prepare && this.epoch <= this.epochs) {
        await trainer.prepare(stepRows(n, this.batchSize));
        setupMs = performance.now() - t0;
      }
      yield await this.takeCheckpoint(this.epoch, this.step, await first);
      while (this.epoch <= this.epochs) {
        if (this.pipelines()) {
          const ended = yield* this.pipelinedEpochs(stopping, setupMs);
          setupMs = undefined;
          sinceCheckpoint = 0;
          if (ended) return;
          continue;
        }
        const epoch = this.epoch;
        const te = performance.now();
        trainer.shuffle(this.order(epoch));
        trainer.resetStats();
        const first = this.step;
        // Statistics are read one progress point late (readBehind): the read of point k is queued
        // behind its steps and awaited at point k + 1, so the GPU keeps working on the next steps
        // meanwhile instead of draining. Checkpoints and the end of the epoch wait for the current point.
        let pending: { stats: Promise<Stats>; step: number } | undefined;
        const report = async (point: { stats: Promise<Stats>; step: number }): Promise<TrainingEvent> => {
          const stats = await point.stats;
          const seconds = (performance.now() - te) / 1000;
          return this.progress(epoch, point.step, stats, (point.step - first) / seconds, stats.count / seconds);
        };
        let lastStats: Stats | undefined;
        // From one statistics read (every `progressEvery` steps, and at the end of the epoch) to the next.
        while (this.step < this.stepsPerEpoch) {
          const s = this.step;
          const every = this.progressEvery;
          checkPositiveInt('progressEvery', every);
          const nextRead = Math.min(this.stepsPerEpoch, (Math.floor(s / every) + 1) * every);
          await runSteps(trainer, s, nextRead, this.batchSize, this.group, this.rateAt(epoch));
          sinceCheckpoint += nextRead - s;
          this.step = nextRead;
          const lastStep = nextRead === this.stepsPerEpoch;
          const point = { stats: trainer.readStats(), step: nextRead };
          point.stats.catch(() => {}); // a failure surfaces where it is awaited, never as an unhandled rejection
          if (pending) yield await report(pending);
          pending = point;
          const checkpointDue = sinceCheckpoint >= this.checkpointEvery && !lastStep;
          const aborted = this.options.signal?.aborted === true;
          if (lastStep || checkpointDue || aborted || !this.readBehind) {
            pending = undefined;
            yield await report(point);
            if (lastStep) lastStats = await point.stats;
          }
          if (aborted) return;
          if (checkpointDue) {
            yield await this.takeCheckpoint(epoch, this.step);
            sinceCheckpoint = 0;
          }
        }
        // The last point's statistics are the epoch's (read after its last step).
        const trainStats = lastStats ?? (await trainer.readStats());
        const stop = yield* this.finishEpoch(epoch, trainStats, performance.now() - te, setupMs, stopping);
        setupMs = undefined;
        sinceCheckpoint = 0;
        if (stop) return;
      }
    } catch (error) {
      if (error instanceof TrainingInterrupted) throw error;
      if (error instanceof GpuWorkRefused) {
        // Steps the GPU refused did nothing there, but their count went on: back to the last checkpoint.
        const last = this.lastCheckpoint;
        if (last) await trainer.restore(last.state);
        const where = last
          ? ` The network was rolled back to the last checkpoint (epoch ${last.epoch}, step ${last.step}).`
          : '';
        throw new TrainingInterrupted(`${error.message}.${where}`, last, { cause: error });
      }
      if (error instanceof DeviceLostError) {
        const last = this.lastCheckpoint;
        const where = last
          ? ` Resume from the last checkpoint (epoch ${last.epoch}, step ${last.step}) on a new device.`
          : '';
        throw new TrainingInterrupted(`${error.message}${where}`, last, { cause: error });
      }
      throw error;
    } finally {
      trainer.close?.();
    }
  }

  /** The seeded order of the rows in `epoch`. */
  private order(epoch: number): Uint32Array {
    return permutation(this.trainer.count, (this.seed * 7919 + epoch) >>> 0);
  }

  /** A progress event for the statistics read at `step` of `epoch`, checked for divergence first. */
  private async progress(
    epoch: number,
    step: number,
    stats: Stats,
    stepsPerSecond: number,
    samplesPerSecond: number,
  ): Promise<TrainingEvent> {
    if (stats.nonFinite > 0) {
      await this.diverged(epoch, step, `the loss became ${stats.lastLoss} (not finite)`);
    }
    this.firstLoss ??= stats.meanLoss;
    this.latest = { epoch, step, stats };
    return {
      type: 'progress',
      progress: {
        epoch,
        step,
        stepsPerEpoch: this.stepsPerEpoch,
        loss: stats.meanLoss,
        accuracy: stats.accuracy,
        samples: stats.count,
        stepsPerSecond,
        samplesPerSecond,
        elapsedMs: performance.now() - this.t0,
      },
    };
  }

  /**
   * A checkpoint event at (epoch, step), of the trainer's state now or of `state` (a pipelined epoch's
   * snapshot), after the divergence rule; a state that is not good is never kept as the last good one.
   */
  private async takeCheckpoint(epoch: number, step: number, state?: unknown): Promise<TrainingEvent> {
    await this.checkExploded();
    const taken = state ?? (await this.trainer.snapshot());
    const bad = this.trainer.checkSnapshot?.(taken);
    if (bad) await this.diverged(epoch, step, bad);
    this.lastCheckpoint = {
      epoch,
      step,
      state: taken,
      run: this.identity,
      ...(this.stopping && { earlyStopping: this.stopping.state() }),
    };
    return { type: 'checkpoint', checkpoint: this.lastCheckpoint };
  }

  /**
   * The end of an epoch whose statistics are `trainStats`: the divergence rule, evaluation, early
   * stopping, the checkpoint and the epoch event. `snapshot` is the trainer's state at the end of this
   * epoch when it was set aside (pipelined epochs), and `ahead` says the trainer has gone on since: a run
   * that ends here is put back to it. Without a snapshot, the trainer's state now is the epoch's.
   * Returns true when the run ends here.
   */
  private async *finishEpoch(
    epoch: number,
    trainStats: Stats,
    epochMs: number,
    setupMs: number | undefined,
    stopping: EarlyStopper | undefined,
    snapshot?: unknown,
    ahead = false,
  ): AsyncGenerator<TrainingEvent, boolean, undefined> {
    const { trainer } = this;
    this.latest = { epoch, step: this.stepsPerEpoch, stats: trainStats };
    await this.checkExploded();
    const result: EpochResult = {
      epoch,
      trainLoss: trainStats.meanLoss,
      trainAccuracy: trainStats.accuracy,
      epochMs,
      elapsedMs: 0,
      samplesPerSecond: trainStats.count / (epochMs / 1000),
    };
    if (setupMs !== undefined) result.setupMs = setupMs;
    if (trainer.evaluate) {
      const ev = await trainer.evaluate();
      result.testLoss = ev.loss;
      result.testAccuracy = ev.accuracy;
    }
    const taken = snapshot === undefined ? undefined : async () => snapshot;
    const stop = stopping ? await stopping.after(result, epoch === this.epochs, taken) : false;
    result.elapsedMs = performance.now() - this.t0;
    this.results.push(result);
    this.step = 0;
    const restored = result.earlyStopping?.restored === true;
    if (!stop && !restored) {
      // After every epoch, the last included: a finished run's checkpoint continues it with more
      // epochs (nothing retrained). takeCheckpoint checks that the state is good.
      yield await this.takeCheckpoint(epoch + 1, 0, snapshot);
    } else {
      // Stopped early or restored to the best epoch: the state is not where the run's epochs end, so
      // no checkpoint; the parameters left must be good too.
      if (ahead && !restored) await trainer.restore(snapshot);
      if (trainer.checkSnapshot) {
        const bad = trainer.checkSnapshot(restored || snapshot === undefined ? await trainer.snapshot() : snapshot);
        if (bad) await this.diverged(epoch, this.stepsPerEpoch, bad);
      }
    }
    yield { type: 'epoch', result };
    this.epoch = epoch + 1;
    return stop;
  }

  /**
   * Whether the epoch about to start is pipelined: one statistics read per epoch (at most
   * `progressEvery` steps), no held-out evaluation, statistics read behind, from its first step, on a
   * trainer that can end an epoch without waiting (`endEpoch`).
   */
  private pipelines(): boolean {
    return (
      this.trainer.endEpoch !== undefined &&
      this.trainer.evaluate === undefined &&
      this.readBehind &&
      this.step === 0 &&
      this.stepsPerEpoch <= this.progressEvery
    );
  }

  /**
   * Pipelined epochs, for data sets whose epochs are a few steps (where waiting for the GPU at every
   * epoch's end would cost more than the epoch): up to `depth` epochs are submitted ahead, each closed
   * by `endEpoch` (its statistics and state copied aside on the GPU), and the events of an epoch are
   * yielded once its copy is read back, while the GPU trains the next. Events, results, checkpoints and
   * early stopping are those of unpipelined epochs, one submit or a few late; when the run stops early
   * (early stopping, an abort) the trainer is put back to the state of the epoch it stopped at, so what
   * the GPU ran ahead is undone. Returns true when the run ends.
   */
  private async *pipelinedEpochs(
    stopping: EarlyStopper | undefined,
    setupMs: number | undefined,
  ): AsyncGenerator<TrainingEvent, boolean, undefined> {
    const { trainer } = this;
    const endEpoch = trainer.endEpoch?.bind(trainer);
    if (!endEpoch) return false;
    const depth = Math.min(PIPELINE_MAX_EPOCHS, Math.max(2, Math.ceil(PIPELINE_STEPS / this.stepsPerEpoch)));
    const queue: { epoch: number; record: Promise<{ stats: Stats; snapshot: unknown }> }[] = [];
    let next = this.epoch;
    let setup = setupMs;
    let last = performance.now();
    trainer.resetStats();
    try {
      while (queue.length || (next <= this.epochs && this.pipelines())) {
        // Submit ahead: each epoch's shuffle, steps and end go in queue order behind the previous one's.
        while (next <= this.epochs && queue.length < depth && this.pipelines() && !this.options.signal?.aborted) {
          trainer.shuffle(this.order(next));
          await runSteps(trainer, 0, this.stepsPerEpoch, this.batchSize, this.group, this.rateAt(next));
          const record = endEpoch();
          record.catch(() => {}); // surfaces where it is awaited
          queue.push({ epoch: next, record });
          next++;
        }
        const head = queue.shift();
        if (!head) break;
        const { epoch } = head;
        const { stats, snapshot } = await head.record;
        const now = performance.now();
        const epochMs = now - last;
        last = now;
        const seconds = epochMs / 1000;
        this.epoch = epoch;
        this.step = this.stepsPerEpoch;
        yield await this.progress(
          epoch,
          this.stepsPerEpoch,
          stats,
          this.stepsPerEpoch / seconds,
          stats.count / seconds,
        );
        if (this.options.signal?.aborted === true) {
          // As an unpipelined run stops at its progress point: the state of that point, not what ran ahead.
          if (queue.length) await trainer.restore(snapshot);
          return true;
        }
        const stop = yield* this.finishEpoch(epoch, stats, epochMs, setup, stopping, snapshot, queue.length > 0);
        setup = undefined;
        if (stop) return true;
      }
      return this.epoch > this.epochs;
    } finally {
      for (const { record } of queue) await record.catch(() => {}); // nothing left reading
    }
  }

  /**
   * The learning rate of each step of `epoch` when a schedule sets them. Past the steps checked before
   * the run (checkSchedule), a rate out of range ends the run as it is reached, before that step: a
   * TrainingInterrupted with the schedule's own error and the last checkpoint, the network keeping what
   * it learned up to there.
   */
  private rateAt(epoch: number): ((step: number) => number) | undefined {
    const schedule = this.options.learningRate;
    const stepsPerEpoch = this.stepsPerEpoch;
    if (!schedule) return undefined;
    return (step) => {
      const at = { epoch, step: (epoch - 1) * stepsPerEpoch + step, stepsPerEpoch };
      if (!this.started) return schedule(at);
      try {
        return schedule(at);
      } catch (error) {
        const last = this.lastCheckpoint;
        throw new TrainingInterrupted(
          `${(error as Error).message} (a step past the first ${this.options.scheduleCheckSteps ?? SCHEDULE_CHECK_STEPS} checked before the run: asked as the run reached it). The network keeps what it learned up to there${last ? `; resume from the last checkpoint (epoch ${last.epoch}, step ${last.step}) with a schedule that stays in range` : ''}.`,
          last,
          { cause: error },
        );
      }
    };
  }

  /**
   * The divergence rule for a loss that stays finite but explodes, applied before every checkpoint and
   * at the end of every epoch (so such a state is never kept as "last good"): the mean training loss of
   * the epoch so far must not exceed `factor` × the larger of the loss of chance predictions (the
   * trainer's `chanceLoss`: ln C for softmax, C·ln 2 for sigmoid; none for regression) and the first
   * loss read in the run. A run is stopped for a rise, not for where it started.
   */
  private async checkExploded(): Promise<void> {
    const latest = this.latest;
    if (!latest || !Number.isFinite(this.divergenceFactor)) return;
    const chance = this.trainer.chanceLoss ?? 0;
    const first = this.initialLoss ?? this.firstLoss ?? 0;
    const reference = Math.max(chance, first, Number.MIN_VALUE);
    const loss = latest.stats.meanLoss;
    if (loss > this.divergenceFactor * reference) {
      const what =
        chance >= first
          ? 'the loss of chance predictions'
          : this.initialLoss === undefined
            ? 'its first reading'
            : 'the loss before training';
      await this.diverged(
        latest.epoch,
        latest.step,
        `the mean loss rose to ${loss.toPrecision(4)}, over ${this.divergenceFactor}× ${what} (${reference.toPrecision(4)})`,
      );
    }
  }

  /** Rolls back to the last checkpoint and throws: the loss is no longer finite, or exploded. */
  private async diverged(epoch: number, step: number, what: string): Promise<never> {
    const last = this.lastCheckpoint;
    let restored = '';
    if (last) {
      await this.trainer.restore(last.state);
      restored = ` The parameters were rolled back to the last good checkpoint (epoch ${last.epoch}, step ${last.step}).`;
    }
    const rate = this.trainer.learningRate;
    const advice = this.options.divergenceAdvice;
    throw new TrainingInterrupted(
      `training diverged in epoch ${epoch}, step ${step}: ${what}. ${advice ? `${advice}, before trying a smaller learning rate (now ${rate})` : `Try a smaller learning rate (now ${rate})`}.${restored}`,
      last,
    );
  }
}

/** Callbacks of `fit`, one per kind of event. */
export interface FitCallbacks {
  /** Called a few times per epoch (every `progressEvery` steps) with statistics read from the GPU. */
  onStep?: (p: StepProgress) => void;
  onEpoch?: (e: EpochResult) => void | Promise<void>;
  /** Called with every checkpoint (e.g. to write it to a file). */
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => void | Promise<void>;
}

export type FitOptions = RunOptions & FitCallbacks;

/** Trains for `epochs` epochs over a BatchTrainer (a TrainingRun drained). Returns one result per epoch completed. */
export async function fit(trainer: BatchTrainer, options: FitOptions): Promise<EpochResult[]> {
  return drive(new TrainingRun(trainer, options), options);
}

/** Throws unless each callback given is a function (before a run changes anything). */
export function checkCallbacks(
  callbacks: { readonly onStep?: unknown; readonly onEpoch?: unknown; readonly onCheckpoint?: unknown },
  prefix = '',
): void {
  for (const name of ['onStep', 'onEpoch', 'onCheckpoint'] as const) {
    const f = callbacks[name];
    if (f !== undefined && typeof f !== 'function') {
      throw new Error(`${prefix}${name} is ${typeof f}: expected a function, or nothing`);
    }
  }
}

/** Drains a run, handing each event to its callback. Returns one result per epoch completed. */
export async function drive(run: TrainingRun, callbacks: FitCallbacks): Promise<EpochResult[]> {
  checkCallbacks(callbacks);
  for await (const event of run) {
    if (event.type === 'progress') callbacks.onStep?.(event.progress);
    else if (event.type === 'checkpoint') await callbacks.onCheckpoint?.(event.checkpoint);
    else await callbacks.onEpoch?.(event.result);
  }
  return run.results;
}
