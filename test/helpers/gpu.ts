/**
 * Shared GPU test setup. A test that needs a GPU fails (never skips) when no adapter can be had:
 * CI must not pass on a machine where the GPU tests silently did not run.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { GpuContext } from '../../src/gpu/context.js';

/**
 * Call once at the top of a test file: creates one context before the file's tests, and after them
 * asserts that no uncaptured GPU error happened and destroys it. Returns a getter.
 */
export function useGpuContext(): () => GpuContext {
  let ctx: GpuContext | undefined;
  beforeAll(async () => {
    ctx = await GpuContext.create({ label: 'test.device' });
  });
  afterAll(() => {
    const errors = ctx?.errors.map((e) => e.message) ?? [];
    ctx?.destroy();
    expect(errors, 'uncaptured GPU errors').toEqual([]);
  });
  return () => {
    if (!ctx) throw new Error('GPU context not ready: call useGpuContext() at the top level of the test file');
    return ctx;
  };
}

/** Runs `fn` inside a validation error scope and fails on any validation error. */
export async function withValidation<T>(ctx: GpuContext, fn: () => Promise<T>): Promise<T> {
  ctx.device.pushErrorScope('validation');
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await fn();
  } catch (error) {
    failure = error;
  }
  const error = await ctx.device.popErrorScope();
  if (error) throw new Error(`GPU validation error: ${error.message}`);
  if (failure !== undefined) throw failure;
  return result as T;
}

/** STORAGE | COPY_SRC | COPY_DST. A function: in Node the GPUBufferUsage global exists only once Dawn is loaded. */
function storage(): GPUBufferUsageFlags {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** Uploads a Float32Array (or converts a Float64Array) to a new storage buffer. */
export function upload(ctx: GpuContext, label: string, data: ArrayLike<number>): GPUBuffer {
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  return ctx.createBufferWith(label, f32.length ? f32 : new Float32Array(1), storage());
}

export function uploadU32(ctx: GpuContext, label: string, data: ArrayLike<number>): GPUBuffer {
  const u32 = data instanceof Uint32Array ? data : Uint32Array.from(data);
  return ctx.createBufferWith(label, u32.length ? u32 : new Uint32Array(1), storage());
}

export function emptyF32(ctx: GpuContext, label: string, count: number): GPUBuffer {
  return ctx.createBuffer(label, Math.max(1, count) * 4, storage());
}
