/**
 * spaceOutDawnPolling (src/gpu/polling.ts): Dawn's native poll callbacks are spaced out, every
 * other setImmediate callback runs as before, GPU promises still resolve, and the original comes back.
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
    const restore = spaceOutDawnPolling(30);
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
