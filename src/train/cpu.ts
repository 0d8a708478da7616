/**
 * The CPU backend: the same training loop on the Float64 reference (the network of
 * src/model/reference.ts, the optimizers' Float64 updates). Used where no WebGPU adapter exists, so the
 * main job works on any machine — much slower, and exact. Any head and target kind the GPU takes.
 */

import { headOf } from '../model/heads/index.js';
import { initParams } from '../model/init.js';
import { paramLayout } from '../model/layout.js';
import {
  cloneParamsRef,
  headLossRef,
  initRunningRef,
  mlpBackwardRef,
  mlpForwardRef,
  type RefParams,
  type RefRunning,
} from '../model/reference.js';
import type { MlpSpec, Targets } from '../model/spec.js';
import type { ResolvedOptimizer } from '../optim/index.js';
import { optimizerUpdateRef, RefOptimizerState } from '../optim/reference.js';
import { argmaxRef } from '../reference/argmax.js';
import { toRefParams } from './check.js';
import { type Evaluation, evaluationReadback, summarizeEvaluation } from './evaluate.js';
import type { BatchTrainer } from './loop.js';
import type { Stats } from './model.js';
import { meanWeight } from './weights.js';

/** A data set in host memory: bytes scaled on the way (MNIST pixels) or floats, labels or dense targets. */
export interface HostDataset {
  images: Uint8Array | Float32Array;
  /** Class labels, one per row… */
  labels?: Uint8Array | Uint32Array;
  /** …or dense targets [count, classes]. */
  targets?: Float32Array;
  count: number;
  cols: number;
  /** Labels' classes, or the target columns. */
  classes: number;
  /** Byte inputs are multiplied by this (1/255 for pixels). */
  scale: number;
  /**
   * Loss weights, one per row (finite, ≥ 0; see src/train/weights.ts), f32 as the GPU has them: training
   * minimises (1/B)·Σ_r w_r·ℓ_r.
   */
  weights?: Float32Array;
}

/**
 * One training step in place, in Float64: forward, backward, optimizer update. Returns the batch's mean
 * loss before the update (with per-row `weights`, the weighted loss (1/B)·Σ_r w_r·ℓ_r, which it minimises).
 * A network with BatchNorm or dropout also takes `stream`: its running statistics (replaced by the
 * step's) and random stream (its step advanced), as the GPU model keeps them.
 */
export function mlpStepRef(
  spec: MlpSpec,
  params: RefParams,
  x: ArrayLike<number>,
  targets: Targets,
  batch: number,
  optimizer: RefOptimizerState,
  weights?: ArrayLike<number>,
  stream?: { running: RefRunning; random?: { seed: number; step: number } },
): number {
  const { loss, grads, running } = mlpBackwardRef(spec, params, x, targets, batch, {
    weights,
    running: stream?.running,
    random: stream?.random,
  });
  optimizerUpdateRef(optimizer, params, grads);
  if (stream && running) stream.running = running;
  if (stream?.random) stream.random.step++;
  return loss;
}

export class CpuBatchTrainer implements BatchTrainer {
  readonly params: RefParams;
  /** BatchNorm's running statistics (empty records for a network without). */
  running: RefRunning;
  /** The random stream of a network with dropout (seed: the initialisation's, as the GPU model's). */
  private random: { seed: number; step: number };
  readonly evaluate: (() => Promise<Evaluation>) | undefined;
  private state: RefOptimizerState;
  private order: Uint32Array;
  private lossSum = 0;
  private correct = 0;
  private seen = 0;
  private steps = 0;
  private lastLoss = Number.NaN;
  private nonFinite = 0;

  constructor(
    readonly spec: MlpSpec,
    readonly optimizer: ResolvedOptimizer,
    readonly train: HostDataset,
    readonly test: HostDataset | undefined,
    seed: number,
  ) {
    this.params = toRefParams(paramLayout(spec), initParams(spec, seed));
    this.running = initRunningRef(spec);
    this.random = { seed, step: 0 };
    this.state = new RefOptimizerState(spec, optimizer);
    this.order = Uint32Array.from({ length: train.count }, (_, i) => i);
    this.evaluate = test ? () => evaluateHost(spec, this.params, test, 500, this.running) : undefined;
  }

  get count(): number {
    return this.train.count;
  }

  /** The parameters in the flat GPU layout (ParamLayout), float32: what a model file holds (encodeModel). */
  flatParams(): Float32Array {
    const layout = paramLayout(this.spec);
    const flat = new Float32Array(layout.totalFloats);
    // every trained tensor (a norm layer's too), by its slot: the inverse of toRefParams
    for (const slot of layout.tensors) flat.set(this.params[slot.block][slot.key], slot.offset);
    return flat;
  }

  /** The loss of chance predictions; with loss weights, times their mean (as GpuBatchTrainer's). */
  get chanceLoss(): number | undefined {
    const chance = headOf(this.spec).definition.chanceLoss?.(this.spec.layers[this.spec.layers.length - 1]);
    return chance === undefined ? undefined : chance * meanWeight(this.train.weights);
  }

  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  shuffle(order: Uint32Array): void {
    this.order = order;
  }

  async snapshot(): Promise<CpuSnapshot> {
    return {
      params: cloneParamsRef(this.params),
      running: cloneParamsRef(this.running),
      random: { ...this.random },
      state: this.state.clone(this.spec),
    };
  }

  checkSnapshot(saved: unknown): string | undefined {
    const { params, running, state } = saved as CpuSnapshot;
    for (const t of [params, running, ...state.buffers]) {
      for (const [l, p] of t.entries()) {
        if (Object.values(p).some((v) => !v.every(Number.isFinite)))
          return `layer ${l} holds a value that is not finite`;
      }
    }
    return undefined;
  }

  async restore(saved: unknown): Promise<void> {
    const { params, running, random, state } = saved as CpuSnapshot;
    params.forEach((p, l) => {
      for (const [key, t] of Object.entries(p)) this.params[l]?.[key]?.set(t);
    });
    this.running = cloneParamsRef(running);
    this.random = { ...random };
    this.state = state.clone(this.spec);
  }

  async step(start: number, rows: number, learningRate?: number): Promise<void> {
    const { x, targets, weights } = batchOf(this.train, this.order, start, rows);
    const C = this.spec.layers[this.spec.layers.length - 1];
    const { loss, logits, grads, running } = mlpBackwardRef(this.spec, this.params, x, targets, rows, {
      weights,
      running: this.running,
      random: this.random,
    });
    optimizerUpdateRef(this.state, this.params, grads, learningRate);
    if (running) this.running = running;
    this.random.step++;
    // Loss and correct counts of the batch under the parameters the step started from, as the GPU counts them.
    const correct = new Uint32Array(rows);
    headOf(this.spec).definition.correctRef(logits, rows, C, targets, correct);
    for (const k of correct) this.correct += k;
    this.steps++;
    this.lastLoss = loss;
    if (!Number.isFinite(loss)) this.nonFinite++;
    this.lossSum += loss * rows;
    this.seen += rows;
    // Let timers and I/O run between steps (progress output, Ctrl-C).
    if (this.steps % 8 === 0) await new Promise((r) => setTimeout(r, 0));
  }

  async readStats(): Promise<Stats> {
    const { prediction } = headOf(this.spec).definition;
    const outputs = prediction === 'multiLabel' ? this.spec.layers[this.spec.layers.length - 1] : 1;
    return {
      meanLoss: this.seen ? this.lossSum / this.seen : Number.NaN,
      accuracy: this.seen && prediction !== 'value' ? this.correct / (this.seen * outputs) : Number.NaN,
      count: this.seen,
      lastLoss: this.lastLoss,
      steps: this.steps,
      nonFinite: this.nonFinite,
    };
  }

  resetStats(): void {
    this.lossSum = 0;
    this.correct = 0;
    this.seen = 0;
    this.steps = 0;
    this.nonFinite = 0;
  }
}

interface CpuSnapshot {
  params: RefParams;
  running: RefRunning;
  random: { seed: number; step: number };
  state: RefOptimizerState;
}

/** Rows order[start, start + rows) as Float64 inputs, their targets and their loss weights (when the data has them). */
function batchOf(data: HostDataset, order: ArrayLike<number>, start: number, rows: number) {
  const { cols, classes } = data;
  const x = new Float64Array(rows * cols);
  const scale = data.images instanceof Uint8Array ? data.scale : 1;
  const labels = data.labels ? new Uint32Array(rows) : undefined;
  const dense = data.targets ? new Float64Array(rows * classes) : undefined;
  const weights = data.weights ? new Float64Array(rows) : undefined;
  for (let r = 0; r < rows; r++) {
    const i = order[start + r];
    const src = i * cols;
    for (let c = 0; c < cols; c++) x[r * cols + c] = data.images[src + c] * scale;
    if (labels && data.labels) labels[r] = data.labels[i];
    if (dense && data.targets) dense.set(data.targets.subarray(i * classes, (i + 1) * classes), r * classes);
    if (weights && data.weights) weights[r] = data.weights[i];
  }
  const targets: Targets = labels ? { kind: 'labels', labels } : { kind: 'dense', values: dense as Float64Array };
  return { x, targets, weights };
}

/** Loss and the head's metrics of reference parameters on a host data set (the same summary as on the GPU; unweighted). */
export async function evaluateHost(
  spec: MlpSpec,
  params: RefParams,
  data: HostDataset,
  chunk = 500,
  running: RefRunning = initRunningRef(spec),
): Promise<Evaluation> {
  const C = spec.layers[spec.layers.length - 1];
  const { definition } = headOf(spec);
  const readback = evaluationReadback(definition.prediction);
  const natural = Uint32Array.from({ length: data.count }, (_, i) => i);
  const classes = new Uint32Array(data.count);
  const logitsAll = readback === 'logits' ? new Float64Array(data.count * C) : undefined;
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += chunk) {
    const rows = Math.min(chunk, data.count - start);
    const { x, targets } = batchOf(data, natural, start, rows);
    const { logits } = mlpForwardRef(spec, params, x, rows, { mode: 'eval', running });
    const lossRows = new Float64Array(rows);
    headLossRef(spec, logits, rows, C, targets, new Float64Array(rows * C), lossRows);
    const right = new Uint32Array(rows);
    definition.correctRef(logits, rows, C, targets, right);
    for (let r = 0; r < rows; r++) {
      lossSum += lossRows[r];
      correct += right[r];
    }
    if (readback === 'classes') argmaxRef(logits, rows, C, classes.subarray(start, start + rows));
    else logitsAll?.set(logits, start * C);
    await new Promise((r) => setTimeout(r, 0));
  }
  const outputs = definition.prediction === 'multiLabel' ? C : 1;
  const stats = {
    loss: lossSum / data.count,
    accuracy: definition.prediction === 'value' ? Number.NaN : correct / (data.count * outputs),
  };
  return summarizeEvaluation(
    definition.prediction,
    C,
    stats,
    readback === 'classes' ? { classes } : { logits: logitsAll },
    { labels: data.labels, dense: data.targets },
  );
}
