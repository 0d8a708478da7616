/**
 * How the tuner times a candidate: `reps` runs of its dispatches encoded into one compute pass and
 * submitted once, timed by GPU timestamps at the pass's start and end (timestamp-query), or without
 * them by the wall clock from submit to `onSubmittedWorkDone`. Repeating inside one pass counts what a
 * dispatch costs in a real step (its share of the pass), and makes a sample long enough that a
 * browser's timestamp quantisation (about 0.1 ms) or the submit's latency stays small against it.
 * Tests give a `TuneTimer` of their own, whose answers decide the pick.
 */
import type { GpuContext } from '../gpu/context.js';
import type { GpuOp } from '../kernels/op.js';

/** What is being timed: the candidate and its prepared dispatches. */
export interface TimedRun {
  variant: string;
  fuseBiasGrad: boolean;
  /** One run: these ops in order (the matmul's dispatches, and bias_grad's when db is separate). */
  ops: readonly GpuOp[];
}

export interface TuneTimer {
  /** `timestamp`, `wall`, or what a test's timer calls itself. */
  readonly method: string;
  /**
   * The step of the timestamps seen so far, ms (browsers and Dawn may quantise them, e.g. to 0.1 ms
   * or 2¹⁶ ns): samples are made long enough that it stays small against them. 0 when unknown.
   */
  readonly resolutionMs?: number;
  /** Ms for `reps` runs of `run.ops` in one compute pass (a sample). */
  time(run: TimedRun, reps: number): Promise<number>;
  destroy(): void;
}

/** The GPU timer: timestamps where the device has them, else the wall clock. */
export class GpuTuneTimer implements TuneTimer {
  readonly method: 'timestamp' | 'wall';
  private readonly querySet: GPUQuerySet | undefined;
  private readonly resolveBuffer: GPUBuffer | undefined;
  private readonly readback: GPUBuffer | undefined;
  /** The greatest common divisor of every timestamp seen, ns (0n before the first). */
  private step = 0n;

  constructor(private readonly ctx: GpuContext) {
    this.method = ctx.hasTimestamps ? 'timestamp' : 'wall';
    if (this.method === 'timestamp') {
      const device = ctx.device;
      this.querySet = device.createQuerySet({ label: 'tune.timestamps', type: 'timestamp', count: 2 });
      this.resolveBuffer = device.createBuffer({
        label: 'tune.timestamps.resolve',
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      this.readback = device.createBuffer({
        label: 'tune.timestamps.readback',
        size: 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
  }

  async time(run: TimedRun, reps: number): Promise<number> {
    const device = this.ctx.device;
    const encoder = device.createCommandEncoder({ label: 'tune.sample' });
    const descriptor: GPUComputePassDescriptor = { label: 'tune.sample' };
    if (this.querySet) {
      descriptor.timestampWrites = { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
    }
    const pass = encoder.beginComputePass(descriptor);
    for (let i = 0; i < reps; i++) for (const op of run.ops) op.encode(pass);
    pass.end();
    if (this.querySet && this.resolveBuffer && this.readback) {
      encoder.resolveQuerySet(this.querySet, 0, 2, this.resolveBuffer, 0);
      encoder.copyBufferToBuffer(this.resolveBuffer, 0, this.readback, 0, 16);
    }
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    if (!this.readback) {
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t0;
    }
    await this.readback.mapAsync(GPUMapMode.READ);
    const wall = performance.now() - t0;
    const [begin, end] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    // Some drivers write zeros (or an end before the start) when they could not take a timestamp.
    if (begin === 0n || end <= begin) return wall;
    for (const t of [begin, end]) this.step = gcd(this.step, t);
    return Number(end - begin) / 1e6;
  }

  get resolutionMs(): number {
    return Number(this.step) / 1e6;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuffer?.destroy();
    this.readback?.destroy();
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}
