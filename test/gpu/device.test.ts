import { describe, expect, it } from 'vitest';
import { describeAdapter } from '../../src/gpu/adapter.js';
import { GpuContext, missingCapabilities } from '../../src/gpu/context.js';
import { requestGpuDevice } from '../../src/gpu/device.js';

describe('getting a device', () => {
  it('finds an adapter on this machine (hardware, or SwiftShader as the fallback) and names it', async () => {
    const { device, adapterInfo, gpu } = await requestGpuDevice();
    expect(gpu).toBeDefined();
    console.log(`adapter: ${describeAdapter(adapterInfo)}`);
    expect(describeAdapter(adapterInfo).length).toBeGreaterThan(3);
    expect(missingCapabilities(device)).toEqual([]);
    device.destroy();
  });

  it("uses an application's own device without destroying it, and never replaces onuncapturederror", async () => {
    const { device, gpu } = await requestGpuDevice(); // keep `gpu` alive as long as the device
    const appHandler = () => {};
    device.onuncapturederror = appHandler;
    const ctx = await GpuContext.create({ device });
    expect(ctx.ownsDevice).toBe(false);
    expect(device.onuncapturederror).toBe(appHandler);
    const buffer = ctx.createBuffer('t', 1024, GPUBufferUsage.STORAGE);
    expect(ctx.bytesAllocated).toBe(1024);
    ctx.destroy();
    ctx.destroy(); // twice is harmless
    expect(ctx.bytesAllocated).toBe(0);
    expect(buffer.size).toBe(1024);
    // The device still works after the context is gone.
    const b = device.createBuffer({ size: 16, usage: GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(b, 0, new Float32Array(4));
    await device.queue.onSubmittedWorkDone();
    expect(() => ctx.createBuffer('x', 4, GPUBufferUsage.STORAGE)).toThrow(/destroyed/);
    device.destroy();
    expect(gpu).toBeDefined();
  });

  it('a readback of a destroyed buffer is an error, not zeros, and no uncaptured error is left', async () => {
    const ctx = await GpuContext.create();
    const buffer = ctx.createBufferWith(
      'gone',
      Float32Array.of(1, 2, 3, 4),
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    );
    expect(await ctx.readF32(buffer)).toEqual(Float32Array.of(1, 2, 3, 4));
    buffer.destroy();
    await expect(ctx.readF32(buffer)).rejects.toThrow(/^reading back gone failed: /);
    expect(ctx.errors).toEqual([]);
    ctx.destroy();
  });

  it('an allocation that is invalid (a bug of ours) is raised by allocating, not left uncaptured', async () => {
    const ctx = await GpuContext.create();
    const wrong = () => ctx.device.createBuffer({ size: 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    let freed = 0;
    const free = (b: GPUBuffer) => {
      freed++;
      b.destroy();
    };
    await expect(ctx.allocating('a wrong buffer', wrong, free, 'n/a')).rejects.toThrow(
      /^making a wrong buffer failed: /,
    );
    expect(freed).toBe(1);
    expect(ctx.errors).toEqual([]);
    ctx.destroy();
  });

  it('reports a WGSL error with the shader name and line', async () => {
    const ctx = await GpuContext.create();
    await expect(
      ctx.pipeline({
        shader: 'broken',
        entryPoint: 'main',
        source: '@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = nope;\n}\n',
      }),
    ).rejects.toThrow(/shaders\/broken\.wgsl \(main\):\n\s+line 3:/);
    ctx.destroy();
  });
});
