/**
 * The CPU backend: the same training loop on the Float64 reference (src/reference). Used where no
 * WebGPU adapter exists, so the main job works on any machine — much slower, and exact.
 */
import { initParams } from '../model/init.js';
import { paramLayout } from '../model/layout.js';
import type { MlpSpec } from '../model/spec.js';
import { argmaxRef } from '../reference/argmax.js';
import {
  cloneParamsRef,
  mlpBackwardRef,
  mlpForwardRef,
  optimizerUpdateRef,
  RefOptimizerState,
  type RefParams,
} from '../reference/mlp.js';
import { softmaxXentRef } from '../reference/softmax_xent.js';
import { toRefParams } from './check.js';
import type { BatchTrainer, Evaluation } from './fit.js';
import type { Stats } from './model.js';
import { type ResolvedOptimizer, refOptimizerState } from './options.js';

/** A labelled byte data set in host memory (MNIST-like). */
export interface HostDataset {
  images: Uint8Array;
  labels: Uint8Array | Uint32Array;
  count: number;
  cols: number;
  classes: number;
  scale: number;
}

export class CpuBatchTrainer implements BatchTrainer {
  readonly params: RefParams;
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
    this.state = refOptimizerState(spec, optimizer);
    this.order = Uint32Array.from({ length: train.count }, (_, i) => i);
    this.evaluate = test ? () => evaluateHost(spec, this.params, test) : undefined;
  }

  get count(): number {
    return this.train.count;
  }

  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  shuffle(order: Uint32Array): void {
    this.order = order;
  }

  async snapshot(): Promise<CpuSnapshot> {
    return cloneSnapshot(this.spec, { params: this.params, state: this.state });
  }

  async restore(saved: unknown): Promise<void> {
    const copy = cloneSnapshot(this.spec, saved as CpuSnapshot);
    copy.params.forEach((p, l) => {
      this.params[l].w.set(p.w);
      this.params[l].b.set(p.b);
    });
    this.state = copy.state;
  }

  async step(start: number, rows: number): Promise<void> {
    const { x, labels } = batchOf(this.train, this.order, start, rows);
    const C = this.spec.layers[this.spec.layers.length - 1];
    const { loss, logits, grads } = mlpBackwardRef(this.spec, this.params, x, { kind: 'labels', labels }, rows);
    optimizerUpdateRef(this.state, this.params, grads);
    // Loss and accuracy of the batch under the parameters the step started from, as the GPU counts them.
    const predicted = new Uint32Array(rows);
    argmaxRef(logits, rows, C, predicted);
    for (let r = 0; r < rows; r++) if (predicted[r] === labels[r]) this.correct++;
    this.steps++;
    this.lastLoss = loss;
    if (!Number.isFinite(loss)) this.nonFinite++;
    this.lossSum += loss * rows;
    this.seen += rows;
    // Let timers and I/O run between steps (progress output, Ctrl-C).
    if (this.steps % 8 === 0) await new Promise((r) => setTimeout(r, 0));
  }

  async readStats(): Promise<Stats> {
    return {
      meanLoss: this.seen ? this.lossSum / this.seen : Number.NaN,
      accuracy: this.seen ? this.correct / this.seen : Number.NaN,
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
  state: RefOptimizerState;
}

/** A deep copy of parameters and optimizer state. */
function cloneSnapshot(spec: MlpSpec, from: CpuSnapshot): CpuSnapshot {
  const state = new RefOptimizerState(spec, from.state.config);
  state.step = from.state.step;
  const copy = (src: RefParams, dst: RefParams) =>
    src.forEach((p, l) => {
      dst[l].w.set(p.w);
      dst[l].b.set(p.b);
    });
  copy(from.state.velocity, state.velocity);
  copy(from.state.m, state.m);
  copy(from.state.v, state.v);
  return { params: cloneParamsRef(from.params), state };
}

/** Rows order[start, start + rows) as Float64 inputs and labels. */
function batchOf(data: HostDataset, order: Uint32Array, start: number, rows: number) {
  const { cols, scale } = data;
  const x = new Float64Array(rows * cols);
  const labels = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) {
    const i = order[start + r];
    const src = i * cols;
    for (let c = 0; c < cols; c++) x[r * cols + c] = data.images[src + c] * scale;
    labels[r] = data.labels[i];
  }
  return { x, labels };
}

/** Loss, accuracy, confusion and predictions of reference parameters on a host data set. */
export async function evaluateHost(
  spec: MlpSpec,
  params: RefParams,
  data: HostDataset,
  chunk = 500,
): Promise<Evaluation> {
  const C = spec.layers[spec.layers.length - 1];
  const natural = Uint32Array.from({ length: data.count }, (_, i) => i);
  const predictions = new Uint32Array(data.count);
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  let lossSum = 0;
  let correct = 0;
  for (let start = 0; start < data.count; start += chunk) {
    const rows = Math.min(chunk, data.count - start);
    const { x, labels } = batchOf(data, natural, start, rows);
    const { logits } = mlpForwardRef(spec, params, x, rows);
    const lossRows = new Float64Array(rows);
    softmaxXentRef(logits, rows, C, { kind: 'labels', labels }, new Float64Array(rows * C), lossRows);
    const predicted = predictions.subarray(start, start + rows);
    argmaxRef(logits, rows, C, predicted);
    for (let r = 0; r < rows; r++) {
      lossSum += lossRows[r];
      if (predicted[r] === labels[r]) correct++;
      confusion[labels[r]][predicted[r]]++;
    }
    await new Promise((r) => setTimeout(r, 0));
  }
  return { loss: lossSum / data.count, accuracy: correct / data.count, confusion, predictions };
}
