/**
 * Evaluation, one way for every caller (fit's validation, `mlp.evaluate`, the CLI, the demo, the CPU
 * trainer): the loss from the head's kernel, and what the head's kind of prediction calls right —
 * classes (accuracy over rows, a confusion matrix), multi-label outputs (accuracy over outputs and
 * per output) or values (mean squared and absolute error).
 */

import { GpuWorkRefused, refusedWork } from '../gpu/refused.js';
import { maxPlanRows } from '../infer/plan.js';
import type { PredictionKind } from '../model/heads/index.js';
import { headOf } from '../model/heads/index.js';
import { checkPositiveInt } from '../params.js';
import type { GpuDataset } from './dataset.js';
import type { Model, Stats } from './model.js';
import type { StepPlan } from './plan.js';

export interface Evaluation {
  /** Mean loss per row, as training reports it. */
  loss: number;
  /**
   * Class heads: the fraction of rows whose argmax is the label (or the dense target's argmax);
   * multi-label heads: the fraction of outputs right (σ(z) > ½ exactly when the target > ½);
   * regression heads: NaN (see `mse` and `mae`).
   */
  accuracy: number;
  /** Class heads with labels: confusion[true][predicted] counts, C × C (all zero for dense targets); else []. */
  confusion: number[][];
  /**
   * Class heads: the predicted class of every row, in data set order. Multi-label heads: 0 or 1 per
   * output, [count, C] row-major. Regression heads: empty (see `outputs`).
   */
  predictions: Uint32Array;
  /** Multi-label heads: the accuracy of each output over the rows. */
  outputAccuracy?: number[];
  /** Regression heads: the outputs [count, C]. */
  outputs?: Float32Array;
  /** Regression heads: the mean over all outputs of (output − target)². */
  mse?: number;
  /** Regression heads: the mean over all outputs of |output − target|. */
  mae?: number;
  /**
   * Regression heads: the coefficient of determination 1 − Σ(output − target)² / Σ(target − mean)² of
   * each output, averaged over the outputs (scikit-learn's `r2_score`, `'uniform_average'`); NaN for an
   * output whose targets are all equal.
   */
  r2?: number;
  /** A network with preprocessing (trained on a table): the class names, in the order of `confusion`'s rows and columns. */
  classes?: string[];
}

/** Regression metrics of outputs [count, C] against targets [count, C]: the outputs, MSE, MAE and R². */
export function regressionMetrics(
  outputs: ArrayLike<number>,
  targets: ArrayLike<number>,
  C: number,
): { outputs: Float32Array; mse: number; mae: number; r2: number } {
  const n = outputs.length / C;
  let squared = 0;
  let absolute = 0;
  let r2 = 0;
  for (let c = 0; c < C; c++) {
    let mean = 0;
    for (let r = 0; r < n; r++) mean += targets[r * C + c];
    mean /= n;
    let residual = 0;
    let total = 0;
    for (let r = 0; r < n; r++) {
      const d = outputs[r * C + c] - targets[r * C + c];
      const t = targets[r * C + c] - mean;
      residual += d * d;
      total += t * t;
      absolute += Math.abs(d);
    }
    squared += residual;
    r2 += total > 0 ? 1 - residual / total : Number.NaN;
  }
  return {
    outputs: Float32Array.from(outputs),
    mse: squared / outputs.length,
    mae: absolute / outputs.length,
    r2: r2 / C,
  };
}

/** What a head's evaluation reads back besides the loss: per-row classes, or the logits. */
export function evaluationReadback(prediction: PredictionKind): 'classes' | 'logits' {
  return prediction === 'class' ? 'classes' : 'logits';
}

/**
 * The evaluation from what was read back: the mean loss (and, for class heads, the accuracy the GPU
 * counted), the predicted classes or the logits, and the targets. One function for the GPU and the CPU.
 */
export function summarizeEvaluation(
  prediction: PredictionKind,
  C: number,
  stats: { loss: number; accuracy: number },
  read: { classes?: Uint32Array; logits?: ArrayLike<number> },
  targets: { labels?: ArrayLike<number>; dense?: ArrayLike<number> },
): Evaluation {
  if (prediction === 'class') {
    const classes = read.classes as Uint32Array;
    return {
      loss: stats.loss,
      accuracy: stats.accuracy,
      confusion: targets.labels ? confusionMatrix(targets.labels, classes, C) : confusionMatrix([], classes, C),
      predictions: classes,
    };
  }
  const logits = read.logits as ArrayLike<number>;
  const dense = targets.dense as ArrayLike<number>;
  const count = logits.length / C;
  if (prediction === 'multiLabel') {
    const predictions = new Uint32Array(logits.length);
    const right = new Array<number>(C).fill(0);
    for (let i = 0; i < logits.length; i++) {
      predictions[i] = logits[i] > 0 ? 1 : 0; // σ(z) > ½ ⇔ z > 0
      if (logits[i] > 0 === dense[i] > 0.5) right[i % C]++;
    }
    return {
      loss: stats.loss,
      accuracy: stats.accuracy,
      confusion: [],
      predictions,
      outputAccuracy: right.map((k) => (count ? k / count : Number.NaN)),
    };
  }
  return {
    loss: stats.loss,
    accuracy: Number.NaN,
    confusion: [],
    predictions: new Uint32Array(0),
    ...regressionMetrics(logits, dense, C),
  };
}

/** confusion[true][predicted] over the rows that have a label (none: all zeros). */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, C: number): number[][] {
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  for (let i = 0; i < labels.length; i++) confusion[labels[i]][predicted[i]]++;
  return confusion;
}

/**
 * Loss, accuracy and the head's metrics over a whole GPU data set, batch by batch on the GPU. Unweighted:
 * loss weights (fit's sampleWeights, classWeights) shape training only, the evaluation reports the plain loss.
 */
export async function evaluateDataset(model: Model, data: GpuDataset, batchSize = 1000): Promise<Evaluation> {
  checkPositiveInt('batchSize', batchSize);
  return model.exclusiveEvaluation(() => evaluateNow(model, data, batchSize));
}

async function evaluateNow(model: Model, data: GpuDataset, batchSize: number): Promise<Evaluation> {
  const { prediction } = headOf(model.spec).definition;
  const readback = evaluationReadback(prediction);
  const C = data.classes;
  const rowBytes = readback === 'classes' ? 4 : C * 4;
  // Everything acquired is released in `finally`, whichever step fails (a plan, the buffer, the GPU).
  const release: (() => void)[] = [];
  try {
    const gathered = await model.ctx.allocating(
      `the evaluation's outputs of ${data.name} (${data.count} rows)`,
      () =>
        model.ctx.createBuffer(
          `${data.name}.evaluation.${readback}`,
          data.count * rowBytes,
          GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
        ),
      (made) => model.ctx.releaseBuffer(made),
      'evaluate fewer rows at a time',
    );
    release.push(() => model.ctx.releaseBuffer(gathered));
    const stats = await forwardRows(model, data, data.count, batchSize, release, (plan, start) => {
      const from = readback === 'classes' ? plan.predictions : plan.outputs[plan.outputs.length - 1];
      return [{ from, to: gathered, offset: start * rowBytes, bytes: plan.batch * rowBytes }];
    });
    const bytes = await model.ctx.read(gathered);
    const read = readback === 'classes' ? { classes: new Uint32Array(bytes) } : { logits: new Float32Array(bytes) };
    const targets =
      data.targetKind === 'labels'
        ? { labels: await data.readLabels() }
        : prediction === 'class'
          ? {}
          : { dense: await data.readTargets() };
    return summarizeEvaluation(prediction, C, { loss: stats.meanLoss, accuracy: stats.accuracy }, read, targets);
  } finally {
    for (const r of release.reverse()) r();
  }
}

/**
 * The mean loss, unweighted, of the first `rows` rows of a GPU data set in their stored order, in
 * batches of at most `batchSize`: the evaluation's forward pass and loss, one statistics read and
 * nothing else read back (fit's loss before training, the divergence rule's reference, measured on
 * the training rows already on the GPU).
 */
export async function datasetLoss(model: Model, data: GpuDataset, rows: number, batchSize = rows): Promise<number> {
  checkPositiveInt('rows', rows, data.count);
  checkPositiveInt('batchSize', batchSize);
  return model.exclusiveEvaluation(async () => {
    const release: (() => void)[] = [];
    try {
      return (await forwardRows(model, data, rows, batchSize, release)).meanLoss;
    } finally {
      for (const r of release.reverse()) r();
    }
  });
}

/**
 * The evaluation forward pass and loss over rows 0 … rows − 1 of `data` in its natural order, B rows
 * a submit (B = batchSize, or fewer where the device limits a plan), with `copies` encoded after each
 * submit's pass; returns the evaluation statistics read back. The plans it pins go onto `release`.
 */
async function forwardRows(
  model: Model,
  data: GpuDataset,
  rows: number,
  batchSize: number,
  release: (() => void)[],
  copies?: (plan: StepPlan, start: number) => { from: GPUBuffer; to: GPUBuffer; offset: number; bytes: number }[],
): Promise<Stats> {
  const B = Math.min(batchSize, rows, Math.max(1, maxPlanRows(model.spec, model.ctx.device.limits)));
  const rest = rows % B;
  const steps = Math.ceil(rows / B);
  const full = await model.plans.acquire(B, data.targetKind, false, false);
  release.push(() => full.release());
  const last = rest ? await model.plans.acquire(rest, data.targetKind, false, false) : full;
  if (last !== full) release.push(() => last.release());
  model.assertAlive(); // destroyed while the plans were made: no write to its buffers
  data.setOrder(undefined);
  model.resetEvalStats();
  for (let s = 0; s < steps; s++) {
    const plan = (s === steps - 1 ? last : full).plan;
    model.submitEval(plan, [await data.gather(plan, s * B)], copies?.(plan, s * B));
    if ((s + 1) % 20 === 0) await model.ctx.device.queue.onSubmittedWorkDone();
  }
  return model.readEvalStats().catch(async (error: unknown) => {
    if (!(error instanceof GpuWorkRefused)) throw error;
    throw await refusedWork(model.ctx, `evaluating ${data.name}`, error, data.appBuffers);
  });
}
