/**
 * spaceOutDawnPolling (src/gpu/polling.ts): Dawn's native poll callbacks are spaced out after the
 * first moments of each wait (those run at once), every other setImmediate callback runs as before,
 * GPU promises still resolve, and the original comes back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { spaceOutDawnPolling } from '../../src/gpu/polling.js';

const original = globalThis.setImmediate;
afterEach(() => {
  globalThis.setImmediate = original;
});

describe('spaceOutDawnPolling', () => {
  it('delays native callbacks by the given time and passes JavaScript ones straight through', async () => {
    const restore = spaceOutDawnPolling(30, 0);
    const order: string[] = [];
    const t0 = performance.now();
    let nativeAt = 0;
    const native = (() => {
      nativeAt = performance.now() - t0;
      order.push('native');
    }).bind(null); // a bound function reports native code, as Dawn's Napi callback does
    await new Promise<void>((done) => {
      setImmediate(native);
      setImmediate(() => order.push('js'));
      setTimeout(() => {
        order.push('timeout 10');
      }, 10);
      setTimeout(done, 60);
    });
    expect(order).toEqual(['js', 'timeout 10', 'native']);
    expect(nativeAt).toBeGreaterThanOrEqual(25);
    restore();
    expect(globalThis.setImmediate).toBe(original);
  });

  it('runs the polls of the first moments of a wait at once, then spaces them; a new wait starts quick again', async () => {
    const restore = spaceOutDawnPolling(40, 2);
    /** A wait as Dawn polls it: each poll asks for the next one, from inside the callback. */
    const wait = () =>
      new Promise<number[]>((done) => {
        const t0 = performance.now();
        const at: number[] = [];
        const poll = (() => {
          at.push(performance.now() - t0);
          const gap = at.length > 1 ? (at.at(-1) as number) - (at.at(-2) as number) : 0;
          if (gap >= 30 || at.length > 100_000) done(at);
          else setImmediate(poll);
        }).bind(null); // native code, as Dawn's Napi callback
        setImmediate(poll);
      });
    try {
      for (const at of [await wait(), await wait()]) {
        expect(at[0]).toBeLessThan(20); // the first poll at once, not 40 ms later
        expect(at.length).toBeGreaterThan(2); // and the next ones of the window too
        const quick = at.slice(0, -1);
        expect(quick.at(-1) as number).toBeLessThan(2 + 20); // the window ends after 2 ms (slack for a busy machine)
        expect((at.at(-1) as number) - (quick.at(-1) as number)).toBeGreaterThanOrEqual(30); // then spaced by 40 ms
      }
    } finally {
      restore();
    }
    expect(globalThis.setImmediate).toBe(original);
  });

  it('keeps GPU promises resolving (mapAsync through Dawn)', async () => {
    const restore = spaceOutDawnPolling(1);
    const ctx = await GpuContext.create();
    try {
      const buffer = ctx.createBufferWith(
        'test.values',
        new Float32Array([1, 2, 3, 4]),
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      );
      expect(Array.from(await ctx.readF32(buffer))).toEqual([1, 2, 3, 4]);
    } finally {
      ctx.destroy();
      restore();
    }
  });
});
