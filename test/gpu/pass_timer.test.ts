/**
 * The GPU pass timer (src/gpu/pass_timer.ts) that the tuner and the benchmark share: a real pass on
 * this adapter, the wall clock without timestamp-query, and, on scripted timestamps, which samples
 * count as timed and which tell the step of quantised timestamps (and the tuner's stricter use).
 */
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context.js';
import { GpuPassTimer } from '../../src/gpu/pass_timer.js';
import { GpuTuneTimer } from '../../src/tune/timing.js';
import { useGpuContext } from '../helpers/gpu.js';

const STEP = 65536n; // Dawn's quantum, 2¹⁶ ns

/** A context whose readback returns the given [begin, end] pairs in turn, each after `delayMs`. */
function scripted(pairs: [bigint, bigint][], delayMs = 2): GpuContext {
  let next = 0;
  const readback = {
    mapAsync: () => new Promise((done) => setTimeout(done, delayMs)),
    getMappedRange: () => BigUint64Array.from(pairs[next++] as [bigint, bigint]).buffer,
    unmap() {},
    destroy() {},
  };
  const encoder = {
    beginComputePass: () => ({ end() {} }),
    resolveQuerySet() {},
    copyBufferToBuffer() {},
    finish: () => ({}),
  };
  const device = {
    createQuerySet: () => ({ destroy() {} }),
    createBuffer: () => readback,
    createCommandEncoder: () => encoder,
    queue: { submit() {} },
  };
  return { device, hasTimestamps: true } as unknown as GpuContext;
}

describe('the GPU pass timer', () => {
  const gpu = useGpuContext();

  it('times a pass on this adapter, with timestamps where it has them', async () => {
    const ctx = gpu();
    const timer = new GpuPassTimer(ctx, 'test.timer');
    const sample = await timer.timePass([{ encode() {} }], 3, 'test.pass');
    expect(timer.method).toBe(ctx.hasTimestamps ? 'timestamp' : 'wall');
    expect(sample.fromTimestamps).toBe(ctx.hasTimestamps);
    expect(sample.ms).toBeGreaterThanOrEqual(0);
    expect(sample.wallMs).toBeGreaterThanOrEqual(0);
    if (ctx.hasTimestamps) expect(sample.end).toBeGreaterThanOrEqual(sample.begin as bigint);
    timer.destroy();
  });

  it('falls back to the wall clock without timestamp-query', async () => {
    const ctx = gpu();
    const timer = new GpuPassTimer({ device: ctx.device, hasTimestamps: false } as GpuContext, 'test.wall');
    const sample = await timer.timePass([{ encode() {} }], 1, 'test.wall');
    expect(timer.method).toBe('wall');
    expect(sample).toEqual({ ms: sample.wallMs, wallMs: sample.wallMs, fromTimestamps: false });
    expect(timer.resolutionMs).toBe(0);
    timer.destroy();
  });

  it('uses the wall clock for unusable timestamps, and learns the step only from pairs that span time', async () => {
    const timer = new GpuPassTimer(
      scripted([
        [0n, 4n * STEP], // no start
        [9n * STEP, 8n * STEP], // an end before the start
        [3n, 3n], // zero length: timed (0 ms), but the value would spoil the step
        [7n * STEP, 10n * STEP],
      ]),
      'test.scripted',
    );
    const samples = [];
    for (let i = 0; i < 4; i++) samples.push(await timer.timePass([], 1, 'test.scripted'));
    const [noStart, backwards, zero, timed] = samples;
    for (const s of [noStart, backwards]) {
      expect(s?.fromTimestamps).toBe(false);
      expect(s?.ms).toBe(s?.wallMs);
    }
    expect(zero).toMatchObject({ ms: 0, fromTimestamps: true, begin: 3n, end: 3n });
    expect(timed).toMatchObject({ ms: Number(3n * STEP) / 1e6, fromTimestamps: true });
    expect(timer.resolutionMs).toBe(Number(STEP) / 1e6);
  });

  it("gives the tuner the wall clock for a zero-length pass, and the step for its samples' length", async () => {
    const timer = new GpuTuneTimer(
      scripted([
        [5n * STEP, 5n * STEP],
        [5n * STEP, 7n * STEP],
      ]),
    );
    const run = { variant: 'direct', fuseBiasGrad: false, ops: [] };
    expect(await timer.time(run, 1)).toBeGreaterThan(1); // the 2 ms of the scripted readback, not 0
    expect(timer.resolutionMs).toBe(0);
    expect(await timer.time(run, 1)).toBe(Number(2n * STEP) / 1e6);
    expect(timer.resolutionMs).toBe(Number(STEP) / 1e6);
  });
});
