/** GpuContext.readRanges: several ranges read back by one copy into one staging buffer, kept for the next read. */
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';
import { upload, useGpuContext } from '../helpers/gpu.js';

const gpu = useGpuContext();

describe('readRanges', () => {
  it('lays the ranges end to end, as the work submitted before it leaves them', async () => {
    const ctx = gpu();
    const a = upload(ctx, 'a', [1, 2, 3, 4]);
    const b = upload(ctx, 'b', [5, 6, 7]);
    const read = ctx.readRanges('ab', [
      { buffer: a, offset: 4, size: 8 },
      { buffer: b, size: 12 },
    ]);
    ctx.device.queue.writeBuffer(b, 0, new Float32Array([-1])); // queued after the copy: not seen
    expect(Array.from(new Float32Array(await read))).toEqual([2, 3, 5, 6, 7]);
    expect(Array.from(new Float32Array(await ctx.readRanges('b', [{ buffer: b, size: 4 }])))).toEqual([-1]);
    ctx.releaseBuffer(a);
    ctx.releaseBuffer(b);
  });

  it('reuses its staging buffer for reads of the same size, several at once included, and frees them with the context', async () => {
    const created = await GpuContext.create({ device: gpu().device });
    const made: GPUBuffer[] = [];
    const createBuffer = created.device.createBuffer.bind(created.device);
    const counting = (descriptor: GPUBufferDescriptor) => {
      const buffer = createBuffer(descriptor);
      if (descriptor.label?.endsWith('.readback')) made.push(buffer);
      return buffer;
    };
    created.device.createBuffer = counting;
    try {
      const x = upload(created, 'x', [1, 2, 3, 4, 5, 6, 7, 8]);
      const reads = (n: number) =>
        Promise.all(
          Array.from({ length: n }, (_, i) => created.readRanges('x', [{ buffer: x, offset: 4 * i, size: 8 }])),
        );
      const first = await reads(3);
      expect(first.map((bytes) => Array.from(new Float32Array(bytes)))).toEqual([
        [1, 2],
        [2, 3],
        [3, 4],
      ]);
      expect(made.length).toBe(3);
      for (let i = 0; i < 5; i++) await reads(3);
      expect(made.length).toBe(3); // kept and reused
      await created.readRanges('x', [{ buffer: x, size: 32 }]); // another size: one more
      expect(made.length).toBe(4);
      expect(made.every((b) => b.mapState === 'unmapped')).toBe(true);
    } finally {
      created.device.createBuffer = createBuffer;
      created.destroy();
    }
    // Destroyed with the context (the device is shared and lives on): mapping one now fails.
    const device = gpu().device;
    device.pushErrorScope('validation');
    const mapped = (made[0] as GPUBuffer).mapAsync(GPUMapMode.READ).then(
      () => 'mapped',
      () => 'refused',
    );
    await device.popErrorScope();
    expect(await mapped).toBe('refused');
  });
});
