/**
 * The training loop of the page: the same steps as the library's fit() (a seeded shuffle per
 * epoch, one step per batch, statistics read between chunks), cut into chunks so that the page
 * stays responsive and can pause. On the GPU a chunk is a few dozen submits and one readback; on
 * the CPU it is as many steps as fit in a frame's budget.
 */
import { type Evaluation, runSteps } from '../src/index.js';
import { permutation } from '../src/model/random.js';
import type { Run } from './backend.js';

export type SessionState = 'ready' | 'running' | 'paused' | 'done' | 'failed';

export interface ChunkReport {
  /** Epochs done, fractional: the x of the charts. */
  x: number;
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  /** Mean training loss and accuracy over this chunk's batches. */
  loss: number;
  accuracy: number;
  stepsPerSecond: number;
  samplesPerSecond: number;
}

export interface EvaluationReport {
  x: number;
  evaluation: Evaluation;
  weights: { weights: ArrayLike<number>; fanOut: number };
}

export interface SessionEvents {
  onChunk(report: ChunkReport): void;
  onEvaluation(report: EvaluationReport): void;
  onState(state: SessionState, message?: string): void;
}

export interface SessionOptions {
  batchSize: number;
  epochs: number;
  seed: number;
  /** Milliseconds of work to aim for between two looks at the page (GPU: queue depth; CPU: frame budget). */
  chunkMs: number;
  /** The least time between two evaluations on the test set, ms. */
  evalEveryMs: number;
}

/** The next frame; in a hidden tab (no frames) the next task, so that training goes on. */
const nextFrame = () =>
  new Promise<void>((resolve) => {
    if (document.hidden) setTimeout(resolve, 0);
    else requestAnimationFrame(() => resolve());
  });

export class Session {
  state: SessionState = 'ready';
  /** 1-based epoch being trained. */
  epoch = 1;
  /** Steps done in this epoch. */
  step = 0;
  epochsTarget: number;
  readonly stepsPerEpoch: number;
  private chunkSteps = 1;
  private lastEval = 0;
  private evalMs = 0;
  private loop: Promise<void> | undefined;
  private destroyed = false;

  constructor(
    readonly run: Run,
    private readonly options: SessionOptions,
    private readonly events: SessionEvents,
  ) {
    this.epochsTarget = options.epochs;
    this.stepsPerEpoch = Math.ceil(run.trainer.count / options.batchSize);
  }

  /** Epochs done, fractional. */
  get x(): number {
    return this.epoch - 1 + this.step / this.stepsPerEpoch;
  }

  start(): void {
    if (this.state === 'running' || this.state === 'failed') return;
    if (this.state === 'done') {
      this.epochsTarget += this.options.epochs;
      this.epoch++;
      this.step = 0;
    }
    this.setState('running');
    this.loop ??= this.train().finally(() => {
      this.loop = undefined;
    });
  }

  pause(): void {
    if (this.state === 'running') this.setState('paused');
  }

  /** Stops the loop after its current chunk and waits for it. */
  async stop(): Promise<void> {
    this.destroyed = true;
    if (this.state === 'running') this.state = 'paused';
    await this.loop;
  }

  /**
   * Evaluates on the test set now. The first call (before training) also compiles the evaluation's
   * pipelines, so only later ones are timed for spacing them out.
   */
  async evaluate(timed = false): Promise<void> {
    const t0 = performance.now();
    const evaluation = await this.run.evaluate();
    const weights = await this.run.firstLayer();
    if (timed) this.evalMs = performance.now() - t0;
    this.lastEval = performance.now();
    if (!this.destroyed) this.events.onEvaluation({ x: this.x, evaluation, weights });
  }

  private setState(state: SessionState, message?: string): void {
    this.state = state;
    if (!this.destroyed) this.events.onState(state, message);
  }

  private async train(): Promise<void> {
    const { trainer } = this.run;
    const { batchSize, seed } = this.options;
    const n = trainer.count;
    try {
      while (this.state === 'running' && !this.destroyed) {
        if (this.step === 0) {
          trainer.shuffle(permutation(n, (seed * 7919 + this.epoch) >>> 0));
        }
        trainer.resetStats();
        const t0 = performance.now();
        const to = Math.min(this.step + this.chunkSteps, this.stepsPerEpoch);
        await runSteps(trainer, this.step, to, batchSize);
        const done = to - this.step;
        this.step = to;
        const stats = await trainer.readStats(); // waits for the GPU: keeps the queue short
        const ms = Math.max(performance.now() - t0, 0.1);
        if (this.destroyed) return;
        if (stats.nonFinite > 0) {
          this.setState(
            'failed',
            `Training diverged in epoch ${this.epoch}: the loss became ${stats.lastLoss}. Try a smaller learning rate (now ${trainer.learningRate}), then Reset.`,
          );
          return;
        }
        // Aim the next chunk at chunkMs, growing at most 2× at a time.
        const ideal = (done * this.options.chunkMs) / ms;
        this.chunkSteps = Math.max(1, Math.min(512, Math.round(Math.min(ideal, 2 * done))));
        this.events.onChunk({
          x: this.x,
          epoch: this.epoch,
          step: this.step,
          stepsPerEpoch: this.stepsPerEpoch,
          loss: stats.meanLoss,
          accuracy: stats.accuracy,
          stepsPerSecond: (done * 1000) / ms,
          samplesPerSecond: (stats.count * 1000) / ms,
        });
        const epochEnd = this.step === this.stepsPerEpoch;
        // (not when the epoch's end, evaluated anyway, is in the next chunk)
        const evalDue =
          performance.now() - this.lastEval > Math.max(this.options.evalEveryMs, 4 * this.evalMs) &&
          this.stepsPerEpoch - this.step > this.chunkSteps;
        if (epochEnd || evalDue) await this.evaluate(true);
        if (epochEnd) {
          if (this.epoch >= this.epochsTarget) {
            this.setState('done');
            return;
          }
          this.epoch++;
          this.step = 0;
        }
        await nextFrame();
      }
    } catch (error) {
      if (!this.destroyed) this.setState('failed', (error as Error).message);
    }
  }
}
