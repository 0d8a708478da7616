/**
 * A loss head, defined once (after tfjs's kernel registry: one entry per head instead of
 * `head === 'softmax'` branches): the fused loss + output-gradient kernel and its Float64 twin, the
 * targets it accepts and how they are checked, what `predict` returns (the head's outputs from the
 * logits) and how evaluation counts what is right. The GPU plan, the Float64 network, the CPU
 * trainer, `evaluate`, files and the options all read it from the registry (index.ts).
 */
import type { GpuContext } from '../../gpu/context.js';
import type { LossHeadArgs } from '../../kernels/check.js';
import type { BufferRef, GpuOp, OpScope } from '../../kernels/op.js';
import type { ParamSpecs, ParamValues } from '../../params.js';
import type { TargetKind, Targets } from '../../reference/targets.js';

/**
 * What a head's prediction is, which decides how accuracy and the evaluation are reported:
 * - `class`: one class per row, the argmax (accuracy over rows, a confusion matrix with labels);
 * - `multiLabel`: each output on or off, σ(z) > ½ ⇔ z > 0 (accuracy over outputs, and per output);
 * - `value`: the outputs themselves (no accuracy; MSE and MAE against the targets).
 */
export type PredictionKind = 'class' | 'multiLabel' | 'value';

/** The buffers of one batch a head's loss kernel reads and writes. */
export interface HeadLossArgs extends LossHeadArgs {
  /** u32 [rows] class indices (targets 'labels'), or f32 [rows, cols] (targets 'dense'). */
  targets: BufferRef;
  targetKind: TargetKind;
}

/**
 * What inference needs of a head — its name and parameters, and how its outputs come from the
 * logits — kept apart from the loss so that the inference entry (src/infer.ts) carries no loss
 * kernel. Each head file exports its outputs part and its full definition, which includes it.
 */
export interface HeadOutputs<P extends string = string> {
  /** The name in options and files: `'softmax'`, `'sigmoid'`, `'mse'`, `'huber'`. */
  readonly name: string;
  readonly params: ParamSpecs<P>;
  /** The fewest outputs it makes sense with (softmax: 2 classes). */
  readonly minOutputs: number;
  readonly prediction: PredictionKind;
  /** The target kinds it accepts, the first being what it expects most. */
  readonly targets: readonly TargetKind[];
  /** GPU: the head's outputs (probabilities) from the logits; absent when the outputs are the logits. */
  prepareOutputs?(
    ctx: GpuContext,
    scope: OpScope,
    args: { logits: BufferRef; rows: number; cols: number; out: BufferRef },
    label: string,
  ): Promise<GpuOp>;
}

export interface HeadDefinition<P extends string = string> extends HeadOutputs<P> {
  /** The part inference uses (the same values as this definition's own). */
  readonly outputs: HeadOutputs<P>;
  /** The loss, one line (docs). */
  readonly formula: string;
  /** The PyTorch loss it matches. */
  readonly torch: string;
  /** Float64 twin of the outputs' prepareOutputs; absent when the outputs are the logits. */
  outputsRef?(logits: ArrayLike<number>, rows: number, cols: number, out: Float64Array): void;
  /**
   * The mean loss per row of predictions that know nothing (softmax: uniform, ln C; sigmoid: ½ per
   * output, C·ln 2), the scale against which training is judged to have diverged; undefined where
   * there is none (regression).
   */
  chanceLoss?(outputs: number): number;
  /**
   * Checks dense targets [rows, cols]; returns what is wrong with the first bad row, naming it
   * after the name of the targets (`[3, :] sums to 1.5: softmax targets are…`), or undefined.
   */
  checkDense(values: ArrayLike<number>, rows: number, cols: number): string | undefined;
  /**
   * GPU: the fused loss and output gradient dZ = ∂L/∂Z, per-row loss and correct counts; with
   * `args.weights`, each row's loss and dZ times its weight (the WEIGHTED form of the kernel).
   */
  prepareLoss(
    ctx: GpuContext,
    scope: OpScope,
    args: HeadLossArgs,
    params: ParamValues<P>,
    label: string,
  ): Promise<GpuOp>;
  /**
   * Float64 twin of prepareLoss: dLogits [rows, cols] and lossRows [rows] written; with `weights` [rows]
   * (prepareLoss's `args.weights`), row r's loss and gradient are times w_r.
   */
  lossRef(
    logits: ArrayLike<number>,
    rows: number,
    cols: number,
    targets: Targets,
    dLogits: Float64Array,
    lossRows: Float64Array,
    batchSize: number,
    params: ParamValues<P>,
    weights?: ArrayLike<number>,
  ): void;
  /** Float64: the per-row correct counts the loss kernel writes (0 for value heads). */
  correctRef(logits: ArrayLike<number>, rows: number, cols: number, targets: Targets, out: Uint32Array): void;
}

/** An error message for the first row of `values` with a non-finite entry, or undefined. */
export function firstNonFinite(values: ArrayLike<number>, cols: number): string | undefined {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) {
      return `[${Math.floor(i / cols)}, ${i % cols}] = ${values[i]}: targets must be finite numbers`;
    }
  }
  return undefined;
}
