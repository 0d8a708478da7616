/**
 * A device whose memory is full: every allocation of a model, an optimizer's state, a data set, a plan
 * or an output ends in a GpuOutOfMemoryError that names what was being made, nothing stays allocated,
 * the model is as it was, and it works again once memory is free. No test device runs out of memory on
 * its own, so `fillableDevice` gives the real device a capacity, past which it behaves as WebGPU does
 * on a full GPU: the allocation's error goes to the innermost open `out-of-memory` error scope, or,
 * when none is open, is an uncaptured error (recorded here, and asserted never to happen).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuContext, GpuOutOfMemoryError } from '../../src/gpu/context.js';
import { requestGpuDevice } from '../../src/gpu/device.js';
import { loadPredictor } from '../../src/infer/mlp_predictor.js';
import { createMLP } from '../../src/mlp.js';
import { Model } from '../../src/train/model.js';
import { randomArray, randomInts } from '../helpers/random.js';

interface Fillable {
  device: GPUDevice;
  /** Bytes of buffers that may be live at once; past it, createBuffer fails as on a full GPU. */
  capacity: number;
  /** Bytes of the live buffers made through this device. */
  readonly used: number;
  /** Allocations that failed with no out-of-memory scope open: uncaptured errors. */
  readonly unscoped: string[];
  /** The allocations that failed inside a scope. */
  readonly refused: string[];
}

/**
 * The real device behind a Proxy that counts live buffer bytes. A buffer that would take them past
 * `capacity` is still made (an invalid buffer on a real GPU; a real one here, the sizes are small) and
 * not counted, and its error is reported as WebGPU reports a failed allocation.
 */
function fillableDevice(real: GPUDevice): Fillable {
  const scopes: { filter: GPUErrorFilter; error?: { message: string } }[] = [];
  const live = new Map<GPUBuffer, number>();
  const state: Fillable = {
    device: undefined as unknown as GPUDevice,
    capacity: Number.POSITIVE_INFINITY,
    get used() {
      let total = 0;
      for (const size of live.values()) total += size;
      return total;
    },
    unscoped: [],
    refused: [],
  };
  const createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => {
    const buffer = real.createBuffer(descriptor);
    if (state.used + descriptor.size > state.capacity) {
      const message = `simulated: ${descriptor.label} (${descriptor.size} B) does not fit in ${state.capacity} B`;
      const scope = [...scopes].reverse().find((s) => s.filter === 'out-of-memory');
      if (scope) scope.error ??= { message };
      else state.unscoped.push(message);
      if (scope) state.refused.push(descriptor.label ?? '');
      return buffer;
    }
    live.set(buffer, descriptor.size);
    const destroy = buffer.destroy.bind(buffer);
    Object.defineProperty(buffer, 'destroy', {
      value: () => {
        live.delete(buffer);
        destroy();
      },
    });
    return buffer;
  };
  state.device = new Proxy(real, {
    get(target, property) {
      if (property === 'createBuffer') return createBuffer;
      if (property === 'pushErrorScope') {
        return (filter: GPUErrorFilter) => {
          scopes.push({ filter });
          target.pushErrorScope(filter);
        };
      }
      if (property === 'popErrorScope') {
        return () => {
          const scope = scopes.pop(); // now, as the device pops it: not after an await
          return target.popErrorScope().then((error) => (scope?.error as GPUError | undefined) ?? error);
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return state;
}

let devices: GPUDevice[] = [];
let instances: unknown[] = []; // Dawn's GPU objects, kept alive with their devices
afterEach(() => {
  for (const d of devices) d.destroy();
  devices = [];
  instances = [];
});

async function fullDevice(): Promise<Fillable> {
  const { device, gpu } = await requestGpuDevice();
  devices.push(device);
  instances.push(gpu);
  return fillableDevice(device);
}

function blobs(n: number, D: number, C: number, seed: number): { x: Float32Array; y: Uint32Array } {
  return { x: randomArray(n * D, seed, 1), y: randomInts(n, seed + 1, C) };
}

describe('a device out of memory', () => {
  it('createMLP: a GpuOutOfMemoryError naming the layers, and nothing left allocated', async () => {
    const full = await fullDevice();
    full.capacity = 4096; // [64, 64, 4] has 4,420 parameters: 17.7 KB
    const error = await createMLP({ layers: [64, 64, 4], device: full.device }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuOutOfMemoryError);
    expect((error as Error).name).toBe('GpuOutOfMemoryError');
    expect((error as Error).message).toMatch(
      /^out of GPU memory making the parameters of layers \[64, 64, 4\] \(4,420 parameters\) \(\d+(\.\d)? KiB\): use a smaller network/,
    );
    expect(full.refused.length).toBeGreaterThan(0);
    expect(full.used).toBe(0);
    expect(full.unscoped).toEqual([]);
    // With room, the same call works on the same device.
    full.capacity = Number.POSITIVE_INFINITY;
    const mlp = await createMLP({ layers: [64, 64, 4], device: full.device });
    await mlp.destroy();
    expect(full.used).toBe(0);
  });

  it('fit whose data set does not fit: the error names it, the model and its memory are unchanged, and it trains once there is room', async () => {
    const full = await fullDevice();
    const mlp = await createMLP({ layers: [16, 8, 3], device: full.device, seed: 2 });
    const small = blobs(64, 16, 3, 1);
    await mlp.fit(small.x, small.y, { epochs: 1, batchSize: 32, optimizer: 'sgd' });
    const saved = await mlp.save();
    const memory = mlp.memory();
    const used = full.used;
    full.capacity = used + 1024; // the plans are made; 4,096 rows of 16 inputs (256 KiB) are not
    const big = blobs(4096, 16, 3, 3);
    const error = await mlp.fit(big.x, big.y, { epochs: 1, batchSize: 32 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuOutOfMemoryError);
    expect((error as Error).message).toMatch(
      /^out of GPU memory making the data set inputs \(4096 rows\) \(\d+(\.\d)? KiB\): fit on fewer rows at a time/,
    );
    expect(full.used).toBe(used);
    expect(mlp.memory()).toEqual(memory);
    // Reading the parameters back needs a staging buffer (1,280 B), which does not fit either.
    const readError = await mlp.save().catch((e: unknown) => e);
    expect(readError).toBeInstanceOf(GpuOutOfMemoryError);
    expect((readError as Error).message).toMatch(/^out of GPU memory making the readback of mlp.params \(1.3 KiB\)/);
    expect(full.unscoped).toEqual([]);
    full.capacity = Number.POSITIVE_INFINITY;
    expect(await mlp.save()).toEqual(saved);
    const [epoch] = await mlp.fit(big.x, big.y, { epochs: 1, batchSize: 32 });
    expect(Number.isFinite(epoch?.trainLoss)).toBe(true);
    await mlp.destroy();
    expect(full.used).toBe(0);
  });

  it('predict with a row count whose plan does not fit: the error names the batch size, nothing is kept, other row counts still predict', async () => {
    const full = await fullDevice();
    const mlp = await createMLP({ layers: [16, 8, 3], device: full.device, seed: 3 });
    const x = randomArray(100 * 16, 5, 1);
    const before = await mlp.predict(x.subarray(0, 10 * 16));
    const used = full.used;
    const memory = mlp.memory();
    full.capacity = used + 1024;
    const error = await mlp.predict(x).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuOutOfMemoryError);
    expect((error as Error).message).toMatch(
      /^out of GPU memory making the buffers of batch size 100 \(\d+(\.\d)? KiB\): use a smaller batch size or a smaller network/,
    );
    expect(full.used).toBe(used);
    expect(mlp.memory()).toEqual(memory);
    expect(await mlp.predict(x.subarray(0, 10 * 16))).toEqual(before);
    // GPU out, no output buffer given: the output buffer itself does not fit.
    const inputs = full.device.createBuffer({ size: 10 * 16 * 4, usage: GPUBufferUsage.COPY_SRC });
    full.capacity = full.used;
    const gpuError = await mlp.predict({ buffer: inputs, count: 10 }).catch((e: unknown) => e);
    expect(gpuError).toBeInstanceOf(GpuOutOfMemoryError);
    expect((gpuError as Error).message).toMatch(/^out of GPU memory making predictions f32 \[10, 3\] \(120 B\)/);
    expect(full.unscoped).toEqual([]);
    inputs.destroy();
    await mlp.destroy();
  });

  it('a new optimizer whose state does not fit: the error names it, and the model keeps its optimizer', async () => {
    const full = await fullDevice();
    const ctx = await GpuContext.create({ device: full.device });
    const model = await Model.create({
      layers: [16, 8, 3],
      context: ctx,
      optimizer: { kind: 'sgd', learningRate: 0.1 },
    });
    const used = full.used;
    full.capacity = used + 64;
    const error = await model.setOptimizer({ kind: 'adam', learningRate: 0.001 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuOutOfMemoryError);
    expect((error as Error).message).toMatch(
      /^out of GPU memory making the adam optimizer's state of mlp \(\d+(\.\d)? (B|KiB)\): use a smaller network/,
    );
    expect(model.optimizerConfig.kind).toBe('sgd');
    expect(full.used).toBe(used);
    expect(full.unscoped).toEqual([]);
    await model.destroy();
    ctx.destroy();
    expect(full.used).toBe(0);
  });

  it('loadPredictor: the error names the layers, and nothing is left allocated', async () => {
    const full = await fullDevice();
    const mlp = await createMLP({ layers: [64, 64, 4], device: full.device, seed: 4 });
    const bytes = await mlp.save();
    await mlp.destroy();
    full.capacity = 4096;
    const error = await loadPredictor(bytes, { device: full.device }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GpuOutOfMemoryError);
    expect((error as Error).message).toMatch(/^out of GPU memory making the parameters of layers \[64, 64, 4\]/);
    expect(full.used).toBe(0);
    expect(full.unscoped).toEqual([]);
  });
});
