/**
 * GpuContext: the one owner of everything this library puts on a device — the pipeline cache,
 * the tracked buffers, the error listener. Several contexts (models) may share one device; the
 * context never assumes it is the device's only user and never destroys a device it did not create.
 */

import { describeValue } from '../params.js';
import { type AdapterSummary, summariseAdapter } from './adapter.js';
import type { DeviceOptions } from './device.js';
import { preprocessWgsl, type ShaderFlags } from './preprocess.js';

/**
 * Which family of kernels to use where two exist: `'tiled'` stages tiles in workgroup memory behind
 * barriers (fast on GPUs); `'direct'` reads global memory with no workgroup memory and no barriers
 * (fast on CPU implementations such as SwiftShader, where a barrier is a coroutine switch).
 */
export type KernelPreference = 'tiled' | 'direct';

export interface ContextOptions extends DeviceOptions {
  /** A device the application already owns. It is used as is and never destroyed by us. */
  device?: GPUDevice;
  /** Print the final WGSL of every pipeline this context compiles (or set `WEBGPU_MLP_DEBUG_WGSL=1` in Node). */
  debugShaders?: boolean;
  /** Default: `'direct'` on a software adapter (SwiftShader, llvmpipe), else `'tiled'`. */
  kernelPreference?: KernelPreference;
}

/** What a kernel wrapper asks for. The cache key is derived from all of it. */
export interface PipelineRequest {
  /** Shader name, e.g. `'matmul'`: used in labels and error messages. */
  shader: string;
  /** WGSL source as read from `shaders/`. */
  source: string;
  entryPoint: string;
  /** `#if ${flag}` values for wgsl-preprocessor. */
  flags?: ShaderFlags;
  /** WGSL `override` constants. */
  constants?: Readonly<Record<string, number>>;
  /**
   * What else distinguishes this source from others of the same shader and entry point (the flags
   * and modules a kernel applied before handing over the source): part of the cache key.
   */
  key?: string;
}

/** The limits our kernels rely on, with the WebGPU defaults as the minimum. */
export const REQUIRED_LIMITS = {
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupStorageSize: 16384,
  maxStorageBuffersPerShaderStage: 8,
} as const;

/** Lists what a device lacks for this library, or `[]`. */
export function missingCapabilities(device: GPUDevice): string[] {
  const missing: string[] = [];
  for (const [name, needed] of Object.entries(REQUIRED_LIMITS)) {
    const have = device.limits[name as keyof GPUSupportedLimits] as number;
    if (have < needed) missing.push(`limit ${name} is ${have}, need at least ${needed}`);
  }
  return missing;
}

const MIB = 1024 * 1024;

/** Bytes of free staging buffers a context keeps for `readRanges` (a few epochs' copies of a small network; freed with the context). */
const STAGING_KEPT = 8 * MIB;

/** Bytes in binary units: `512 B`, `12.5 MiB`, `2 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MIB) return `${+(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 * MIB) return `${+(bytes / MIB).toFixed(1)} MiB`;
  return `${+(bytes / (1024 * MIB)).toFixed(2)} GiB`;
}

/** Thrown when a buffer would exceed what the device allows; says which buffer, how large, and the limit. */
export class DeviceLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLimitError';
  }
}

/** Throws a DeviceLimitError unless a buffer of `bytes` fits the device's limits. */
export function checkBufferSize(
  limits: Pick<GPUSupportedLimits, 'maxBufferSize' | 'maxStorageBufferBindingSize'>,
  label: string,
  bytes: number,
  storage: boolean,
): void {
  if (bytes > limits.maxBufferSize) {
    throw new DeviceLimitError(
      `${label} needs ${formatBytes(bytes)}, over this device's maxBufferSize of ${formatBytes(limits.maxBufferSize)}`,
    );
  }
  if (storage && bytes > limits.maxStorageBufferBindingSize) {
    throw new DeviceLimitError(
      `${label} needs ${formatBytes(bytes)}, over this device's maxStorageBufferBindingSize of ${formatBytes(limits.maxStorageBufferBindingSize)}`,
    );
  }
}

/**
 * Thrown when the device could not allocate memory that its limits allow: the GPU's memory is full (other
 * models, other tabs, the application's own buffers). A DeviceLimitError, so one `catch` handles both.
 */
export class GpuOutOfMemoryError extends DeviceLimitError {
  constructor(message: string) {
    super(message);
    this.name = 'GpuOutOfMemoryError';
  }
}

/** True for what can stand for a GPUDevice: an object with limits, a queue and createBuffer. */
function isGpuDevice(value: unknown): value is GPUDevice {
  const d = value as Partial<GPUDevice> | null;
  return typeof d === 'object' && d !== null && typeof d.createBuffer === 'function' && !!d.limits && !!d.queue;
}

function envDebug(): boolean {
  return typeof process !== 'undefined' && process.env?.WEBGPU_MLP_DEBUG_WGSL === '1';
}

/** Thrown by any GPU operation after the device was lost. Training can resume from a checkpoint on a new device. */
export class DeviceLostError extends Error {
  constructor(
    readonly info: GPUDeviceLostInfo,
    options?: { cause?: unknown },
  ) {
    super(
      `The GPU device was lost (${info.reason}${info.message ? `: ${info.message}` : ''}). Create a new model on a new device; fit() checkpoints let training resume where it was.`,
      options,
    );
    this.name = 'DeviceLostError';
  }
}

/**
 * Compiled pipelines per device, shared by every context on it: a second network on an application's
 * device (or on one a benchmark keeps) compiles nothing the first did. Keyed by the request, the
 * shader's source included.
 */
const devicePipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function pipelinesOf(device: GPUDevice): Map<string, Promise<GPUComputePipeline>> {
  let cache = devicePipelines.get(device);
  if (!cache) {
    cache = new Map();
    devicePipelines.set(device, cache);
  }
  return cache;
}

/** The pipeline cache's key: all of the request, the source too (two copies of the library on one device share nothing they do not agree on). */
function pipelineKey(req: PipelineRequest): string {
  return JSON.stringify([req.shader, req.entryPoint, req.flags ?? {}, req.constants ?? {}, req.key ?? '', req.source]);
}

export class GpuContext {
  readonly device: GPUDevice;
  /** True when this context created the device (and so destroys it). */
  readonly ownsDevice: boolean;
  /** The adapter, from `requestAdapter` or the given device's `adapterInfo` (undefined where a browser lacks it). */
  readonly adapter: AdapterSummary | undefined;
  readonly hasTimestamps: boolean;
  /**
   * Whether the device has the `subgroups` feature (the library asks for it when the adapter has it):
   * the direct family's products then move to `direct.subgroup` (src/kernels/matmul.ts).
   */
  readonly subgroups: boolean;
  /** The kernel family the wrappers pick by default (see {@link KernelPreference}). */
  readonly kernelPreference: KernelPreference;
  /** Uncaptured GPU errors seen on this device since the context was made. */
  readonly errors: GPUError[] = [];
  /** This device's pipelines, shared with every context on it (devicePipelines). */
  private readonly pipelines: Map<string, Promise<GPUComputePipeline>>;
  private readonly buffers = new Map<GPUBuffer, number>();
  /** Pipelines being compiled now (what work `behind` waits for). */
  private readonly compiling = new Set<Promise<unknown>>();
  private queue: Promise<unknown> = Promise.resolve();
  private laterQueue: Promise<unknown> = Promise.resolve();
  /** Items queued `behind` not finished: all of them, and those not queued `later`. */
  private queued = 0;
  private first = 0;
  /** Preparations that work `behind` waits for (see `before`). */
  private readonly held = new Set<Promise<undefined>>();
  private readonly debugShaders: boolean;
  private readonly onError = (event: Event): void => {
    this.errors.push((event as GPUUncapturedErrorEvent).error);
  };
  /** Free staging buffers of `readRanges`, by size, and the bytes they hold (at most STAGING_KEPT). */
  private readonly staging = new Map<number, GPUBuffer[]>();
  private stagingBytes = 0;
  private destroyed = false;
  /** Set when the device is lost (driver reset, `device.destroy()`, tab in the background too long…). */
  lostInfo: GPUDeviceLostInfo | undefined;
  /**
   * Whether Dawn checks every buffer access on the device: `false` only for a device this context made
   * in Node (DeviceOptions.robustness), unknown (`undefined`) for the application's.
   */
  readonly robustness: boolean | undefined;
  /** Keeps the GPU instance we created alive as long as this context (see OwnedDevice.gpu). */
  readonly gpuInstance: GPU | undefined;

  private constructor(
    device: GPUDevice,
    owns: boolean,
    adapter: AdapterSummary | undefined,
    debug: boolean,
    preference: KernelPreference | undefined,
    gpu?: GPU,
    robustness?: boolean,
  ) {
    this.robustness = robustness;
    this.device = device;
    this.pipelines = pipelinesOf(device);
    this.gpuInstance = gpu;
    this.ownsDevice = owns;
    this.adapter = adapter;
    this.debugShaders = debug;
    this.kernelPreference = preference ?? (adapter?.isSoftware ? 'direct' : 'tiled');
    this.hasTimestamps = device.features.has('timestamp-query');
    this.subgroups = device.features.has('subgroups' as GPUFeatureName);
    // A listener, never `onuncapturederror =`: the application may have its own.
    device.addEventListener('uncapturederror', this.onError);
    device.lost.then((info) => {
      this.lostInfo = info;
    });
  }

  /** Wraps the application's device, or creates one (browser: navigator.gpu; Node: Dawn). */
  static async create(options: ContextOptions = {}): Promise<GpuContext> {
    const debug = options.debugShaders ?? envDebug();
    const preference = options.kernelPreference;
    if (preference !== undefined && preference !== 'tiled' && preference !== 'direct') {
      throw new Error(`kernelPreference = '${String(preference)}', expected 'tiled' or 'direct'`);
    }
    if (options.device != null && !isGpuDevice(options.device)) {
      throw new Error(
        `options.device is ${describeValue(options.device)}: expected a GPUDevice (from adapter.requestDevice()), or nothing to have one requested`,
      );
    }
    if (options.device) {
      const missing = missingCapabilities(options.device);
      if (missing.length) throw new Error(`The given GPUDevice cannot run webgpu-mlp: ${missing.join('; ')}.`);
      // Older browsers lack GPUDevice.adapterInfo: then the adapter is unknown and the kernels tiled.
      const info = (options.device as Partial<GPUDevice>).adapterInfo;
      const adapter = info && summariseAdapter(info);
      return new GpuContext(options.device, false, adapter, debug, preference);
    }
    // Loaded only here: an application that brings its own device never downloads device creation.
    const { requestGpuDevice } = await import('./device.js');
    // A device for this library alone: its kernels keep their accesses in bounds (DeviceOptions.robustness).
    const owned = await requestGpuDevice({ ...options, robustness: options.robustness ?? false });
    return new GpuContext(owned.device, true, owned.adapterInfo, debug, preference, owned.gpu, owned.robustness);
  }

  /** Whether the device has this pipeline, compiled or compiling (by any context on it): using it costs no compile. */
  hasPipeline(req: PipelineRequest): boolean {
    return this.pipelines.has(pipelineKey(req));
  }

  /** Compiles (once per distinct request) and returns a compute pipeline. WGSL errors name the shader and line. */
  pipeline(req: PipelineRequest): Promise<GPUComputePipeline> {
    this.assertAlive();
    const key = pipelineKey(req);
    let p = this.pipelines.get(key);
    if (!p) {
      const made = this.compile(req);
      this.pipelines.set(key, made);
      this.compiling.add(made);
      made.then(
        () => this.compiling.delete(made),
        () => {
          this.compiling.delete(made);
          this.pipelines.delete(key);
        },
      );
      p = made;
    }
    return p;
  }

  private async compile(req: PipelineRequest): Promise<GPUComputePipeline> {
    const code = req.flags ? preprocessWgsl(req.source, req.flags, req.shader) : req.source;
    if (this.debugShaders) {
      console.log(`// ---- ${req.shader}.${req.entryPoint} ${JSON.stringify(req.constants ?? {})}\n${code}`);
    }
    const label = `${req.shader}.${req.entryPoint}`;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ label: `${label}.module`, code });
    const info = await module.getCompilationInfo();
    const scopeError = await this.device.popErrorScope();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length || scopeError) {
      const lines = code.split('\n');
      const detail = errors
        .map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ''}`)
        .join('\n');
      throw new Error(
        `WGSL error in shaders/${req.shader}.wgsl (${req.entryPoint}):\n${detail || scopeError?.message}`,
      );
    }
    try {
      return await this.device.createComputePipelineAsync({
        label: `${label}.pipeline`,
        layout: 'auto',
        compute: { module, entryPoint: req.entryPoint, constants: { ...req.constants } },
      });
    } catch (cause) {
      throw new Error(`Pipeline ${label} failed to build: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * Queues work to run behind the first steps (a faster kernel compiling: src/kernels/matmul.ts): one
   * item at a time, each once no pipeline is compiling, so it never delays what a first step waits for
   * and leaves the other cores to training. A failure is dropped: what it would replace keeps working.
   * `later`: only once the items queued without it have finished, which `compiled({ later: false })`
   * waits for (a product that merely follows another onto a kernel must not hold back a large step
   * waiting for its own). `compiled()` waits for both.
   */
  behind(work: () => Promise<unknown>, later = false): void {
    this.queued++;
    if (!later) this.first++;
    const next = (later ? this.laterQueue : this.queue)
      .then(async () => {
        while (later && this.first > 0) await this.queue;
        while (this.compiling.size || this.held.size) await Promise.allSettled([...this.compiling, ...this.held]);
        if (!this.destroyed) await work();
      })
      .catch(() => undefined)
      .finally(() => {
        this.queued--;
        if (!later) this.first--;
      });
    if (later) this.laterQueue = next;
    else this.queue = next;
  }

  /**
   * Runs `fn` with the work queued `behind` held back until it settles: what a first step needs
   * (a fit's step plans, then their gathers) is prepared before anything compiles behind it.
   */
  async before<T>(fn: () => Promise<T>): Promise<T> {
    const running = fn();
    const settled = running.then(
      () => undefined,
      () => undefined,
    );
    this.held.add(settled);
    try {
      return await running;
    } finally {
      this.held.delete(settled);
    }
  }

  /**
   * How many items queued `behind` the first steps, not `later`, have not finished (0:
   * `compiled({ later: false })`, what a large step waits for, resolves at once).
   */
  get queuedBehind(): number {
    return this.first;
  }

  /**
   * Resolves once the work queued `behind` the first steps so far has finished (benchmarks wait for it);
   * with `later: false`, not waiting for the items queued `later`.
   */
  async compiled({ later = true }: { later?: boolean } = {}): Promise<void> {
    if (!later) while (this.first > 0) await this.queue;
    else while (this.queued > 0) await Promise.all([this.queue, this.laterQueue]);
  }

  /**
   * Creates a buffer that this context tracks (for memory accounting and cleanup). A size beyond the
   * device's `maxBufferSize`, or for a storage buffer its `maxStorageBufferBindingSize` (our kernels
   * bind storage buffers whole), is an error naming the buffer — never a silently invalid buffer.
   */
  createBuffer(label: string, size: number, usage: GPUBufferUsageFlags, mappedAtCreation = false): GPUBuffer {
    this.assertAlive();
    const aligned = Math.max(4, Math.ceil(size / 4) * 4);
    checkBufferSize(this.device.limits, label, aligned, (usage & GPUBufferUsage.STORAGE) !== 0);
    let buffer: GPUBuffer;
    try {
      buffer = this.device.createBuffer({ label, size: aligned, usage, mappedAtCreation });
    } catch (error) {
      // WebGPU throws a RangeError when the memory of a buffer mapped at creation cannot be allocated.
      if (!(error instanceof RangeError)) throw error;
      throw new GpuOutOfMemoryError(`out of memory making ${label} (${formatBytes(aligned)}): ${error.message}`);
    }
    this.buffers.set(buffer, aligned);
    return buffer;
  }

  /** True for a buffer this context made and holds (a network's parameters, gradients, plans…). */
  owns(buffer: GPUBuffer): boolean {
    return this.buffers.has(buffer);
  }

  /**
   * Runs `submit` (synchronous: it encodes and submits) inside a validation error scope, so that a
   * validation error of our own commands belongs to the call that made them: the promise resolves to it
   * (or null) instead of it reaching the device's uncaptured-error log. Synchronous, as `allocating` is,
   * so no other work lands in the scope. See src/gpu/app_buffer.ts.
   */
  submitChecked(submit: () => void): Promise<GPUError | null> {
    this.device.pushErrorScope('validation');
    const pop = () => this.device.popErrorScope().catch(() => null);
    try {
      submit();
    } catch (error) {
      void pop();
      throw error;
    }
    return pop();
  }

  /**
   * Runs `make`, which allocates, inside an `out-of-memory` error scope. WebGPU reports an allocation the
   * device could not make only later, asynchronously, and hands back an invalid buffer meanwhile; here it
   * is raised as a GpuOutOfMemoryError "out of GPU memory making <what> (<bytes>): <advice>" after `free`
   * released what `make` made, rather than left among the device's uncaptured errors while work runs on
   * the invalid buffer. An error thrown by `make` passes through (`make` frees its own partial work).
   * `make` is synchronous, so the scope holds exactly its calls: concurrent work (another plan being
   * made, the application's own) can neither land in it nor take its error. Every allocation of a model,
   * an optimizer's state, a data set, a plan or an output goes through here.
   */
  async allocating<T>(
    what: string,
    make: () => T,
    free: (made: T) => void | Promise<void>,
    advice: string,
  ): Promise<T> {
    return this.allocateNow(what, make, free, advice).settled;
  }

  /**
   * allocating's two halves: what `make` made, at once (to be used before any await, as `read` does),
   * and `settled`, which resolves to it or, when the device could not make it, frees it and rejects.
   */
  private allocateNow<T>(
    what: string,
    make: () => T,
    free: (made: T) => void | Promise<void>,
    advice: string,
  ): { made: T; settled: Promise<T> } {
    this.assertAlive();
    const before = this.bytesAllocated;
    // Validation inside: writing to a buffer the device could not make is an error too, the echo of
    // the first; without one, a validation error is a bug of ours, raised rather than left uncaptured.
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const pop = () => this.device.popErrorScope().catch(() => null);
    let made: T;
    try {
      made = make();
    } catch (error) {
      void pop(); // what failed is `error`
      void pop();
      throw error;
    }
    const invalid = pop(); // both before any await: see allocating
    const oom = pop();
    const bytes = this.bytesAllocated - before;
    const settled = Promise.all([oom, invalid]).then(async ([full, wrong]) => {
      if (!full && !wrong) return made;
      await free(made);
      if (full) {
        throw new GpuOutOfMemoryError(
          `out of GPU memory making ${what}${bytes > 0 ? ` (${formatBytes(bytes)})` : ''}: ${advice} (${full.message})`,
        );
      }
      throw new Error(`making ${what} failed: ${wrong?.message}`);
    });
    return { made, settled };
  }

  /** Creates a storage buffer holding `data`. */
  createBufferWith(label: string, data: ArrayBufferView, usage: GPUBufferUsageFlags): GPUBuffer {
    const buffer = this.createBuffer(label, data.byteLength, usage, true);
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    return buffer;
  }

  /** Destroys a buffer created by this context. Harmless twice. */
  releaseBuffer(buffer: GPUBuffer): void {
    if (this.buffers.delete(buffer)) buffer.destroy();
  }

  /** Bytes currently held in buffers made by this context. */
  get bytesAllocated(): number {
    let total = 0;
    for (const size of this.buffers.values()) total += size;
    return total;
  }

  /** Buffers currently held (made by this context and not yet released). */
  get bufferCount(): number {
    return this.buffers.size;
  }

  /** Reads a buffer back (async; never call inside a training step). */
  async read(source: GPUBuffer, byteOffset = 0, byteLength = source.size - byteOffset): Promise<ArrayBuffer> {
    // The copy is encoded and submitted before any await, so it reads `source` as the work submitted so
    // far leaves it, whatever another caller submits meanwhile: concurrent predictions of one row count
    // share a plan's buffers and rely on this. The staging buffer's allocation is checked after.
    const { made: staging, settled } = this.allocateNow(
      `the readback of ${source.label} (${formatBytes(byteLength)})`,
      () =>
        this.device.createBuffer({
          label: `${source.label}.readback`,
          size: byteLength,
          usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
        }),
      (made) => made.destroy(),
      'free GPU memory (other models: destroy())',
    );
    this.device.pushErrorScope('validation');
    const encoder = this.device.createCommandEncoder({ label: `${source.label}.readback` });
    encoder.copyBufferToBuffer(source, byteOffset, staging, 0, byteLength);
    this.device.queue.submit([encoder.finish()]);
    const copied = this.device.popErrorScope().catch(() => null);
    await settled; // out of memory: the copy's error is only its echo
    try {
      const invalid = await copied;
      if (invalid) throw new Error(`reading back ${source.label} failed: ${invalid.message}`);
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange().slice(0);
    } catch (error) {
      throw await this.explain(error);
    } finally {
      staging.destroy();
    }
  }

  /**
   * Reads several buffer ranges back as one: one copy submit into one staging buffer, mapped once, the
   * ranges laid end to end in the result. The staging buffer is kept for the next read of the same size
   * (up to STAGING_KEPT bytes of them), so a read per epoch (pipelined epochs: Model.endEpoch) makes
   * none and copies nothing twice. As `read`, the copy is submitted before any await. Sizes and offsets:
   * multiples of 4.
   */
  async readRanges(
    label: string,
    ranges: readonly { buffer: GPUBuffer; offset?: number; size: number }[],
  ): Promise<ArrayBuffer> {
    const size = ranges.reduce((sum, r) => sum + r.size, 0);
    const free = this.staging.get(size);
    const kept = free?.pop();
    if (kept) this.stagingBytes -= size;
    const { made: staging, settled } = kept
      ? { made: kept, settled: Promise.resolve(kept) }
      : this.allocateNow(
          `the readback of ${label} (${formatBytes(size)})`,
          () =>
            this.device.createBuffer({
              label: `${label}.readback`,
              size,
              usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
            }),
          (made) => made.destroy(),
          'free GPU memory (other models: destroy())',
        );
    this.device.pushErrorScope('validation');
    const encoder = this.device.createCommandEncoder({ label: `${label}.readback` });
    let at = 0;
    for (const r of ranges) {
      encoder.copyBufferToBuffer(r.buffer, r.offset ?? 0, staging, at, r.size);
      at += r.size;
    }
    this.device.queue.submit([encoder.finish()]);
    const copied = this.device.popErrorScope().catch(() => null);
    await settled; // out of memory: the copy's error is only its echo
    let reuse = false;
    try {
      const invalid = await copied;
      if (invalid) throw new Error(`reading back ${label} failed: ${invalid.message}`);
      await staging.mapAsync(GPUMapMode.READ);
      const bytes = staging.getMappedRange().slice(0);
      staging.unmap();
      reuse = !this.destroyed && this.stagingBytes + size <= STAGING_KEPT;
      return bytes;
    } catch (error) {
      throw await this.explain(error);
    } finally {
      if (reuse) {
        const list = this.staging.get(size) ?? [];
        list.push(staging);
        this.staging.set(size, list);
        this.stagingBytes += size;
      } else staging.destroy();
    }
  }

  /**
   * A failed GPU call is often the first sign of a lost device (mapAsync rejects with an AbortError
   * before `device.lost` settles): wait briefly for `lost`, and report the loss rather than the symptom.
   */
  private async explain(error: unknown): Promise<unknown> {
    if (this.destroyed) {
      // destroy() while the call ran (the device, if ours, went with it): say so, not "the device was lost".
      return new Error('This webgpu-mlp context was destroyed while the call ran; create a new model.', {
        cause: error,
      });
    }
    const info =
      this.lostInfo ??
      (await Promise.race([this.device.lost, new Promise<undefined>((ok) => setTimeout(ok, 1000, undefined))]));
    if (!info) return error;
    this.lostInfo = info;
    return new DeviceLostError(info, { cause: error });
  }

  async readF32(source: GPUBuffer, offsetFloats = 0, count?: number): Promise<Float32Array> {
    const n = count ?? source.size / 4 - offsetFloats;
    return new Float32Array(await this.read(source, offsetFloats * 4, n * 4));
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  assertAlive(): void {
    if (this.destroyed) throw new Error('This webgpu-mlp context has been destroyed; create a new model.');
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo);
  }

  /** Frees every buffer this context made; destroys the device only if we created it. Harmless twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const buffer of this.buffers.keys()) buffer.destroy();
    this.buffers.clear();
    for (const list of this.staging.values()) for (const buffer of list) buffer.destroy();
    this.staging.clear();
    this.stagingBytes = 0;
    // The pipelines stay for other contexts on an application's device; ours goes with its device.
    if (this.ownsDevice) devicePipelines.delete(this.device);
    this.device.removeEventListener('uncapturederror', this.onError);
    if (this.ownsDevice) this.device.destroy();
  }
}
