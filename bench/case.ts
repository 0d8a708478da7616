/**
 * A kernel figure: how to prepare its buffers and dispatch, what one iteration costs, and how to
 * check its output. The runner (run.ts) prepares it, runs one iteration, checks, then times it.
 */
import type { GpuContext } from '../src/gpu/context.js';
import type { GpuOp, OpScope } from '../src/kernels/op.js';
import type { Check, SuiteName, Unit } from './types.js';

export interface PreparedKernel {
  /** One iteration: these ops, encoded in order into one compute pass. */
  ops: readonly GpuOp[];
  /** Reads the outputs after exactly one iteration from the prepared state and compares them with the reference. */
  verify(): Promise<Check>;
}

export interface KernelCase {
  suite: SuiteName;
  /** Unique in a run. */
  name: string;
  params: Record<string, string | number | boolean>;
  unit: Unit;
  /** FLOP (GFLOP/s) or bytes (GB/s) per iteration. */
  work: number;
  /** Byte size of every storage buffer the case binds, named, for the limits check. */
  bindings: Record<string, number>;
  /** Creates buffers (owned by `scope`) with seeded inputs and prepares the ops. */
  prepare(ctx: GpuContext, scope: OpScope): Promise<PreparedKernel>;
}

/** A storage buffer of `scope` holding `data`. */
export function uploadTo(ctx: GpuContext, scope: OpScope, label: string, data: Float32Array | Uint32Array): GPUBuffer {
  const buffer = scope.storage(label, Math.max(4, data.byteLength));
  if (data.byteLength) ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

export const MIB = 1024 * 1024;

/** `12.5 MiB`, `2 GiB`. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MIB) return `${+(bytes / (1024 * MIB)).toFixed(2)} GiB`;
  return `${+(bytes / MIB).toFixed(1)} MiB`;
}
