/**
 * When the GPU refuses work: which of the application's buffers is the cause (see ./app_buffer.ts for
 * the rule). Only calls that fail need it: the inference entry loads it on demand.
 */
import type { GpuContext } from './context.js';

/** Why the GPU refused an application's buffer, from its validation message. */
function unusable(name: string, error: GPUError): Error {
  const m = error.message.split('\n')[0]; // Dawn adds the call stack on further lines
  const why = /destroyed/i.test(m)
    ? 'it was destroyed'
    : /mapped/i.test(m)
      ? 'it is mapped: unmap() it first'
      : /associated with|device/i.test(m)
        ? "it belongs to another GPUDevice: make it on this network's device"
        : 'the GPU refused it';
  return new Error(`${name}: the buffer cannot be used: ${why} (${m})`);
}

/**
 * Uses each buffer in an empty command inside a validation error scope of its own (a compute pass that
 * binds it, a clear or a copy of 0 bytes, as its usage allows), and throws for the first the GPU
 * refuses — destroyed, mapped, of another device — naming it. Nothing is read or written.
 */
export async function probeAppBuffers(ctx: GpuContext, buffers: readonly [string, GPUBuffer][]): Promise<void> {
  const { device } = ctx;
  const checks = buffers.map(([name, buffer]) => {
    const error = ctx.submitChecked(() => {
      const encoder = device.createCommandEncoder({ label: `probe of ${name}` });
      if (buffer.usage & GPUBufferUsage.STORAGE) {
        const layout = device.createBindGroupLayout({
          entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'read-only-storage' } }],
        });
        const pass = encoder.beginComputePass();
        pass.setBindGroup(0, device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer } }] }));
        pass.end();
      } else if (buffer.usage & GPUBufferUsage.COPY_DST) {
        encoder.clearBuffer(buffer, 0, 0);
      }
      const scratch = device.createBuffer({ size: 4, usage: GPUBufferUsage.COPY_DST });
      if (!(buffer.usage & (GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST))) {
        encoder.copyBufferToBuffer(buffer, 0, scratch, 0, 0);
      }
      device.queue.submit([encoder.finish()]);
      scratch.destroy();
    });
    return error.then((e) => (e ? unusable(name, e) : undefined));
  });
  for (const failed of await Promise.all(checks)) if (failed) throw failed;
}

/** Work of a call that the GPU refused (a validation error of our own commands), said as what to do about it. */
export class GpuWorkRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GpuWorkRefused';
  }
}

/**
 * The error for a call whose own GPU work the device refused: the application's buffer that is the
 * cause, named (probeAppBuffers), or else a bug of ours, said as such.
 */
export async function refusedWork(
  ctx: GpuContext,
  what: string,
  error: { message: string },
  buffers: readonly [string, GPUBuffer][],
): Promise<GpuWorkRefused> {
  try {
    await probeAppBuffers(ctx, buffers);
  } catch (named) {
    return new GpuWorkRefused(`${what} failed: ${(named as Error).message}`);
  }
  return new GpuWorkRefused(`${what} failed: the GPU refused its commands (${error.message})`);
}
