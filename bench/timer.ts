/**
 * The benchmark's timer: the GPU pass timer (src/gpu/pass_timer.ts: timestamps at the start and end
 * of the timed pass, or without `timestamp-query` the wall clock), plus what only the benchmark
 * needs: timing a bracket of submits (whole training steps), and a probe of the timestamps' raw
 * values, which tells whether they come quantised (Dawn rounds them to 2¹⁶ ns unless disabled, which
 * the bench asks for and checks) and how long an almost empty pass takes. Either way the caller times
 * many iterations per sample, so the resolution is small against the sample.
 */
import type { GpuContext } from '../src/gpu/context.js';
import { GpuPassTimer, type PassSample } from '../src/gpu/pass_timer.js';

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

export class BenchTimer extends GpuPassTimer {
  private constructor(ctx: GpuContext) {
    super(ctx, 'bench');
  }

  static create(ctx: GpuContext): BenchTimer {
    return new BenchTimer(ctx);
  }

  /**
   * Times the submits that `body` makes: with timestamps, an empty pass before them writes the start
   * and an empty pass after them the end, so the figure is GPU time from the first to the last.
   */
  async timeSubmits(body: () => void | Promise<void>, label = 'bench.submits'): Promise<PassSample> {
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

  /** The raw timestamps of `passes` passes holding one tiny dispatch each: their resolution and duration. */
  async probe(passes = 6): Promise<QuantisationProbe | null> {
    if (this.method !== 'timestamp') return null;
    const device = this.ctx.device;
    const module = device.createShaderModule({ label: 'bench_probe.module', code: PROBE_WGSL });
    const pipeline = await device.createComputePipelineAsync({
      label: 'bench_probe.pipeline',
      layout: 'auto',
      compute: { module, entryPoint: 'bench_probe' },
    });
    const tiny = {
      encode(pass: GPUComputePassEncoder) {
        pass.setPipeline(pipeline);
        pass.dispatchWorkgroups(1);
      },
    };
    let zeros = 64;
    const durations: number[] = [];
    for (let i = 0; i < passes; i++) {
      const { begin = 0n, end = 0n } = await this.timePass([tiny], 1, 'bench_probe');
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
}
