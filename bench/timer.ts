/**
 * Timing GPU work honestly. With `timestamp-query` the GPU writes a timestamp at the start and the
 * end of the timed compute pass (or of a bracket of submits) and we resolve them into a buffer; without
 * it, performance.now() around submit and `queue.onSubmittedWorkDone()`. Either way the caller times
 * many iterations per sample, so the resolution (and Dawn's timestamp quantisation, 2¹⁶ ns unless
 * disabled) is small against the sample.
 */
import type { GpuContext } from '../src/gpu/context.js';
import type { GpuOp } from '../src/kernels/op.js';

export interface TimedSample {
  /** GPU time (timestamps) or wall time (without), in ms, for the whole sample. */
  ms: number;
  /** Wall clock from submit to the result being known, in ms. */
  wallMs: number;
  /** Whether `ms` came from timestamps. False when the timestamps of this sample were unusable. */
  fromTimestamps: boolean;
}

export interface QuantisationProbe {
  /** Every probed timestamp was a multiple of 2¹⁰ ns or more. */
  quantized: boolean;
  /** The largest power of two dividing every probed timestamp, in ns. */
  resolutionNs: number;
  /** Median GPU duration of a pass holding one one-invocation dispatch, in µs. */
  tinyPassUs: number;
}

const PROBE_WGSL = `// bench_probe: does nothing; its pass shows the timestamps' resolution
@compute @workgroup_size(1) fn bench_probe() {}
`;

/** Timestamps coarser than this (2¹⁰ ns ≈ 1 µs) on every probe count as quantised. */
const QUANTISED_BITS = 10;

/** Trailing zero bits of a non-zero 64-bit value. */
function trailingZeros(v: bigint): number {
  let n = 0;
  while (n < 64 && ((v >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}

export class BenchTimer {
  readonly method: 'timestamp' | 'wall';
  private readonly querySet: GPUQuerySet | undefined;
  private readonly resolve: GPUBuffer | undefined;
  private readonly readback: GPUBuffer | undefined;

  private constructor(private readonly ctx: GpuContext) {
    const device = ctx.device;
    this.method = ctx.hasTimestamps ? 'timestamp' : 'wall';
    if (this.method === 'timestamp') {
      this.querySet = device.createQuerySet({ label: 'bench.timestamps', type: 'timestamp', count: 2 });
      this.resolve = device.createBuffer({
        label: 'bench.timestamps.resolve',
        size: 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
      this.readback = device.createBuffer({
        label: 'bench.timestamps.readback',
        size: 16,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
    }
  }

  static create(ctx: GpuContext): BenchTimer {
    return new BenchTimer(ctx);
  }

  /** Encodes `iterations` repetitions of `ops` into one compute pass, submits it once and times it. */
  timePass(ops: readonly GpuOp[], iterations: number, label = 'bench.pass'): Promise<TimedSample> {
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

  /**
   * Times the submits that `body` makes: with timestamps, an empty pass before them writes the start
   * and an empty pass after them the end, so the figure is GPU time from the first to the last.
   */
  async timeSubmits(body: () => void | Promise<void>, label = 'bench.submits'): Promise<TimedSample> {
    const device = this.ctx.device;
    const t0 = performance.now();
    if (this.querySet) {
      const begin = device.createCommandEncoder({ label: `${label}.begin` });
      begin
        .beginComputePass({
          label: `${label}.begin`,
          timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0 },
        })
        .end();
      device.queue.submit([begin.finish()]);
    }
    await body();
    const end = device.createCommandEncoder({ label: `${label}.end` });
    if (this.querySet) {
      end
        .beginComputePass({
          label: `${label}.end`,
          timestampWrites: { querySet: this.querySet, endOfPassWriteIndex: 1 },
        })
        .end();
    }
    device.queue.submit([this.finish(end)]);
    return this.collect(t0);
  }

  /** Adds the resolve and readback of the two timestamps to `encoder` and finishes it. */
  private finish(encoder: GPUCommandEncoder): GPUCommandBuffer {
    if (this.querySet && this.resolve && this.readback) {
      encoder.resolveQuerySet(this.querySet, 0, 2, this.resolve, 0);
      encoder.copyBufferToBuffer(this.resolve, 0, this.readback, 0, 16);
    }
    return encoder.finish();
  }

  private async collect(t0: number): Promise<TimedSample> {
    if (!this.readback) {
      await this.ctx.device.queue.onSubmittedWorkDone();
      const ms = performance.now() - t0;
      return { ms, wallMs: ms, fromTimestamps: false };
    }
    await this.readback.mapAsync(GPUMapMode.READ);
    const wallMs = performance.now() - t0;
    const [begin, end] = new BigUint64Array(this.readback.getMappedRange().slice(0));
    this.readback.unmap();
    // Some drivers return zeros (or an end before the start) when a timestamp could not be taken.
    if (begin === 0n || end < begin) return { ms: wallMs, wallMs, fromTimestamps: false };
    return { ms: Number(end - begin) / 1e6, wallMs, fromTimestamps: true };
  }

  /** The raw timestamps of `passes` passes holding one tiny dispatch each: their resolution and duration. */
  async probe(passes = 6): Promise<QuantisationProbe | null> {
    if (!this.querySet || !this.readback) return null;
    const device = this.ctx.device;
    const module = device.createShaderModule({ label: 'bench_probe.module', code: PROBE_WGSL });
    const pipeline = await device.createComputePipelineAsync({
      label: 'bench_probe.pipeline',
      layout: 'auto',
      compute: { module, entryPoint: 'bench_probe' },
    });
    let zeros = 64;
    const durations: number[] = [];
    for (let i = 0; i < passes; i++) {
      const encoder = device.createCommandEncoder({ label: 'bench_probe' });
      const pass = encoder.beginComputePass({
        label: 'bench_probe',
        timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
      });
      pass.setPipeline(pipeline);
      pass.dispatchWorkgroups(1);
      pass.end();
      device.queue.submit([this.finish(encoder)]);
      await this.readback.mapAsync(GPUMapMode.READ);
      const [begin, end] = new BigUint64Array(this.readback.getMappedRange().slice(0));
      this.readback.unmap();
      for (const t of [begin, end]) if (t !== 0n) zeros = Math.min(zeros, trailingZeros(t));
      durations.push(Number(end - begin) / 1e3);
    }
    durations.sort((a, b) => a - b);
    const bits = zeros === 64 ? 0 : zeros;
    return {
      quantized: bits >= QUANTISED_BITS,
      resolutionNs: 2 ** bits,
      tinyPassUs: durations[Math.floor(durations.length / 2)],
    };
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolve?.destroy();
    this.readback?.destroy();
  }
}
