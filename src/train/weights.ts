/**
 * Loss weights for imbalanced data: `fit`'s `sampleWeights` and `classWeights`, checked and turned into
 * what the engine uses, one f32 weight per training row,
 *
 *   w_r = sampleWeights[r] × classWeights[class of r]      (a factor 1 where one is not given)
 *
 * computed in double precision and rounded once to f32. The class of a row is its label, or the first
 * argmax of its dense target row. The weights go to the GPU with the data set (GpuDataset), are
 * gathered with each batch and multiply each row's loss and output gradient inside the loss kernels
 * (shaders/loss_weights.wgsl): L = (1/B)·Σ_r w_r·ℓ_r, Keras' "sum over batch size" (docs/maths.md).
 * Everything is checked here before any GPU work or change to the model, and every error names the
 * option, the bad value and what was expected.
 */
import { checkAppBuffer } from '../gpu/app_buffer.js';
import type { GpuContext } from '../gpu/context.js';
import { probeAppBuffers } from '../gpu/refused.js';
import { checkGpuKeys } from '../inputs.js';
import { headOf } from '../model/heads/index.js';
import type { MlpSpec, Targets } from '../model/spec.js';
import { fail, typeName } from '../params.js';
import { argmaxRef } from '../reference/argmax.js';

/**
 * One weight per training row, finite and ≥ 0: a Float32Array, Float64Array or number[], or your own
 * GPUBuffer of f32 `[count]` (COPY_SRC usage: it is read back once to be checked).
 */
export type SampleWeights = Float32Array | Float64Array | readonly number[] | { buffer: GPUBuffer };

/** One weight per class, finite and ≥ 0, not all 0 (class heads only). */
export type ClassWeights = readonly number[] | Float32Array | Float64Array;

/** The two options as fit takes them. */
export interface LossWeighting {
  sampleWeights?: SampleWeights;
  classWeights?: ClassWeights;
}

/** Throws unless `weights` holds `rows` finite numbers ≥ 0, naming the first bad one; `what` says what one is per. */
export function checkRowWeights(name: string, weights: ArrayLike<unknown>, rows: number, what = 'one per row'): void {
  if (weights.length !== rows) throw new Error(`${name} has ${weights.length} values, expected ${rows} (${what})`);
  for (let i = 0; i < rows; i++) {
    const v = weights[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(`${name}[${i}]`, v, 'a finite number ≥ 0');
  }
}

/** The mean of the weights (1 without weights): how much the weights scale the loss on average. */
export function meanWeight(weights: ArrayLike<number> | undefined): number {
  if (weights === undefined || weights.length === 0) return 1;
  let sum = 0;
  for (let i = 0; i < weights.length; i++) sum += weights[i];
  return sum / weights.length;
}

function isWeightArray(value: unknown): value is readonly number[] | Float32Array | Float64Array {
  return Array.isArray(value) || value instanceof Float32Array || value instanceof Float64Array;
}

/**
 * The weights of `count` training rows with these targets, or undefined when neither option is given
 * (an unweighted fit). `arg` names the options in errors (`options.sampleWeights[3] = -1 is invalid…`).
 */
export async function resolveRowWeights(
  ctx: GpuContext,
  spec: MlpSpec,
  targets: Targets,
  count: number,
  given: LossWeighting,
  arg = 'options',
): Promise<Float32Array | undefined> {
  const { sampleWeights, classWeights } = given;
  if (sampleWeights === undefined && classWeights === undefined) return undefined;
  const classes = classWeights === undefined ? undefined : classesOf(spec, targets, count, classWeights, arg);
  const samples = sampleWeights === undefined ? undefined : await sampleWeightsOf(ctx, sampleWeights, count, arg);

  const out = new Float32Array(count);
  let any = false;
  for (let r = 0; r < count; r++) {
    const c = classes?.[r] ?? 0;
    const w = (samples?.[r] ?? 1) * (classWeights?.[c] ?? 1);
    out[r] = w;
    if (!Number.isFinite(out[r])) {
      const parts = [
        samples && `sampleWeights[${r}] = ${samples[r]}`,
        classes && `classWeights[${c}] = ${classWeights?.[c]}`,
      ];
      throw new Error(
        `${arg}: the weight of row ${r} (${parts.filter(Boolean).join(' × ')}) is ${w}, beyond a 32-bit float: scale the weights down`,
      );
    }
    any ||= out[r] > 0;
  }
  if (!any) {
    throw new Error(
      `${arg}: every training row has weight 0 (sampleWeights × classWeights), so nothing would be learned: give some rows a weight > 0`,
    );
  }
  return out;
}

/** Checks classWeights against the head and returns each row's class. */
function classesOf(spec: MlpSpec, targets: Targets, count: number, classWeights: unknown, arg: string): Uint32Array {
  const head = headOf(spec).definition;
  const C = spec.layers[spec.layers.length - 1];
  const name = `${arg}.classWeights`;
  if (head.prediction !== 'class') {
    throw new Error(
      `${name}: the ${head.name} head has no classes (its outputs are ${head.prediction === 'multiLabel' ? 'independent probabilities' : 'values'}); weigh its rows with ${arg}.sampleWeights instead`,
    );
  }
  if (!isWeightArray(classWeights)) {
    throw new Error(`${name} is ${typeName(classWeights)}: expected number[] with one weight per class (${C})`);
  }
  checkRowWeights(name, classWeights, C, 'one per class');
  if (!Array.prototype.some.call(classWeights, (w: number) => w > 0)) {
    fail(name, Array.from(classWeights), 'at least one weight > 0 (all 0 would learn nothing)');
  }
  if (targets.kind === 'labels') return targets.labels;
  const classes = new Uint32Array(count);
  argmaxRef(targets.values, count, C, classes); // dense rows: the class is the first argmax of the target
  return classes;
}

/** Checks sampleWeights (reading a GPU buffer back first) and returns them. */
async function sampleWeightsOf(
  ctx: GpuContext,
  sampleWeights: unknown,
  count: number,
  arg: string,
): Promise<ArrayLike<number>> {
  const name = `${arg}.sampleWeights`;
  let values: ArrayLike<unknown>;
  if (isWeightArray(sampleWeights)) {
    values = sampleWeights;
  } else if (
    typeof sampleWeights === 'object' &&
    sampleWeights !== null &&
    'buffer' in sampleWeights &&
    !ArrayBuffer.isView(sampleWeights)
  ) {
    checkGpuKeys(name, sampleWeights, ['buffer']);
    const { buffer } = sampleWeights as { buffer: GPUBuffer };
    const shape = `f32 [${count}], one weight per training row`;
    checkAppBuffer(ctx, name, buffer, {
      usage: ['COPY_SRC'],
      bytes: count * 4,
      shape,
      why: 'the weights are read back once to be checked',
    });
    await probeAppBuffers(ctx, [[name, buffer]]);
    values = new Float32Array(await ctx.read(buffer, 0, count * 4));
  } else {
    throw new Error(
      `${name} is ${typeName(sampleWeights)}: expected Float32Array, Float64Array, number[] or { buffer: GPUBuffer } with one weight per training row (${count})`,
    );
  }
  checkRowWeights(name, values, count, 'one per training row');
  return values as ArrayLike<number>;
}
