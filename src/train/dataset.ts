/**
 * GpuDataset: a data set resident on the GPU, uploaded once (or the application's own buffers,
 * used in place). Each epoch gets a seeded permutation (one small upload); each step gathers its
 * batch on the GPU by index, straight into the step plan's input buffers (and, for a weighted fit,
 * the rows' loss weights). Byte inputs (MNIST pixels) stay bytes on the GPU — 4× smaller than f32 —
 * and are scaled by the gather kernel.
 */
import { checkAppBuffer } from '../gpu/app_buffer.js';
import { DeviceLimitError, type GpuContext, GpuOutOfMemoryError } from '../gpu/context.js';
import { probeAppBuffers } from '../gpu/refused.js';
import { prepareGather } from '../kernels/gather.js';
import { type GpuOp, OpScope } from '../kernels/op.js';
import type { StepPlan } from './plan.js';
import { meanWeight } from './weights.js';

/**
 * Inputs: bytes (scaled by `scale`), floats, or an application's GPUBuffer of f32 [count, cols].
 * Targets: class labels (host array, or a GPUBuffer of u32 [count]) or dense targets
 * (Float32Array or a GPUBuffer of f32 [count, targetCols]).
 */
export interface DatasetSource {
  images: Uint8Array | Float32Array | GPUBuffer;
  /** Rows in the data set. */
  count: number;
  /** Values per row (784 for MNIST). */
  cols: number;
  /** For byte inputs: each byte is multiplied by this (1/255 maps pixels to [0, 1]). Default 1/255. */
  scale?: number;
  /** Class labels, one per row… */
  labels?: Uint8Array | Uint32Array | GPUBuffer;
  /** …or dense targets [count, targetCols]. */
  targets?: Float32Array | GPUBuffer;
  /** Number of classes (labels) or target columns (dense). */
  classes: number;
  /** Loss weights, one per row (finite, ≥ 0; see src/train/weights.ts), for weighted step plans. */
  weights?: Float32Array;
}

type GatherOp = GpuOp & { setStart(start: number): void };

export class GpuDataset {
  readonly count: number;
  readonly cols: number;
  readonly classes: number;
  readonly targetKind: 'labels' | 'dense';
  private readonly scope: OpScope;
  private readonly images: GPUBuffer;
  private readonly kind: 'u8' | 'f32';
  private readonly targetBuffer: GPUBuffer;
  private readonly indices: GPUBuffer;
  private readonly scale: number;
  /** The rows' loss weights, f32 [count], once set. */
  private weightBuffer: GPUBuffer | undefined;
  /** Their mean (1 without weights): the factor by which they scale the loss on average. */
  meanWeight = 1;
  /** The application's buffers it uses in place, by the names the caller gave them (see src/gpu/app_buffer.ts). */
  readonly appBuffers: [string, GPUBuffer][] = [];
  /** Per plan, one gather per slot: the steps of one submit each read their own start (see Model.submitSteps). */
  private readonly gathers = new Map<StepPlan, { scope: OpScope; slots: Promise<GatherOp>[] }>();

  /**
   * Uploads a data set, its allocations inside an out-of-memory error scope (GpuContext.allocating): a
   * device whose memory is full gives a GpuOutOfMemoryError naming the data set, and nothing is left
   * allocated. What the library, the CLI and the demo use; the constructor does the same unscoped.
   */
  static async upload(
    ctx: GpuContext,
    source: DatasetSource,
    name = 'dataset',
    targetName = 'labels',
  ): Promise<GpuDataset> {
    const what = `the data set ${name} (${source.count} rows)`;
    try {
      const data = await ctx.allocating(
        what,
        () => new GpuDataset(ctx, source, name, targetName),
        (made) => made.destroy(),
        'fit on fewer rows at a time (repeated fit calls continue the run), or free GPU memory',
      );
      // Destroyed, mapped or of another device: found now, before a run or evaluation starts.
      await probeAppBuffers(ctx, data.appBuffers).catch((refused) => {
        data.destroy();
        throw refused;
      });
      return data;
    } catch (error) {
      // Over a limit of the device (not out of memory): say what the data set is and what would fit.
      if (!(error instanceof DeviceLimitError) || error instanceof GpuOutOfMemoryError) throw error;
      throw new DeviceLimitError(
        `${what}: ${error.message}. A data set is uploaded whole: give fewer rows per call (repeated fit calls continue the run), pixels as Uint8Array (a quarter of the bytes), or a device with a larger maxStorageBufferBindingSize (requiredLimits)`,
      );
    }
  }

  constructor(
    private readonly ctx: GpuContext,
    source: DatasetSource,
    readonly name = 'dataset',
    /** What the caller calls the targets, in errors about an application's target buffer. */
    targetName = 'labels',
  ) {
    const { images, labels, targets, count, cols, classes } = source;
    for (const [k, v] of [
      ['count', count],
      ['cols', cols],
      ['classes', classes],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: ${k} = ${v}, expected an integer ≥ 1`);
    }
    if ((labels === undefined) === (targets === undefined)) {
      throw new Error(`${name}: give exactly one of labels (class indices) or targets (dense [count, ${classes}])`);
    }
    this.count = count;
    this.cols = cols;
    this.classes = classes;
    this.scale = source.scale ?? 1 / 255;
    this.targetKind = labels !== undefined ? 'labels' : 'dense';
    this.scope = new OpScope(ctx);

    try {
      // Inputs.
      if (images instanceof Uint8Array) {
        expectLength(name, 'images', images.length, count * cols, `count × cols = ${count} × ${cols}`);
        // Bytes packed four to a u32 word (WGSL has no u8 storage); padded to whole words.
        const words = new Uint8Array(Math.ceil(images.length / 4) * 4);
        words.set(images);
        this.images = this.upload(`${name}.images`, words);
        this.kind = 'u8';
      } else if (images instanceof Float32Array) {
        expectLength(name, 'images', images.length, count * cols, `count × cols = ${count} × ${cols}`);
        for (let i = 0; i < images.length; i++) {
          if (!Number.isFinite(images[i])) {
            throw new Error(
              `${name}: images[${Math.floor(i / cols)}, ${i % cols}] = ${images[i]}: inputs must be finite`,
            );
          }
        }
        this.images = this.upload(`${name}.images`, images);
        this.kind = 'f32';
      } else {
        const shape = `f32 [${count}, ${cols}]`;
        this.images = checkAppBuffer(ctx, name, images, {
          usage: ['STORAGE'],
          bytes: count * cols * 4,
          shape,
          why: IN_PLACE,
        });
        this.appBuffers.push([name, images]); // the application's buffer, used in place (zero copy)
        this.kind = 'f32';
      }

      // Targets.
      if (labels !== undefined) {
        if (labels instanceof Uint8Array || labels instanceof Uint32Array) {
          expectLength(name, 'labels', labels.length, count, 'one per row');
          for (let i = 0; i < count; i++) {
            if (labels[i] >= classes)
              throw new Error(`${name}: labels[${i}] = ${labels[i]} is outside 0..${classes - 1}`);
          }
          this.targetBuffer = this.upload(`${name}.labels`, Uint32Array.from(labels));
        } else {
          const need = { usage: READ_BACK, bytes: count * 4, shape: `u32 [${count}]`, why: READ_WHY };
          this.targetBuffer = checkAppBuffer(ctx, targetName, labels, need);
          this.appBuffers.push([targetName, labels]);
        }
      } else if (targets instanceof Float32Array) {
        expectLength(name, 'targets', targets.length, count * classes, `count × classes = ${count} × ${classes}`);
        this.targetBuffer = this.upload(`${name}.targets`, targets);
      } else {
        const shape = `f32 [${count}, ${classes}]`;
        const need = { usage: READ_BACK, bytes: count * classes * 4, shape, why: READ_WHY };
        this.targetBuffer = checkAppBuffer(ctx, targetName, targets as GPUBuffer, need);
        this.appBuffers.push([targetName, targets as GPUBuffer]);
      }

      this.indices = this.scope.storage(`${name}.indices`, count * 4);
      this.setOrder(undefined);
      if (source.weights) this.setWeights(source.weights);
    } catch (error) {
      this.scope.destroy(); // what was uploaded before the failure
      throw error;
    }
  }

  /** True once the rows have loss weights: weighted plans can gather from it. */
  get weighted(): boolean {
    return this.weightBuffer !== undefined;
  }

  /**
   * Sets the rows' loss weights, f32 [count] (checked by the caller: finite, ≥ 0), gathered with each
   * batch of a weighted plan. Set after the targets they derive from were checked (classWeights).
   */
  setWeights(weights: Float32Array): void {
    expectLength(this.name, 'weights', weights.length, this.count, 'one per row');
    this.weightBuffer ??= this.scope.storage(`${this.name}.weights`, this.count * 4);
    const buffer = weights.buffer as ArrayBuffer;
    this.ctx.device.queue.writeBuffer(this.weightBuffer, 0, buffer, weights.byteOffset, weights.byteLength);
    this.meanWeight = meanWeight(weights);
  }

  private upload(label: string, data: Uint8Array | Uint32Array | Float32Array): GPUBuffer {
    const buffer = this.scope.storage(label, data.byteLength);
    this.ctx.device.queue.writeBuffer(buffer, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** Sets the order rows are visited in (a permutation of 0..count−1), or the natural order. */
  setOrder(order: Uint32Array | undefined): void {
    const idx = order ?? Uint32Array.from({ length: this.count }, (_, i) => i);
    if (idx.length !== this.count)
      throw new Error(`${this.name}: order has ${idx.length} entries, expected ${this.count}`);
    this.ctx.device.queue.writeBuffer(this.indices, 0, idx.buffer as ArrayBuffer, idx.byteOffset, idx.byteLength);
  }

  /**
   * The gather dispatch filling `plan`'s x and targets with rows order[start … start + plan.batch).
   * `slot` picks one of several such ops with their own start, for several steps in one submit.
   */
  async gather(plan: StepPlan, start: number, slot = 0): Promise<GatherOp> {
    if (plan.targetKind !== this.targetKind) {
      throw new Error(`${this.name}: holds ${this.targetKind} targets but the plan expects ${plan.targetKind}`);
    }
    if (plan.weighted && !this.weightBuffer) {
      throw new Error(`${this.name}: the plan weighs the loss but the data set has no weights (setWeights)`);
    }
    if (start < 0 || start + plan.batch > this.count) {
      throw new Error(`${this.name}: rows ${start}..${start + plan.batch - 1} are outside 0..${this.count - 1}`);
    }
    let entry = this.gathers.get(plan);
    if (!entry) {
      entry = { scope: new OpScope(this.ctx), slots: [] };
      this.gathers.set(plan, entry);
      plan.onDestroy(() => this.forget(plan));
    }
    const slots = entry.slots;
    let op = slots[slot];
    if (!op) {
      const dense = this.targetKind === 'dense';
      op = prepareGather(
        this.ctx,
        entry.scope,
        {
          source: this.kind,
          images: this.images,
          labels: dense ? undefined : this.targetBuffer,
          denseTargets: dense ? this.targetBuffer : undefined,
          targetCols: dense ? this.classes : undefined,
          indices: this.indices,
          rows: plan.batch,
          cols: this.cols,
          n: this.count,
          scale: this.kind === 'u8' ? this.scale : undefined,
          x: plan.x,
          y: dense ? undefined : plan.targets,
          yDense: dense ? plan.targets : undefined,
          weights: plan.weighted ? this.weightBuffer : undefined,
          yWeights: plan.weights,
        },
        `${this.name}.gather.B${plan.batch}${slot ? `.slot${slot}` : ''}`,
      );
      const held = slots;
      held[slot] = op;
      op.catch(() => delete held[slot]);
    }
    const ready = await op;
    ready.setStart(start);
    return ready;
  }

  /** The labels (in data set order). */
  async readLabels(): Promise<Uint32Array> {
    if (this.targetKind !== 'labels') throw new Error(`${this.name}: holds dense targets, not labels`);
    return new Uint32Array(await this.ctx.read(this.targetBuffer, 0, this.count * 4));
  }

  /** The dense targets [count, classes] (in data set order). */
  async readTargets(): Promise<Float32Array> {
    if (this.targetKind !== 'dense') throw new Error(`${this.name}: holds labels, not dense targets`);
    return new Float32Array(await this.ctx.read(this.targetBuffer, 0, this.count * this.classes * 4));
  }

  /** Drops the gathers of a plan that is gone, and their uniforms. */
  private forget(plan: StepPlan): void {
    this.gathers.get(plan)?.scope.destroy();
    this.gathers.delete(plan);
  }

  /** Frees the buffers this data set uploaded (never the application's own). */
  destroy(): void {
    this.scope.destroy();
    for (const { scope } of this.gathers.values()) scope.destroy();
    this.gathers.clear();
  }
}

function expectLength(name: string, what: string, got: number, want: number, why: string): void {
  if (got !== want) throw new Error(`${name}: ${what} has ${got} values, expected ${want} (${why})`);
}

/** Why an application's buffer needs STORAGE usage: the gather kernel reads it where it is. */
const IN_PLACE = 'the gather kernel reads it in place';
/** Targets are read in place and read back (checked on the CPU, and for the confusion matrix). */
const READ_BACK = ['STORAGE', 'COPY_SRC'] as const;
const READ_WHY = 'its values are read back to be checked and for evaluation';
