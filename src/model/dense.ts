/**
 * The dense layer, defined once (after llm.c's paired *_forward / *_backward per layer): its parameter
 * slots, its forward and backward on the GPU and in Float64. The GPU plan (src/train/plan.ts) and the
 * Float64 network (reference.ts) both loop over `denseLayers(spec)`, forward in order and backward
 * reversed, so the network is written out once.
 *
 * Layer l maps A_l [B, fanIn] to A_{l+1} [B, fanOut] (seeds 002, 004):
 *   forward    Z = A_l·W_l + b_l,  A_{l+1} = act_l(Z)                 matmul, bias + activation fused
 *   backward   dW_l = A_lᵀ·dZ                                        matmul Aᵀ·B
 *              db_l = Σ_rows dZ                                      bias_grad
 *              dZ_{l−1} = (dZ·W_lᵀ) ⊙ act'_{l−1}(V_{l−1})             matmul A·Bᵀ, the previous layer's
 *                                                                    activation derivative fused
 *              (dX = dZ_0·W_0ᵀ with no mask, for saliency: seed 004)
 * V is what an activation's derivative reads: its output A (ReLU, sigmoid, tanh…) or its input Z
 * (GELU), in which case the forward pass also keeps Z (`keepsPreActivation`).
 */
import type { GpuContext } from '../gpu/context.js';
import { prepareBiasGrad } from '../kernels/bias_grad.js';
import { type MatmulArgs, type MatmulChooser, prepareMatmul } from '../kernels/matmul.js';
import type { BufferRef, GpuOp, OpScope } from '../kernels/op.js';
import { biasGradRef } from '../reference/bias_grad.js';
import { matmulRef } from '../reference/matmul.js';
import { kernelActivation, type ResolvedActivation, scalarActivation } from './activations/index.js';
import { activationOf, layerCount, layerShape, type MlpSpec } from './spec.js';

export interface DenseLayer {
  /** 0-based position; its tensors are `layers.{index}.weight` and `layers.{index}.bias`. */
  readonly index: number;
  readonly fanIn: number;
  readonly fanOut: number;
  /** Applied to Z (linear for the output layer: the head follows). */
  readonly activation: ResolvedActivation;
  /** Whether the backward pass needs Z (the activation's derivative reads its input). */
  readonly keepsPreActivation: boolean;
}

/** The network's layers in order. */
export function denseLayers(spec: MlpSpec): DenseLayer[] {
  return Array.from({ length: layerCount(spec) }, (_, l) => {
    const activation = activationOf(spec, l);
    return {
      index: l,
      ...layerShape(spec, l),
      activation,
      keepsPreActivation: activation.definition.gradFrom === 'input',
    };
  });
}

/** The values layer `layer`'s activation derivative reads: its output A, or its kept Z. */
export function derivativeInput<T>(layer: DenseLayer, output: T, pre: T | undefined): T {
  if (!layer.keepsPreActivation) return output;
  if (pre === undefined)
    throw new Error(`layers.${layer.index}: Z was not kept, but its activation's derivative needs it`);
  return pre;
}

// ---- GPU -----------------------------------------------------------------------------------------

export interface DenseForwardBuffers {
  /** A_l: [B, fanIn]. */
  input: BufferRef;
  weight: BufferRef;
  bias: BufferRef;
  /** A_{l+1}: [B, fanOut]. */
  output: BufferRef;
  /** Z: [B, fanOut], when the layer keeps it. */
  pre?: BufferRef;
}

/**
 * Z = A·W + b, A' = act(Z) (and Z kept when needed), one fused matmul. `choose` (a plan's tuner,
 * src/tune/) picks the kernel; without it, the context's default.
 */
export async function denseForward(
  ctx: GpuContext,
  scope: OpScope,
  layer: DenseLayer,
  batch: number,
  buffers: DenseForwardBuffers,
  label: string,
  choose?: MatmulChooser,
): Promise<GpuOp> {
  const args: MatmulArgs = {
    a: buffers.input,
    b: buffers.weight,
    bias: buffers.bias,
    out: buffers.output,
    M: batch,
    K: layer.fanIn,
    N: layer.fanOut,
    activation: kernelActivation(layer.activation),
    preActivation: layer.keepsPreActivation ? buffers.pre : undefined,
  };
  const choice = await choose?.({ args, activation: scalarActivation(layer.activation) });
  return prepareMatmul(ctx, scope, { ...args, variant: choice?.variant }, label);
}

export interface DenseBackwardBuffers {
  /** A_l: [B, fanIn], the forward input. */
  input: BufferRef;
  weight: BufferRef;
  /** dZ of this layer: [B, fanOut]. */
  grad: BufferRef;
  /** ∂L/∂W_l, ∂L/∂b_l, written. */
  weightGrad: BufferRef;
  biasGrad: BufferRef;
  /** dZ_{l−1} (or dX for the first layer), written: [B, fanIn]; omitted when nothing needs it. */
  inputGrad?: BufferRef;
  /**
   * The layer that produced `input`, and the values its activation's derivative reads (its output,
   * which is `input`, or its kept Z): dZ_{l−1} = (dZ·Wᵀ) ⊙ act'(values). Omitted for the first layer.
   */
  previous?: { layer: DenseLayer; values: BufferRef };
}

/**
 * dW = Aᵀ·dZ, db = Σ_rows dZ, and dZ_{l−1} = (dZ·Wᵀ) ⊙ act'_{l−1} when asked. `choose` (a plan's tuner)
 * picks the kernels, and may fuse db into the dW dispatch.
 */
export async function denseBackward(
  ctx: GpuContext,
  scope: OpScope,
  layer: DenseLayer,
  batch: number,
  buffers: DenseBackwardBuffers,
  label: string,
  choose?: MatmulChooser,
): Promise<GpuOp[]> {
  const { fanIn, fanOut } = layer;
  // dW_l = A_lᵀ·dZ_l      A_l: [B, fanIn] read transposed, dZ_l: [B, fanOut]
  const dW: MatmulArgs = {
    a: buffers.input,
    b: buffers.grad,
    out: buffers.weightGrad,
    M: fanIn,
    K: batch,
    N: fanOut,
    transposeA: true,
  };
  const dWChoice = await choose?.({ args: dW, biasGrad: true });
  const ops = dWChoice?.fuseBiasGrad
    ? // dW_l and db_l = Σ_rows dZ_l in one dispatch (an extra row of ones in A_lᵀ)
      [
        await prepareMatmul(
          ctx,
          scope,
          { ...dW, variant: dWChoice.variant, biasGrad: buffers.biasGrad },
          `${label}.dW+db`,
        ),
      ]
    : [
        await prepareMatmul(ctx, scope, { ...dW, variant: dWChoice?.variant }, `${label}.dW`),
        // db_l = Σ_rows dZ_l
        await prepareBiasGrad(
          ctx,
          scope,
          { grad: buffers.grad, rows: batch, cols: fanOut, out: buffers.biasGrad },
          `${label}.db`,
        ),
      ];
  if (buffers.inputGrad) {
    // dZ_{l−1} = (dZ_l·W_lᵀ) ⊙ act'_{l−1}(V_{l−1})      or dX = dZ_0·W_0ᵀ
    const previous = buffers.previous;
    const dInput: MatmulArgs = {
      a: buffers.grad,
      b: buffers.weight,
      out: buffers.inputGrad,
      M: batch,
      K: fanOut,
      N: fanIn,
      transposeB: true,
      ...(previous && { activation: kernelActivation(previous.layer.activation), mask: previous.values }),
    };
    const choice = await choose?.({
      args: dInput,
      activation: previous && scalarActivation(previous.layer.activation),
    });
    ops.push(await prepareMatmul(ctx, scope, { ...dInput, variant: choice?.variant }, `${label}.dInput`));
  }
  return ops;
}

// ---- Float64 -------------------------------------------------------------------------------------

/** Z = A·W + b, A' = act(Z) in Float64; Z returned when the layer keeps it. */
export function denseForwardRef(
  layer: DenseLayer,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  input: ArrayLike<number>,
  batch: number,
): { output: Float64Array; pre?: Float64Array } {
  const output = new Float64Array(batch * layer.fanOut);
  const pre = layer.keepsPreActivation ? new Float64Array(batch * layer.fanOut) : undefined;
  matmulRef(input, w, output, {
    M: batch,
    N: layer.fanOut,
    K: layer.fanIn,
    bias: b,
    activation: scalarActivation(layer.activation),
    preActivation: pre,
  });
  return pre ? { output, pre } : { output };
}

/** dW, db and (when `wantInputGrad`) dZ_{l−1} = (dZ·Wᵀ) ⊙ act'_{l−1}(values), in Float64. */
export function denseBackwardRef(
  layer: DenseLayer,
  w: ArrayLike<number>,
  input: ArrayLike<number>,
  grad: ArrayLike<number>,
  batch: number,
  out: { weightGrad: Float64Array; biasGrad: Float64Array },
  inputGrad?: { previous?: { layer: DenseLayer; values: ArrayLike<number> } },
): Float64Array | undefined {
  const { fanIn, fanOut } = layer;
  // dW_l = A_lᵀ·dZ: [fanIn, fanOut]
  matmulRef(input, grad, out.weightGrad, { M: fanIn, N: fanOut, K: batch, transposeA: true });
  // db_l = Σ_rows dZ: [fanOut]
  biasGradRef(grad, batch, fanOut, out.biasGrad);
  if (!inputGrad) return undefined;
  // dZ_{l−1} = (dZ·Wᵀ) ⊙ act'_{l−1}(V): [B, fanIn]   (no mask for dX)
  const next = new Float64Array(batch * fanIn);
  const previous = inputGrad.previous;
  matmulRef(grad, w, next, {
    M: batch,
    N: fanIn,
    K: fanOut,
    transposeB: true,
    ...(previous && { activation: scalarActivation(previous.layer.activation), mask: previous.values }),
  });
  return next;
}
