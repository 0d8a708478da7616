/**
 * Timing GPU work honestly: the one timer of the matmul tuner (src/tune/timing.ts) and the benchmark
 * (bench/timer.ts, which adds timing a bracket of submits and a probe of the timestamps). With
 * `timestamp-query` the GPU writes a timestamp at the start and the end of the timed compute pass
 * and they are resolved into a buffer and read back; without it, performance.now() around the
 * submit and `queue.onSubmittedWorkDone()`. Callers time many iterations per sample, so that the
 * resolution of the timestamps stays small against the sample: browsers quantise them (about
 * 0.1 ms), Dawn too (2¹⁶ ns unless told not to). The timer keeps the greatest common divisor of the
 * timestamps it has read (`resolutionMs`), the step they come in.
 *
 * Not imported by the package entries: the tuner (a chunk loaded on demand) and bench/ use it.
 */
import type { GpuContext } from './context.js';

/** What a timed pass repeats: something that records its dispatches into a pass (a GpuOp of src/kernels/ is one). */
export interface PassEncodable {
  encode(pass: GPUComputePassEncoder): void;
}

export interface PassSample {
  /** GPU time (timestamps) or, without usable ones, wall time, in ms, for the whole sample. */
  ms: number;
  /** Wall clock from submit to the result being known, in ms. */
  wallMs: number;
  /**
   * Whether `ms` came from timestamps: false without timestamp-query, and when the driver wrote a zero
   * start or an end before the start. An end equal to the start (0 ms) is what a quantised clock says
   * of a pass shorter than its step, and counts.
   */
  fromTimestamps: boolean;
  /** The two timestamps as read, ns, whatever they are; absent without timestamp-query. */
  begin?: bigint;
  end?: bigint;
}

export class GpuPassTimer {
  readonly method: 'timestamp' | 'wall';
  protected readonly querySet: GPUQuerySet | undefined;
  private readonly resolve: GPUBuffer | undefined;
  private readonly readback: GPUBuffer | undefined;
  /** The greatest common divisor of the timestamps of every sample whose end came after its start, ns (0n before the first). */
  private step = 0n;

  /** `label` names what the timer makes: `<label>.timestamps` and its buffers. */
  constructor(
    protected readonly ctx: GpuContext,
    label: string,
  ) {
    this.method = ctx.hasTimestamps ? 'timestamp' : 'wall';
    if (this.method === 'timestamp') {
      const device = ctx.device;
      this.querySet = device.createQuerySet({ label: `${label}.timestamps`, type: 'timestamp', count: 2 });
      this.resolve = device.createBuffer({
        label: `${label}.timestamps.resolve`,
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      this.readback = device.createBuffer({
        label: `${label}.timestamps.readback`,
        size: 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
  }

  /**
   * The step of the timestamps read so far (their greatest common divisor), ms: 2¹⁶ ns under Dawn's
   * quantisation. 0 before the first sample whose end came after its start.
   */
  get resolutionMs(): number {
    return Number(this.step) / 1e6;
  }

  /** Encodes `iterations` repetitions of `ops` into one compute pass labelled `label`, submits it once and times it. */
  timePass(ops: readonly PassEncodable[], iterations: number, label: string): Promise<PassSample> {
    const encoder = this.ctx.device.createCommandEncoder({ label });
    const descriptor: GPUComputePassDescriptor = { label };
    if (this.querySet) {
      descriptor.timestampWrites = { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
    }
    const pass = encoder.beginComputePass(descriptor);
    for (let i = 0; i < iterations; i++) for (const op of ops) op.encode(pass);
    pass.end();
    const commands = this.finish(encoder);
    const t0 = performance.now();
    this.ctx.device.queue.submit([commands]);
    return this.collect(t0);
  }

  /** Adds the resolve and readback of the two timestamps to `encoder` and finishes it. */
  protected finish(encoder: GPUCommandEncoder): GPUCommandBuffer {
    if (this.querySet && this.resolve && this.readback) {
      encoder.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
      encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16);
    }
    return encoder.finish();
  }

  /** Waits for the timestamps written since `t0` (performance.now() before the first submit) and reads them. */
  protected async collect(t0: number): Promise<PassSample> {
    if (!this.readback) {
      await this.ctx.device.queue.onSubmittedWorkDone();
      const ms = performance.now() - t0;
      return { ms, wallMs: ms, fromTimestamps: false };
    }
    await this.readback.mapAsync(GPUMapMode.READ);
    const wallMs = performance.now() - t0;
    const [begin, end] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    // Some drivers write zeros (or an end before the start) when they could not take a timestamp.
    const fromTimestamps = begin !== 0n && end >= begin;
    // Only a pair that spans time tells the step: the two ends of a zero-length one are one value.
    if (fromTimestamps && end > begin) this.step = gcd(gcd(this.step, begin), end);
    return { ms: fromTimestamps ? Number(end - begin) / 1e6 : wallMs, wallMs, fromTimestamps, begin, end };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
    this.readback?.destroy();
  }
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}
