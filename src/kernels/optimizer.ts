/**
 * optimizer: one in-place update of a flat parameter buffer by an optimizer's update module, with L2
 * weight decay on its first `decayCount` elements (shaders/optimizer.wgsl + shaders/optimizers/*.wgsl).
 * The optimizer definitions (src/optim/) supply the module, name its state buffers and compute its
 * `Hyper` uniform; their Float64 twins are in src/reference/optimizer.ts. The uniform is rewritten by
 * `setHyper` (queue.writeBuffer), so a learning-rate schedule or Adam's step count never rebuilds the op.
 */
// biome-ignore lint/correctness/useImportExtensions: a Vite `?raw` import of the WGSL source
import source from '../../shaders/optimizer.wgsl?raw';
import type { GpuContext } from '../gpu/context.js';
import { checkBuffer, checkInt, grid2d, type WorkgroupTarget, workgroupLimit } from './check.js';
import { Kernel, type KernelCall, type WgslModule } from './kernel.js';
import type { BufferRef, GpuOp, OpScope } from './op.js';

export interface OptimizerArgs {
  /** The optimizer's update module (shaders/optimizers/<name>.wgsl). */
  update: WgslModule;
  /** W: f32 [count], updated in place. */
  params: BufferRef;
  /** G: f32 [count], read. */
  grads: BufferRef;
  /** The optimizer's state, f32 [count] each (start them at 0), by the module's binding names. */
  state: Readonly<Record<string, BufferRef>>;
  /** Number of elements updated. */
  count: number;
  /** Elements [0, decayCount) get weight decay, the rest none. 0 ≤ decayCount ≤ count. */
  decayCount: number;
  /** Testing only: split the workgroups over a 2D grid at this many per dimension. */
  maxWorkgroupsPerDimension?: number;
}

/** Invocations per workgroup. */
export const OPTIMIZER_WG = 256;
/**
 * Invocations per workgroup of a small update (fewer than {@link OPTIMIZER_SMALL} elements: a table
 * network's 1–4k parameters). Quiet, on SwiftShader, Adam per dispatch: `[13,100,3]` (1,703
 * parameters) 47 against 116 µs, `[30,100,2]` 86 against 112, `[2,32,32,2]` 48 against 106; from
 * `[64,100,10]` (7,510) up no faster, and MNIST's 407k parameters 8% slower, so larger ones keep 256.
 * The same update per element either way: the same bits.
 */
export const OPTIMIZER_SMALL_WG = 64;
export const OPTIMIZER_SMALL = 4096;
/** Elements (f32, or vec4f when count is a multiple of 4) each invocation updates. */
export const OPTIMIZER_PER_INVOCATION = 4;

export const OPTIMIZER = /* @__PURE__ */ new Kernel('optimizer', source);

/** The dispatch, with a Hyper of zeros until `setHyper` (which the op requires before it is encoded). */
export function optimizerCall(
  args: OptimizerArgs,
  hyper: Readonly<Record<string, number>>,
  target: WorkgroupTarget,
  label = 'optimizer',
): KernelCall {
  const { count, decayCount } = args;
  checkInt(label, 'count', count);
  if (!Number.isInteger(decayCount) || decayCount < 0 || decayCount > count) {
    throw new Error(`${label}: decayCount = ${decayCount}, expected an integer in 0..${count} (the decayed elements)`);
  }
  const vector = `f32 [${count}]`;
  checkBuffer(label, 'params', args.params, count * 4, vector);
  checkBuffer(label, 'grads', args.grads, count * 4, vector);
  for (const [name, ref] of Object.entries(args.state)) checkBuffer(label, name, ref, count * 4, vector);
  // vec4 elements when the count allows (binding offsets are multiples of 256 bytes, so aligned).
  const vec4 = count % 4 === 0;
  const elements = vec4 ? count / 4 : count;
  const wg = elements < OPTIMIZER_SMALL ? OPTIMIZER_SMALL_WG : OPTIMIZER_WG;
  return {
    label,
    entryPoint: 'optimizer',
    modules: [args.update],
    flags: { VEC4: vec4 },
    constants: { WG: wg, PER: OPTIMIZER_PER_INVOCATION },
    uniforms: { dims: { count: elements, decay_count: decayCount }, hyper },
    bindings: { W: args.params, G: args.grads, ...args.state },
    workgroups: grid2d(
      Math.ceil(elements / (wg * OPTIMIZER_PER_INVOCATION)),
      workgroupLimit(target, label, args.maxWorkgroupsPerDimension),
    ),
  };
}

/** A prepared update; `setHyper` writes the module's Hyper fields (by name) before each step. */
export interface OptimizerOp extends GpuOp {
  setHyper(fields: Readonly<Record<string, number>>): void;
}

/**
 * Prepares the update. `initialHyper` gives the Hyper fields once (their names are checked against the
 * module here); the op refuses to encode until `setHyper` has been called.
 */
export async function prepareOptimizer(
  ctx: GpuContext,
  scope: OpScope,
  args: OptimizerArgs,
  initialHyper: Readonly<Record<string, number>>,
  label = 'optimizer',
): Promise<OptimizerOp> {
  const op = await OPTIMIZER.prepare(ctx, scope, optimizerCall(args, initialHyper, ctx, label));
  let hyperSet = false;
  return {
    label,
    encode(pass) {
      if (!hyperSet) throw new Error(`${label}: call setHyper(...) before encoding the update`);
      op.encode(pass);
    },
    setHyper(fields) {
      for (const [name, value] of Object.entries(fields)) {
        if (!Number.isFinite(value)) throw new Error(`${label}: hyper.${name} = ${value}, expected a finite number`);
      }
      op.setUniform('hyper', fields);
      hyperSet = true;
    },
  };
}
