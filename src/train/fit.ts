/**
 * The training loop over a GPU-resident data set: seeded shuffling per epoch, batches gathered on
 * the GPU, one submit per step, statistics read asynchronously a few times per epoch, evaluation
 * with a confusion matrix at the end of each epoch.
 */
import { permutation } from '../model/random';
import type { GpuDataset } from './dataset';
import type { Model, Stats } from './model';

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
  /** Called a few times per epoch (every `progressEvery` steps) with statistics read from the GPU. */
  onStep?: (p: StepProgress) => void;
  onEpoch?: (e: EpochResult) => void | Promise<void>;
  /** Aborting stops training at the next progress point; parameters stay as trained so far. */
  signal?: AbortSignal;
  /** Steps between statistics reads. Default 25. */
  progressEvery?: number;
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
  /** Training statistics since the last reset (waits for the work submitted so far). */
  readStats(): Promise<Stats>;
  resetStats(): void;
  /** Evaluation on the held-out set; undefined when there is none. */
  readonly evaluate: (() => Promise<Evaluation>) | undefined;
}

/** Trains for `epochs` epochs over a BatchTrainer. Returns one result per epoch completed. */
export async function fit(trainer: BatchTrainer, options: FitOptions): Promise<EpochResult[]> {
  const { epochs, batchSize } = options;
  checkPositiveInt('epochs', epochs);
  checkPositiveInt('batchSize', batchSize, trainer.count);
  const every = options.progressEvery ?? 25;
  checkPositiveInt('progressEvery', every);
  const seed = options.seed ?? 0;
  const n = trainer.count;
  const stepsPerEpoch = Math.ceil(n / batchSize);
  const results: EpochResult[] = [];
  const t0 = performance.now();
  for (let epoch = 1; epoch <= epochs; epoch++) {
    const te = performance.now();
    trainer.shuffle(permutation(n, (seed * 7919 + epoch) >>> 0));
    trainer.resetStats();
    for (let s = 0; s < stepsPerEpoch; s++) {
      const start = s * batchSize;
      await trainer.step(start, Math.min(batchSize, n - start));
      if ((s + 1) % every === 0 || s === stepsPerEpoch - 1) {
        const stats = await trainer.readStats(); // waits for the GPU: keeps the queue short
        if (stats.nonFinite > 0) {
          throw new Error(
            `training diverged in epoch ${epoch}, step ${s + 1}: the loss became ${stats.lastLoss} (not finite). Try a smaller learning rate (now ${trainer.learningRate}).`,
          );
        }
        const seconds = (performance.now() - te) / 1000;
        options.onStep?.({
          epoch,
          step: s + 1,
          stepsPerEpoch,
          loss: stats.meanLoss,
          accuracy: stats.accuracy,
          stepsPerSecond: (s + 1) / seconds,
          samplesPerSecond: stats.count / seconds,
          elapsedMs: performance.now() - t0,
        });
        if (options.signal?.aborted) return results;
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
    await options.onEpoch?.(result);
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

  async step(start: number, rows: number): Promise<void> {
    const plan = await this.model.plan(rows, this.train.targetKind);
    this.model.submitStep(plan, [await this.train.gather(plan, start)]);
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
