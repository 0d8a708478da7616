/**
 * The GPU trainer: a Model and a GPU-resident data set, batches gathered on the GPU, several steps
 * per submit. It pins the step plans it uses until the run closes it, so that no other caller's
 * plans (a `predict` meanwhile) can evict them.
 */
import { GpuWorkRefused, refusedWork } from '../gpu/refused.js';
import { type Checkpoint, nonFiniteState } from '../io/checkpoint_file.js';
import { MATMUL_WAIT_WORK } from '../kernels/matmul.js';
import { headOf } from '../model/heads/index.js';
import type { GpuDataset } from './dataset.js';
import { type Evaluation, evaluateDataset } from './evaluate.js';
import type { BatchTrainer } from './loop.js';
import type { Model, Stats } from './model.js';
import type { StepPlan } from './plan.js';

export class GpuBatchTrainer implements BatchTrainer {
  readonly evaluate: (() => Promise<Evaluation>) | undefined;
  private readonly leases = new Map<number, Promise<{ plan: StepPlan; release: () => void }>>();

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

  /** The loss of chance predictions; with loss weights, times their mean (what the weighted loss is at chance). */
  get chanceLoss(): number | undefined {
    const C = this.model.spec.layers[this.model.spec.layers.length - 1];
    const chance = headOf(this.model.spec).definition.chanceLoss?.(C);
    return chance === undefined ? undefined : chance * this.train.meanWeight;
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

  checkSnapshot(state: unknown): string | undefined {
    return nonFiniteState(state as Checkpoint);
  }

  /** The plan for `rows`, pinned until `close()`. */
  private async plan(rows: number): Promise<StepPlan> {
    let lease = this.leases.get(rows);
    if (!lease) {
      const made = this.model.plans.acquire(rows, this.train.targetKind, false, this.train.weighted);
      this.leases.set(rows, made);
      made.catch(() => this.leases.delete(rows));
      lease = made;
    }
    return (await lease).plan;
  }

  /** Makes the step plans of these row counts (compiling their pipelines) and their first gather. */
  async prepare(rows: readonly number[]): Promise<void> {
    // All of it before the kernels that compile behind the first steps (GpuContext.behind).
    await this.model.ctx.before(async () => {
      await Promise.all([
        this.model.optimizerReady(),
        (async () => {
          for (const r of rows) await this.train.gather(await this.plan(r), 0);
        })(),
      ]);
    });
    // A large step waits for its faster kernels rather than being encoded on the quick one (MATMUL_WAIT_WORK);
    // not for those of products too small to have asked for one (queued `later`).
    if (3 * Math.max(...rows) * this.model.layout.parameterCount >= MATMUL_WAIT_WORK) {
      await this.model.ctx.compiled({ later: false });
    }
  }

  async step(start: number, rows: number, learningRate?: number): Promise<void> {
    const plan = await this.plan(rows);
    await this.model.optimizerReady();
    this.model.submitStep(plan, [await this.train.gather(plan, start)], learningRate);
  }

  async stepMany(starts: readonly number[], rows: number, learningRates?: readonly number[]): Promise<void> {
    const plan = await this.plan(rows);
    const gathers = await Promise.all(starts.map((start, slot) => this.train.gather(plan, start, slot)));
    await this.model.submitSteps(
      plan,
      gathers.map((g) => [g]),
      learningRates,
    );
  }

  /** The training statistics; a step the GPU refused is an error naming the application's buffer behind it. */
  readStats(): Promise<Stats> {
    return this.named(this.model.readTrainStats());
  }

  async endEpoch(): Promise<{ stats: Stats; snapshot: Checkpoint }> {
    const { stats, checkpoint } = await this.named(this.model.endEpoch());
    return { stats, snapshot: checkpoint };
  }

  /** `read`, whose GpuWorkRefused (a step the GPU refused) names the application's buffer behind it. */
  private async named<T>(read: Promise<T>): Promise<T> {
    try {
      return await read;
    } catch (error) {
      if (!(error instanceof GpuWorkRefused)) throw error;
      throw await refusedWork(this.model.ctx, 'a training step', error, this.train.appBuffers);
    }
  }

  resetStats(): void {
    this.model.resetTrainStats();
  }

  close(): void {
    for (const lease of this.leases.values())
      lease.then(
        (l) => l.release(),
        () => {},
      );
    this.leases.clear();
  }
}
