/**
 * GpuDataset: a labelled data set resident on the GPU, uploaded once. Each epoch gets a seeded
 * permutation (one small upload); each step gathers its batch on the GPU by index, straight into
 * the step plan's input buffers. Pixels stay bytes on the GPU (4× smaller than f32) and are scaled
 * by the gather kernel.
 */
import type { GpuContext } from '../gpu/context';
import { prepareGather } from '../kernels/gather';
import { type GpuOp, OpScope } from '../kernels/op';
import type { StepPlan } from './plan';

export interface DatasetSource {
  /** Row-major [count, cols] bytes (e.g. MNIST pixels 0..255). */
  images: Uint8Array;
  /** One class label per row. */
  labels: Uint8Array | Uint32Array;
  count: number;
  /** Values per row (784 for MNIST). */
  cols: number;
  /** Number of classes; every label must be below it. */
  classes: number;
  /** Each byte is multiplied by this (1/255 maps pixels to [0, 1]). */
  scale: number;
}

type GatherOp = GpuOp & { setStart(start: number): void };

export class GpuDataset {
  readonly count: number;
  readonly cols: number;
  readonly classes: number;
  private readonly scope: OpScope;
  private readonly images: GPUBuffer;
  private readonly labels: GPUBuffer;
  private readonly indices: GPUBuffer;
  private readonly scale: number;
  private readonly gathers = new Map<StepPlan, Promise<GatherOp>>();

  constructor(
    private readonly ctx: GpuContext,
    source: DatasetSource,
    readonly name = 'dataset',
  ) {
    const { images, labels, count, cols, classes } = source;
    if (images.length !== count * cols) {
      throw new Error(`${name}: images has ${images.length} bytes, expected count × cols = ${count} × ${cols}`);
    }
    if (labels.length !== count) throw new Error(`${name}: ${labels.length} labels for ${count} rows`);
    for (let i = 0; i < count; i++) {
      if (labels[i] >= classes) throw new Error(`${name}: labels[${i}] = ${labels[i]} is outside 0..${classes - 1}`);
    }
    this.count = count;
    this.cols = cols;
    this.classes = classes;
    this.scale = source.scale;
    this.scope = new OpScope(ctx);
    // Bytes packed four to a u32 word (WGSL has no u8 storage); padded to whole words.
    const words = new Uint8Array(Math.ceil(images.length / 4) * 4);
    words.set(images);
    this.images = this.scope.storage(`${name}.images`, words.byteLength);
    ctx.device.queue.writeBuffer(this.images, 0, words);
    this.labels = this.scope.storage(`${name}.labels`, count * 4);
    ctx.device.queue.writeBuffer(this.labels, 0, Uint32Array.from(labels));
    this.indices = this.scope.storage(`${name}.indices`, count * 4);
    this.setOrder(undefined);
  }

  /** Sets the order rows are visited in (a permutation of 0..count−1), or the natural order. */
  setOrder(order: Uint32Array | undefined): void {
    const idx = order ?? Uint32Array.from({ length: this.count }, (_, i) => i);
    if (idx.length !== this.count)
      throw new Error(`${this.name}: order has ${idx.length} entries, expected ${this.count}`);
    this.ctx.device.queue.writeBuffer(this.indices, 0, idx.buffer as ArrayBuffer, idx.byteOffset, idx.byteLength);
  }

  /** The gather dispatch filling `plan`'s x and labels with rows order[start … start + plan.batch). */
  async gather(plan: StepPlan, start: number): Promise<GatherOp> {
    if (plan.targetKind !== 'labels')
      throw new Error(`${this.name}: gather fills class labels; the plan expects dense targets`);
    if (start < 0 || start + plan.batch > this.count) {
      throw new Error(`${this.name}: rows ${start}..${start + plan.batch - 1} are outside 0..${this.count - 1}`);
    }
    let op = this.gathers.get(plan);
    if (!op) {
      op = prepareGather(
        this.ctx,
        this.scope,
        {
          source: 'u8',
          images: this.images,
          labels: this.labels,
          indices: this.indices,
          rows: plan.batch,
          cols: this.cols,
          n: this.count,
          scale: this.scale,
          x: plan.x,
          y: plan.targets,
        },
        `${this.name}.gather.B${plan.batch}`,
      );
      this.gathers.set(plan, op);
    }
    const ready = await op;
    ready.setStart(start);
    return ready;
  }

  /** The labels as uploaded (in data set order). */
  async readLabels(): Promise<Uint32Array> {
    return new Uint32Array(await this.ctx.read(this.labels));
  }

  destroy(): void {
    this.scope.destroy();
    this.gathers.clear();
  }
}
