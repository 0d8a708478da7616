/**
 * What every kernel wrapper produces: a prepared dispatch with its bind group and sizes fixed,
 * ready to be encoded into a compute pass as often as wanted. Preparing allocates; encoding never does.
 */
import type { GpuContext } from '../gpu/context.js';

/** A buffer, or a range of one (offsets must be multiples of the device's minStorageBufferOffsetAlignment). */
export type BufferRef = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export function binding(ref: BufferRef): GPUBufferBinding {
  return 'buffer' in ref ? ref : { buffer: ref };
}

/** A prepared dispatch. */
export interface GpuOp {
  readonly label: string;
  encode(pass: GPUComputePassEncoder): void;
}

/** Owns the small buffers (uniforms) that prepared ops need, and frees them together. */
export class OpScope {
  private readonly owned: GPUBuffer[] = [];
  private destroyed = false;
  private unused: GPUBuffer | undefined;
  constructor(readonly ctx: GpuContext) {}

  /** Refuses to make buffers once destroyed (work finishing behind the first steps, for a plan gone). */
  private assertOpen(label: string): void {
    if (this.destroyed) throw new Error(`${label}: its plan was destroyed`);
  }

  /** A uniform buffer holding the given 32-bit words (u32 unless given as Float32Array). */
  uniform(label: string, words: Uint32Array | Float32Array): GPUBuffer {
    this.assertOpen(label);
    const buffer = this.ctx.createBufferWith(label, words, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.owned.push(buffer);
    return buffer;
  }

  /** A storage buffer owned by this scope. */
  storage(label: string, byteSize: number, extraUsage: GPUBufferUsageFlags = 0): GPUBuffer {
    this.assertOpen(label);
    const buffer = this.ctx.createBuffer(
      label,
      byteSize,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extraUsage,
    );
    this.owned.push(buffer);
    return buffer;
  }

  /**
   * A 4-byte storage buffer, one per scope, for a binding a kernel declares but a dispatch never
   * touches (writable bindings of one dispatch may not alias each other).
   */
  placeholder(): GPUBuffer {
    this.unused ??= this.storage('placeholder', 4);
    return this.unused;
  }

  /** How many buffers it owns (storage and uniforms). */
  get count(): number {
    return this.owned.length;
  }

  /** Bytes of the buffers it owns (storage and uniforms). */
  get bytes(): number {
    let total = 0;
    for (const b of this.owned) total += b.size;
    return total;
  }

  destroy(): void {
    this.destroyed = true;
    this.unused = undefined;
    for (const b of this.owned) this.ctx.releaseBuffer(b);
    this.owned.length = 0;
  }
}

/** A prepared dispatch from a pipeline, bind group entries and a workgroup count. */
export function makeOp(
  ctx: GpuContext,
  label: string,
  pipeline: GPUComputePipeline,
  entries: Record<number, BufferRef | undefined>,
  workgroups: readonly [number, number?, number?],
): GpuOp {
  const bindGroup = ctx.device.createBindGroup({
    label: `${label}.bindGroup`,
    layout: pipeline.getBindGroupLayout(0),
    entries: Object.entries(entries)
      .filter((e): e is [string, BufferRef] => e[1] !== undefined)
      .map(([index, ref]) => ({ binding: Number(index), resource: binding(ref) })),
  });
  const [x, y = 1, z = 1] = workgroups;
  const max = ctx.device.limits.maxComputeWorkgroupsPerDimension;
  if (x > max || y > max || z > max) {
    throw new Error(`${label}: dispatch of ${x}×${y}×${z} workgroups exceeds the device limit of ${max} per dimension`);
  }
  return {
    label,
    encode(pass) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y, z);
    },
  };
}

/** Encodes ops into one compute pass of one command encoder and submits once. */
export function submitOps(ctx: GpuContext, ops: readonly GpuOp[], label = 'ops'): void {
  const encoder = ctx.device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  for (const op of ops) op.encode(pass);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
}
