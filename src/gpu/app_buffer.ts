/**
 * GPU buffers the application passes in are input too. The rule, for every public entry that takes a
 * GPUBuffer — predict's inputs and `output`, fit's and evaluate's inputs, labels and targets (and
 * validation's), `sampleWeights` — is `checkAppBuffer`, before anything is encoded:
 *
 * 1. a GPUBuffer (its `size`, `usage`), not mapped nor being mapped (`mapState`);
 * 2. the usage the call needs, and the bytes its shape needs;
 * 3. none of the network's own buffers (its parameters, gradients, plans: those of its context,
 *    `GpuContext.owns`), nor another buffer of the same call that it must differ from (predict's input
 *    and output).
 *
 * A destroyed buffer, or one made on another GPUDevice, cannot be told from JavaScript. So a call
 * that must not fail half-way (fit, evaluate: they change state) first uses each one in an empty
 * command inside a validation error scope (`probeAppBuffers`, ./refused.ts), and every call submits
 * its own work inside one (`GpuContext.submitChecked`): a validation error rejects the call, naming the
 * buffer when one of the application's is the cause (`refusedWork`), instead of going to the device's
 * uncaptured-error log.
 */
import { describeValue } from '../params.js';
import { formatBytes, type GpuContext } from './context.js';

/** What a call needs of an application's buffer: its usages and the bytes of its shape. */
export interface AppBufferNeed {
  /** Usages, by name: `['STORAGE', 'COPY_SRC']`. */
  usage: readonly ('STORAGE' | 'COPY_SRC' | 'COPY_DST')[];
  bytes: number;
  /** The shape, for errors: `f32 [8, 4]`. */
  shape: string;
  /** Why the usage is needed, for errors. */
  why?: string;
}

/** Checks an application's buffer for a call (see the module comment); `name` is what the caller calls it. */
export function checkAppBuffer(
  ctx: GpuContext,
  name: string,
  buffer: GPUBuffer,
  need: AppBufferNeed,
  other?: GPUBuffer,
): GPUBuffer {
  const b = buffer as Partial<GPUBuffer> | null;
  const refuse = (why: string): never => {
    throw new Error(`${name}${why}`);
  };
  if (typeof b?.size !== 'number' || typeof b.usage !== 'number') {
    refuse(`.buffer is ${describeValue(buffer)}: expected a GPUBuffer of ${need.shape}`);
  }
  const { size = 0, usage = 0, mapState } = b as GPUBuffer;
  if (mapState !== undefined && mapState !== 'unmapped') {
    refuse(`: the buffer is ${mapState === 'pending' ? 'being ' : ''}mapped: unmap() it first`);
  }
  if (size < need.bytes) {
    refuse(`: the buffer has ${formatBytes(size)}, expected at least ${formatBytes(need.bytes)} for ${need.shape}`);
  }
  const lacking = need.usage.find((u) => !(usage & GPUBufferUsage[u]));
  if (lacking) {
    refuse(
      `: the buffer lacks GPUBufferUsage.${lacking}; create it with ${need.usage.join(' | ')} usage${need.why ? `: ${need.why}` : ''}`,
    );
  }
  if (ctx.owns(buffer)) refuse(`: the buffer is the network's own ${buffer.label}: pass a buffer of yours`);
  if (buffer === other) refuse(': the buffer is also the input, which the outputs would overwrite: pass another');
  return buffer;
}
