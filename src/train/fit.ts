/**
 * The training loop over a GPU-resident data set: seeded shuffling per epoch, batches gathered on
 * the GPU, one submit per step, statistics read asynchronously a few times per epoch, evaluation
 * with a confusion matrix at the end of each epoch.
 */

import { DeviceLostError } from '../gpu/context.js';
import { permutation } from '../model/random.js';
import type { GpuDataset } from './dataset.js';
import type { Checkpoint, Model, Stats } from './model.js';

export interface StepProgress {
  epoch: number;
  /** Steps done in this epoch. */
  step: number;
  stepsPerEpoch: number;
  /** Mean training loss over this epoch so far. */
  loss: number;
  /** Training accuracy over this epoch so far. */
  accuracy: number;
  stepsPerSecond: number;
  samplesPerSecond: number;
  /** Milliseconds since fit started. */
  elapsedMs: number;
}

export interface EpochResult {
  epoch: number;
  trainLoss: number;
  trainAccuracy: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Milliseconds this epoch's training took (evaluation excluded). */
  epochMs: number;
  elapsedMs: number;
  samplesPerSecond: number;
}

export interface FitOptions {
  epochs: number;
  batchSize: number;
  /** Seed of the per-epoch shuffles. Default 0. */
  seed?: number;
  /**
   * Called a few times per epoch (every `progressEvery` steps) with statistics read from the GPU.
   * Each read is awaited at the next progress point, so the GPU never drains for it: the call for
   * step s comes while steps s + 1 … s + progressEvery are already queued.
   */
  onStep?: (p: StepProgress) => void;
  onEpoch?: (e: EpochResult) => void | Promise<void>;
  /** Aborting stops training at the next progress point; parameters stay as trained so far. */
  signal?: AbortSignal;
  /** Steps between statistics reads. Default 25. */
  progressEvery?: number;
  /**
   * Steps encoded into one submission when the trainer can (`BatchTrainer.stepMany`): fewer submits,
   * the same arithmetic. Groups never cross a statistics read. Default 8.
   */
  stepsPerSubmit?: number;
  /**
   * Steps between checkpoints (rounded up to a statistics read). A checkpoint is also taken at the
   * start and after every epoch. A diverging run is rolled back to the last one; after a lost device,
   * the error carries it (`TrainingInterrupted.checkpoint`) so training can resume on a new device.
   * Default: only at the start and after every epoch.
   */
  checkpointEvery?: number;
  /** Called with every checkpoint (e.g. to write it to a file). */
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => void | Promise<void>;
  /** Resume at this point (from a TrainingCheckpoint's epoch and step); the same seed gives the same shuffles. */
  start?: { epoch: number; step: number };
}

/** Where training was, and the trainer's state there. */
export interface TrainingCheckpoint<S = unknown> {
  /** The epoch (1-based) and the steps of it already done. */
  epoch: number;
  step: number;
  state: S;
}

/** Thrown when training stops on an error; carries the last good checkpoint to resume from. */
export class TrainingInterrupted extends Error {
  constructor(
    message: string,
    readonly checkpoint: TrainingCheckpoint | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TrainingInterrupted';
  }
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  /** confusion[true][predicted] counts, classes × classes (all zero for dense targets). */
  confusion: number[][];
  /** Predicted class of every row, in data set order. */
  predictions: Uint32Array;
}

function checkPositiveInt(name: string, v: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < 1 || v > max)
    throw new Error(`${name} = ${v} is invalid: expected an integer in 1..${max}`);
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
  step(start: number, rows: number): Promise<void>;
  /** Optional: several steps of `rows` rows at these starts, as one submission (the same result as one by one). */
  stepMany?(starts: readonly number[], rows: number): Promise<void>;
  /** Training statistics since the last reset (waits for the work submitted so far). */
  readStats(): Promise<Stats>;
  resetStats(): void;
  /** Evaluation on the held-out set; undefined when there is none. */
  readonly evaluate: (() => Promise<Evaluation>) | undefined;
  /** The trainer's state, copied to the CPU. */
  snapshot(): Promise<unknown>;
  /** Puts a snapshot back. */
  restore(state: unknown): Promise<void>;
}

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
): Promise<void> {
  const rowsAt = (step: number) => Math.min(batchSize, trainer.count - step * batchSize);
  for (let s = from; s < to; ) {
    const rows = rowsAt(s);
    let size = 1;
    while (size < group && s + size < to && rowsAt(s + size) === rows) size++;
    if (size > 1 && trainer.stepMany) {
      await trainer.stepMany(
        Array.from({ length: size }, (_, i) => (s + i) * batchSize),
        rows,
      );
    } else {
      size = 1;
      await trainer.step(s * batchSize, rows);
    }
    s += size;
  }
}

/** Trains for `epochs` epochs over a BatchTrainer. Returns one result per epoch completed. */
export async function fit(trainer: BatchTrainer, options: FitOptions): Promise<EpochResult[]> {
  const { epochs, batchSize } = options;
  checkPositiveInt('epochs', epochs);
  checkPositiveInt('batchSize', batchSize, trainer.count);
  const every = options.progressEvery ?? 25;
  checkPositiveInt('progressEvery', every);
  const group = options.stepsPerSubmit ?? 8;
  checkPositiveInt('stepsPerSubmit', group, 256);
  const seed = options.seed ?? 0;
  const n = trainer.count;
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const results: EpochResult[] = [];
  const t0 = performance.now();
  const start = options.start ?? { epoch: 1, step: 0 };
  if (
    !Number.isInteger(start.epoch) ||
    start.epoch < 1 ||
    !Number.isInteger(start.step) ||
    start.step < 0 ||
    start.step >= stepsPerEpoch
  ) {
    throw new Error(
      `start = ${JSON.stringify(start)} is invalid: expected epoch ≥ 1 and step in 0..${stepsPerEpoch - 1}`,
    );
  }
  const checkpointEvery = options.checkpointEvery ?? Number.POSITIVE_INFINITY;
  let last: TrainingCheckpoint | undefined;
  const takeCheckpoint = async (epoch: number, step: number) => {
    last = { epoch, step, state: await trainer.snapshot() };
    await options.onCheckpoint?.(last);
  };
  let sinceCheckpoint = 0;
  try {
    await takeCheckpoint(start.epoch, start.step);
    for (let epoch = start.epoch; epoch <= epochs; epoch++) {
      const te = performance.now();
      trainer.shuffle(permutation(n, (seed * 7919 + epoch) >>> 0));
      trainer.resetStats();
      const first = epoch === start.epoch ? start.step : 0;
      // Statistics are read one progress point late: the read of point k is queued behind its steps
      // and awaited at point k + 1, so the GPU keeps working on the next steps meanwhile instead of
      // draining. Checkpoints and the end of the epoch wait for the current point.
      let pending: { stats: Promise<Stats>; step: number } | undefined;
      const report = async (point: { stats: Promise<Stats>; step: number }) => {
        const stats = await point.stats;
        if (stats.nonFinite > 0) {
          let restored = '';
          if (last) {
            await trainer.restore(last.state);
            restored = ` The parameters were rolled back to the last good checkpoint (epoch ${last.epoch}, step ${last.step}).`;
          }
          throw new TrainingInterrupted(
            `training diverged in epoch ${epoch}, step ${point.step}: the loss became ${stats.lastLoss} (not finite). Try a smaller learning rate (now ${trainer.learningRate}).${restored}`,
            last,
          );
        }
        const seconds = (performance.now() - te) / 1000;
        options.onStep?.({
          epoch,
          step: point.step,
          stepsPerEpoch,
          loss: stats.meanLoss,
          accuracy: stats.accuracy,
          stepsPerSecond: (point.step - first) / seconds,
          samplesPerSecond: stats.count / seconds,
          elapsedMs: performance.now() - t0,
        });
      };
      // From one statistics read (every `every` steps, and at the end of the epoch) to the next.
      for (let s = first; s < stepsPerEpoch; ) {
        const nextRead = Math.min(stepsPerEpoch, (Math.floor(s / every) + 1) * every);
        await runSteps(trainer, s, nextRead, batchSize, group);
        sinceCheckpoint += nextRead - s;
        s = nextRead;
        const lastStep = s === stepsPerEpoch;
        const point = { stats: trainer.readStats(), step: s };
        point.stats.catch(() => {}); // a failure surfaces where it is awaited, never as an unhandled rejection
        if (pending) await report(pending);
        pending = point;
        const checkpointDue = sinceCheckpoint >= checkpointEvery && !lastStep;
        if (lastStep || checkpointDue || options.signal?.aborted) {
          pending = undefined;
          await report(point);
        }
        if (options.signal?.aborted) return results;
        if (checkpointDue) {
          await takeCheckpoint(epoch, s);
          sinceCheckpoint = 0;
        }
      }
      const trainStats = await trainer.readStats();
      const epochMs = performance.now() - te;
      const result: EpochResult = {
        epoch,
        trainLoss: trainStats.meanLoss,
        trainAccuracy: trainStats.accuracy,
        epochMs,
        elapsedMs: 0,
        samplesPerSecond: trainStats.count / (epochMs / 1000),
      };
      if (trainer.evaluate) {
        const ev = await trainer.evaluate();
        result.testLoss = ev.loss;
        result.testAccuracy = ev.accuracy;
      }
      result.elapsedMs = performance.now() - t0;
      results.push(result);
      if (epoch < epochs) {
        await takeCheckpoint(epoch + 1, 0);
        sinceCheckpoint = 0;
      }
      await options.onEpoch?.(result);
    }
  } catch (error) {
    if (error instanceof TrainingInterrupted) throw error;
    if (error instanceof DeviceLostError) {
      const where = last
        ? ` Resume from the last checkpoint (epoch ${last.epoch}, step ${last.step}) on a new device.`
        : '';
      throw new TrainingInterrupted(`${error.message}${where}`, last, { cause: error });
    }
    throw error;
  }
  return results;
}

/** The GPU trainer: a Model and a GPU-resident data set, batches gathered on the GPU. */
export class GpuBatchTrainer implements BatchTrainer {
  readonly evaluate: (() => Promise<Evaluation>) | undefined;

  constructor(
    readonly model: Model,
    readonly train: GpuDataset,
    test?: GpuDataset,
  ) {
    this.evaluate = test ? () => evaluateDataset(model, test) : undefined;
  }

  get count(): number {
    return this.train.count;
  }

  get learningRate(): number {
    return this.model.optimizerConfig.learningRate;
  }

  shuffle(order: Uint32Array): void {
    this.train.setOrder(order);
  }

  snapshot(): Promise<Checkpoint> {
    return this.model.checkpoint();
  }

  restore(state: unknown): Promise<void> {
    return this.model.restore(state as Checkpoint);
  }

  async step(start: number, rows: number): Promise<void> {
    const plan = await this.model.plan(rows, this.train.targetKind);
    this.model.submitStep(plan, [await this.train.gather(plan, start)]);
  }

  async stepMany(starts: readonly number[], rows: number): Promise<void> {
    const plan = await this.model.plan(rows, this.train.targetKind);
    const gathers = await Promise.all(starts.map((start, slot) => this.train.gather(plan, start, slot)));
    await this.model.submitSteps(
      plan,
      gathers.map((g) => [g]),
    );
  }

  readStats(): Promise<Stats> {
    return this.model.readTrainStats();
  }

  resetStats(): void {
    this.model.resetTrainStats();
  }
}

/** Loss, accuracy, confusion matrix and predictions over a whole data set, on the GPU. */
export async function evaluateDataset(model: Model, data: GpuDataset, batchSize = 1000): Promise<Evaluation> {
  checkPositiveInt('batchSize', batchSize);
  const B = Math.min(batchSize, data.count);
  const full = await model.plan(B, data.targetKind);
  const rest = data.count % B;
  const last = rest ? await model.plan(rest, data.targetKind) : full;
  const steps = Math.ceil(data.count / B);
  const predictions = model.ctx.createBuffer(
    `${data.name}.predictions`,
    data.count * 4,
    GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  );
  try {
    data.setOrder(undefined);
    model.resetEvalStats();
    for (let s = 0; s < steps; s++) {
      const plan = s === steps - 1 ? last : full;
      model.submitEval(plan, [await data.gather(plan, s * B)], { buffer: predictions, offset: s * B * 4 });
      if ((s + 1) % 20 === 0) await model.ctx.device.queue.onSubmittedWorkDone();
    }
    const stats = await model.readEvalStats();
    const predicted = new Uint32Array(await model.ctx.read(predictions));
    const C = data.classes;
    const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
    if (data.targetKind === 'labels') {
      const labels = await data.readLabels();
      for (let i = 0; i < data.count; i++) confusion[labels[i]][predicted[i]]++;
    }
    return { loss: stats.meanLoss, accuracy: stats.accuracy, confusion, predictions: predicted };
  } finally {
    model.ctx.releaseBuffer(predictions);
  }
}
