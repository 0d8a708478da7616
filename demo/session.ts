/**
 * The training loop of the page: the library's TrainingRun (the same loop as fit(): a seeded shuffle
 * per epoch, several steps per submit, statistics between chunks), pulled one progress point at a
 * time between animation frames so that the page stays responsive, and paused by not pulling. The
 * chunk (the run's progressEvery) is sized to take about `chunkMs`; on the GPU a chunk is a few dozen
 * submits and one readback, on the CPU as many steps as fit in a frame's budget.
 */
import { type Evaluation, type TrainingEvent, TrainingInterrupted, TrainingRun } from '../src/index.js';
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
export const nextFrame = () =>
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
  /** The run being trained, and its event stream (kept while paused, so that Resume continues it). */
  private events: AsyncIterator<TrainingEvent> | undefined;
  private training: TrainingRun | undefined;
  /** Where the epoch's statistics stood at the last progress event (rows and their loss and correct sums). */
  private seen = { samples: 0, loss: 0, correct: 0 };

  constructor(
    readonly run: Run,
    private readonly options: SessionOptions,
    private readonly listeners: SessionEvents,
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
      this.events = undefined;
    }
    this.setState('running');
    this.loop ??= this.train().finally(() => {
      this.loop = undefined;
    });
  }

  pause(): void {
    if (this.state === 'running') this.setState('paused');
  }

  /** Stops the loop after its current chunk, waits for it and ends the run. */
  async stop(): Promise<void> {
    this.destroyed = true;
    if (this.state === 'running') this.state = 'paused';
    await this.loop;
    await this.events?.return?.();
    this.events = undefined;
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
    if (!this.destroyed) this.listeners.onEvaluation({ x: this.x, evaluation, weights });
  }

  private setState(state: SessionState, message?: string): void {
    this.state = state;
    if (!this.destroyed) this.listeners.onState(state, message);
  }

  /** The event stream of the run: the one paused, or a new run from where the session is. */
  private stream(): AsyncIterator<TrainingEvent> {
    if (!this.events) {
      this.training = new TrainingRun(this.run.trainer, {
        epochs: this.epochsTarget,
        batchSize: this.options.batchSize,
        seed: this.options.seed,
        progressEvery: this.chunkSteps,
        readBehind: false, // each chunk waits for the GPU: keeps the queue short
        start: { epoch: this.epoch, step: this.step },
        divergence: false,
      });
      this.events = this.training[Symbol.asyncIterator]();
      this.seen = { samples: 0, loss: 0, correct: 0 };
    }
    return this.events;
  }

  private async train(): Promise<void> {
    try {
      let t0 = performance.now();
      while (this.state === 'running' && !this.destroyed) {
        const events = this.stream();
        const from = this.step;
        const next = await events.next();
        if (this.destroyed) return;
        if (next.done) {
          this.setState('done');
          return;
        }
        const event = next.value;
        if (event.type === 'epoch') {
          await this.evaluate(true);
          if (event.result.epoch >= this.epochsTarget) {
            await events.return?.(); // ends the run: the trainer releases what it held
            this.events = undefined;
            this.setState('done');
            return;
          }
          continue;
        }
        if (event.type !== 'progress') continue;
        const p = event.progress;
        if (p.step < from) this.seen = { samples: 0, loss: 0, correct: 0 }; // a new epoch
        this.epoch = p.epoch;
        this.step = p.step;
        const ms = Math.max(performance.now() - t0, 0.1);
        const done = p.step - (p.step < from ? 0 : from);
        // This chunk's mean loss and accuracy, from the epoch's running means before and after it.
        const samples = p.samples - this.seen.samples;
        const loss = (p.loss * p.samples - this.seen.loss) / samples;
        const accuracy = (p.accuracy * p.samples - this.seen.correct) / samples;
        this.seen = { samples: p.samples, loss: p.loss * p.samples, correct: p.accuracy * p.samples };
        // Aim the next chunk at chunkMs, growing at most 2× at a time.
        const ideal = (done * this.options.chunkMs) / ms;
        this.chunkSteps = Math.max(1, Math.min(512, Math.round(Math.min(ideal, 2 * done))));
        if (this.training) this.training.progressEvery = this.chunkSteps;
        this.listeners.onChunk({
          x: this.x,
          epoch: this.epoch,
          step: this.step,
          stepsPerEpoch: this.stepsPerEpoch,
          loss,
          accuracy,
          stepsPerSecond: (done * 1000) / ms,
          samplesPerSecond: (samples * 1000) / ms,
        });
        const epochEnd = this.step === this.stepsPerEpoch;
        // (not when the epoch's end, evaluated anyway, is in the next chunk)
        const evalDue =
          !epochEnd &&
          performance.now() - this.lastEval > Math.max(this.options.evalEveryMs, 4 * this.evalMs) &&
          this.stepsPerEpoch - this.step > this.chunkSteps;
        if (evalDue) await this.evaluate(true);
        await nextFrame();
        t0 = performance.now();
      }
    } catch (error) {
      if (this.destroyed) return;
      const message =
        error instanceof TrainingInterrupted
          ? `${error.message.replace(/^training/, 'Training')} Then Reset.`
          : (error as Error).message;
      this.setState('failed', message);
    }
  }
}
