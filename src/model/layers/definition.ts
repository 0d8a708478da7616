/**
 * A layer kind, defined once (after jax's stax: a layer is its parameters and its apply functions; the
 * network is a list of them): its parameters (a dropout's p, a norm's ε), its tensors — trained ones
 * with their names in files (PyTorch's), shapes, initial values and whether weight decay applies, and
 * running statistics (BatchNorm's) — how evaluation treats it, and its forward and backward on the GPU
 * and in Float64. One walker (network.ts) turns a spec into the list of layers; the GPU step plan
 * (src/train/plan.ts), the forward plans (src/infer/plan.ts), the Float64 network (../reference.ts),
 * the parameter layout, initialisation and the files all loop over that list.
 *
 * Each kind has two parts, as the heads do: a `LayerShape` (what inference needs: tensors, the
 * evaluation forward) registered in shapes.ts, which the inference entry carries, and the full
 * `LayerDefinition` (training forward, backward, Float64 twins) registered in index.ts.
 *
 * The backward rule every kind follows (llm.c's, generalised): a layer's backward is given dZ, the
 * gradient of the loss with respect to its output *before* its activation (the layer above applied
 * act' already), and writes dZ of the layer below with that layer's act' fused (`below`): the
 * gradient with respect to the input, times act'(V) of the layer that produced the input.
 */
import type { GpuContext } from '../../gpu/context.js';
import type { MatmulChooser } from '../../kernels/matmul.js';
import type { NormBackwardArgs } from '../../kernels/norm.js';
import type { BufferRef, GpuOp, OpScope } from '../../kernels/op.js';
import type { ParamSpecs, ParamValues } from '../../params.js';
import { kernelActivation, type ResolvedActivation } from '../activations/definition.js';

/** The layer kinds: `dense` (with its activation), `dropout`, `layerNorm`, `batchNorm`. */
export type LayerKindName = 'dense' | 'dropout' | 'layerNorm' | 'batchNorm';

/** One layer of a network's list (network.ts). */
export interface Layer {
  readonly kind: LayerKindName;
  /** Position in the list, 0-based. */
  readonly index: number;
  /**
   * The hidden block (dense layer) it belongs to: its tensors are `layers.{block}.…` in files, and
   * `params[block]` in the Float64 network. A block is a dense layer and what follows it up to the next.
   */
  readonly block: number;
  /** Input width. */
  readonly fanIn: number;
  /** Output width. */
  readonly fanOut: number;
  /** Applied to its output (`linear`: none); the layer above fuses act' into its backward. */
  readonly activation: ResolvedActivation;
  /** Whether the backward needs the output before the activation (act' reads its input: GELU). */
  readonly keepsPreActivation: boolean;
  /** Its own parameters: a dropout's `p`, a norm's `eps` and `momentum`. */
  readonly params: ParamValues;
}

/** A tensor of a layer: trained (weights, biases, γ, β) or a running statistic. */
export interface LayerTensor {
  /** Its key in the Float64 network's per-block record: `w`, `b`, `gamma`, `beta`, `runningMean`, `runningVar`. */
  readonly key: string;
  /** Its name in files after `layers.{block}.`: `weight`, `bias`, `norm.weight`, `norm.running_var`. */
  readonly name: string;
  /** Its shape in the flat layout (a dense weight is [fanIn, fanOut]). */
  readonly shape: readonly number[];
  /** Written transposed in files: torch.nn.Linear's weight is [fanOut, fanIn]. */
  readonly transposed?: boolean;
  /** Weight decay applies to it (dense weights only: never biases, γ or β). */
  readonly decay?: boolean;
  /** How it starts: the block activation's initialisation (dense weights), or this constant. */
  readonly init: 'weights' | number;
  /** The smallest value it may hold, checked in files (a variance: 0). */
  readonly min?: number;
}

/** Mode of a forward pass: training (dropout masks, batch statistics) or evaluation. */
export type ForwardMode = 'train' | 'eval';

/** Buffers of one layer's forward on the GPU. */
export interface LayerForwardArgs {
  ctx: GpuContext;
  scope: OpScope;
  layer: Layer;
  batch: number;
  /** [B, fanIn], read. */
  input: BufferRef;
  /** [B, fanOut], written: act(the layer's result). */
  output: BufferRef;
  /** [B, fanOut], written: the result before the activation, when the layer keeps it (training). */
  pre?: BufferRef;
  /** Its trained tensors, by key. */
  tensors: Readonly<Record<string, BufferRef>>;
  /** Its running statistics, by key (read in evaluation, updated in training). */
  running: Readonly<Record<string, BufferRef>>;
  /** Training only: what it keeps for its backward, by the names `saved` gives. */
  saved: Readonly<Record<string, BufferRef>>;
  /** Training only: u32 [seed, step] of the model's random stream (dropout). */
  random?: BufferRef;
  label: string;
  /** A step plan's tuner: picks a dense layer's matmul kernels. */
  choose?: MatmulChooser;
}

/** Buffers of one layer's backward on the GPU. */
export interface LayerBackwardArgs extends LayerForwardArgs {
  /** dZ: [B, fanOut], ∂L/∂(its result before the activation), read. */
  grad: BufferRef;
  /** ∂L/∂tensor, by key, written. */
  tensorGrads: Readonly<Record<string, BufferRef>>;
  /** dZ of the layer below (or dX for the first layer): [B, fanIn], written; omitted when nothing needs it. */
  inputGrad?: BufferRef;
  /** The layer below: its activation, whose derivative is fused into inputGrad, and what it reads (A or Z). */
  below?: { activation: ResolvedActivation; values: BufferRef };
}

/** One layer's forward in Float64. */
export interface LayerForwardRefArgs {
  layer: Layer;
  batch: number;
  mode: ForwardMode;
  input: Float64Array;
  tensors: Readonly<Record<string, Float64Array>>;
  running: Readonly<Record<string, Float64Array>>;
  /** The model's random stream for this step (dropout). */
  random?: { seed: number; step: number };
}

export interface LayerForwardRef {
  output: Float64Array;
  /** The result before the activation, when the layer keeps it. */
  pre?: Float64Array;
  /** What the backward needs. */
  saved?: Readonly<Record<string, Float64Array>>;
  /** Training: the running statistics after this step (BatchNorm), by key. */
  running?: Readonly<Record<string, Float64Array>>;
}

export interface LayerBackwardRefArgs extends LayerForwardRefArgs {
  output: Float64Array;
  pre?: Float64Array;
  saved?: Readonly<Record<string, Float64Array>>;
  /** dZ: ∂L/∂(the result before the activation). */
  grad: Float64Array;
  /** Compute the input's gradient (every layer but the first, or when dX is asked). */
  inputGrad: boolean;
  below?: { activation: ResolvedActivation; values: Float64Array };
}

export interface LayerBackwardRef {
  /** ∂L/∂tensor, by key. */
  grads: Record<string, Float64Array>;
  inputGrad?: Float64Array;
}

/** What inference needs of a layer kind (registered in shapes.ts; the inference entry carries it). */
export interface LayerShape {
  readonly kind: LayerKindName;
  /** How docs and messages name it. */
  readonly title: string;
  /** Its parameters with defaults and ranges. */
  readonly params: ParamSpecs;
  /** The PyTorch module it equals, for this layer (`nn.LayerNorm(256, eps=1e-05)`). */
  torch(layer: Layer): string;
  /** Trained tensors, in file order. */
  tensors(layer: Layer): readonly LayerTensor[];
  /** Running statistics (not trained, saved with the model). */
  running(layer: Layer): readonly LayerTensor[];
  /**
   * Evaluation (predict, evaluate, validation): `'same'` as training, `'identity'` (dropout: the output
   * is the input, nothing runs), or `'own'` (BatchNorm: the running statistics instead of the batch's).
   */
  readonly evaluation: 'same' | 'identity' | 'own';
  /**
   * The bias of the dense layer before it has no effect (BatchNorm subtracts the batch mean): its
   * gradient is 0 in exact arithmetic and rounding noise in practice. PyTorch's nn.Linear keeps that
   * bias, and so do we; `check()` measures its gradient against its block's weight gradient.
   */
  readonly cancelsBias?: boolean;
  /** The evaluation forward on the GPU (no `'identity'` layer is asked). */
  evalForward(args: LayerForwardArgs): Promise<GpuOp[]>;
}

/** A layer kind in full: its shape, and its training forward and backward on the GPU and in Float64. */
export interface LayerDefinition extends LayerShape {
  /** Floats the training forward keeps for the backward, by name, for `batch` rows. */
  saved(layer: Layer, batch: number): Readonly<Record<string, number>>;
  /** The training forward on the GPU (keeps `pre` and `saved`, updates running statistics). */
  trainForward(args: LayerForwardArgs): Promise<GpuOp[]>;
  /** dZ → ∂L/∂tensors and the input's dZ (see the rule above). */
  backward(args: LayerBackwardArgs): Promise<GpuOp[]>;
  forwardRef(args: LayerForwardRefArgs): LayerForwardRef;
  backwardRef(args: LayerBackwardRefArgs): LayerBackwardRef;
}

/** dZ_below = g ⊙ act'_below(V), in place (the Float64 side of every backward's fused mask). */
export function applyBelowRef(
  g: Float64Array,
  below: { activation: ResolvedActivation; values: ArrayLike<number> } | undefined,
): Float64Array {
  if (!below) return g;
  const { definition, params } = below.activation;
  for (let i = 0; i < g.length; i++) g[i] *= definition.grad(below.values[i], params);
  return g;
}

/** out = act(y) elementwise in Float64, y kept as `pre` when the layer keeps it. */
export function activateRef(layer: Layer, y: Float64Array): { output: Float64Array; pre?: Float64Array } {
  const { definition, params } = layer.activation;
  const output = y.map((v) => definition.forward(v, params));
  return layer.keepsPreActivation ? { output, pre: y } : { output };
}

/** A norm's learned affine map, γ (`norm.weight`, from 1) and β (`norm.bias`, from 0): [width] each, never decayed. */
export function affineTensors(layer: Layer): readonly LayerTensor[] {
  return [
    { key: 'gamma', name: 'norm.weight', shape: [layer.fanOut], init: 1 },
    { key: 'beta', name: 'norm.bias', shape: [layer.fanOut], init: 0 },
  ];
}

/**
 * A norm's Float64 backward around its twin's: dγ, dβ and the input's gradient (with the layer below's
 * act' applied), `twin` filling them from the forward's statistics.
 */
export function normBackwardRef(
  args: LayerBackwardRefArgs,
  twin: (
    stats: { mean: Float64Array; rstd: Float64Array },
    out: { dgamma: Float64Array; dbeta: Float64Array; dx?: Float64Array },
  ) => void,
): LayerBackwardRef {
  const { layer, saved, grad, inputGrad, below } = args;
  if (!saved?.mean || !saved.rstd)
    throw new Error(`layers.${layer.block}.norm: the backward needs the forward's statistics`);
  const gamma = new Float64Array(layer.fanOut);
  const beta = new Float64Array(layer.fanOut);
  const dx = inputGrad ? new Float64Array(grad.length) : undefined;
  twin({ mean: saved.mean, rstd: saved.rstd }, { dgamma: gamma, dbeta: beta, dx });
  return { grads: { gamma, beta }, ...(dx && { inputGrad: applyBelowRef(dx, below) }) };
}

/**
 * A kind's full definition: its shape and its training parts. Called `/* @__PURE__ *\/` in each kind's
 * file, so that a bundle that uses only the shape (webgpu-mlp/infer) drops the training parts, their
 * kernels and their Float64 twins.
 */
export function withTraining(shape: LayerShape, training: Omit<LayerDefinition, keyof LayerShape>): LayerDefinition {
  return { ...shape, ...training };
}

/** A norm's backward kernel arguments from its layer's (the same for LayerNorm and BatchNorm). */
export function normBackwardArgs(args: LayerBackwardArgs): NormBackwardArgs {
  const { layer, batch, tensors: t, tensorGrads: dt, inputGrad, below } = args;
  if (!inputGrad || !below) throw new Error(`${args.label}: a norm is never a network's first layer`);
  return {
    rows: batch,
    cols: layer.fanOut,
    input: args.input,
    gamma: t.gamma as BufferRef,
    stats: args.saved.stats as BufferRef,
    grad: args.grad,
    below: kernelActivation(below.activation),
    values: below.values,
    inputGrad,
    gammaGrad: dt.gamma as BufferRef,
    betaGrad: dt.beta as BufferRef,
  };
}

/** A norm's forward kernel arguments from its layer's: the rows, γ, β, ε and the block's activation. */
export function normForwardArgs(args: LayerForwardArgs) {
  const { layer, batch, tensors: t } = args;
  return {
    rows: batch,
    cols: layer.fanOut,
    input: args.input,
    gamma: t.gamma as BufferRef,
    beta: t.beta as BufferRef,
    eps: layer.params.eps as number,
    activation: kernelActivation(layer.activation),
    output: args.output,
  };
}
