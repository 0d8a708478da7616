/**
 * The dense layer (torch.nn.Linear, then its activation): its tensors, its forward and backward on the
 * GPU and in Float64 (after llm.c's paired *_forward / *_backward per layer).
 *
 * Layer l maps A [B, fanIn] to act(Z) [B, fanOut] (seeds 002, 004):
 *   forward    Z = A·W + b,  out = act(Z)                           matmul, bias + activation fused
 *   backward   dW = Aᵀ·dZ                                           matmul Aᵀ·B
 *              db = Σ_rows dZ                                       bias_grad (or fused into dW)
 *              dZ_below = (dZ·Wᵀ) ⊙ act'_below(V_below)             matmul A·Bᵀ, the derivative of the layer
 *                                                                   below fused (dX = dZ·Wᵀ for the first)
 * V is what an activation's derivative reads: its output A (ReLU, sigmoid, tanh…) or its input Z (GELU),
 * in which case the forward pass also keeps Z (`keepsPreActivation`). A dense layer followed by a norm is
 * linear: the block's activation then follows the norm.
 */
import { prepareBiasGrad } from '../../kernels/bias_grad.js';
import { type MatmulArgs, prepareMatmul } from '../../kernels/matmul.js';
import type { GpuOp } from '../../kernels/op.js';
import { biasGradRef } from '../../reference/bias_grad.js';
import { matmulRef } from '../../reference/matmul.js';
import { kernelActivation, scalarActivation } from '../activations/index.js';
import {
  type Layer,
  type LayerBackwardArgs,
  type LayerBackwardRef,
  type LayerBackwardRefArgs,
  type LayerDefinition,
  type LayerForwardArgs,
  type LayerForwardRef,
  type LayerForwardRefArgs,
  type LayerShape,
  withTraining,
} from './definition.js';

/** W [fanIn, fanOut] (in files [fanOut, fanIn], as torch.nn.Linear) and b [fanOut]. */
function tensors(layer: Layer) {
  return [
    { key: 'w', name: 'weight', shape: [layer.fanIn, layer.fanOut], transposed: true, decay: true, init: 'weights' },
    { key: 'b', name: 'bias', shape: [layer.fanOut], init: 0 },
  ] as const;
}

/**
 * Z = A·W + b, out = act(Z) (and Z kept when asked), one fused matmul. `choose` (a plan's tuner,
 * src/tune/) picks the kernel; without it, the context's default.
 */
async function forward(args: LayerForwardArgs): Promise<GpuOp[]> {
  const { ctx, scope, layer, batch, tensors: t, label, choose } = args;
  const matmul: MatmulArgs = {
    a: args.input,
    b: t.w,
    bias: t.b,
    out: args.output,
    M: batch,
    K: layer.fanIn,
    N: layer.fanOut,
    activation: kernelActivation(layer.activation),
    preActivation: layer.keepsPreActivation ? args.pre : undefined,
  };
  const choice = await choose?.({ args: matmul, activation: scalarActivation(layer.activation) });
  return [await prepareMatmul(ctx, scope, { ...matmul, variant: choice?.variant }, label)];
}

export const denseShape: LayerShape = {
  kind: 'dense',
  title: 'dense',
  params: {},
  torch: (layer) => `torch.nn.Linear(${layer.fanIn}, ${layer.fanOut})`,
  tensors,
  running: () => [],
  evaluation: 'same',
  evalForward: forward,
};

/**
 * dW = Aᵀ·dZ, db = Σ_rows dZ, and dZ_below = (dZ·Wᵀ) ⊙ act'_below when asked. `choose` (a plan's tuner)
 * picks the kernels, and may fuse db into the dW dispatch. Untuned, the direct family (CPU
 * implementations) fuses it: the same bits as bias_grad_direct on dW's own pipeline, one dispatch less
 * (~25 µs of fixed cost each on SwiftShader, where a small table's step is ~1 ms); the tiled family
 * keeps the bias_grad dispatch.
 */
async function backward(args: LayerBackwardArgs): Promise<GpuOp[]> {
  const { ctx, scope, layer, batch, label, choose } = args;
  const { fanIn, fanOut } = layer;
  // dW = Aᵀ·dZ      A: [B, fanIn] read transposed, dZ: [B, fanOut]
  const dW: MatmulArgs = {
    a: args.input,
    b: args.grad,
    out: args.tensorGrads.w,
    M: fanIn,
    K: batch,
    N: fanOut,
    transposeA: true,
  };
  const dWChoice = await choose?.({ args: dW, biasGrad: true });
  const fuse = dWChoice ? dWChoice.fuseBiasGrad : ctx.kernelPreference === 'direct';
  const ops = fuse
    ? // dW and db = Σ_rows dZ in one dispatch
      [
        await prepareMatmul(
          ctx,
          scope,
          { ...dW, variant: dWChoice?.variant, biasGrad: args.tensorGrads.b },
          `${label}.dW+db`,
        ),
      ]
    : [
        await prepareMatmul(ctx, scope, { ...dW, variant: dWChoice?.variant }, `${label}.dW`),
        // db = Σ_rows dZ
        await prepareBiasGrad(
          ctx,
          scope,
          { grad: args.grad, rows: batch, cols: fanOut, out: args.tensorGrads.b },
          `${label}.db`,
        ),
      ];
  if (args.inputGrad) {
    // dZ_below = (dZ·Wᵀ) ⊙ act'_below(V_below)      or dX = dZ·Wᵀ
    const { below } = args;
    const dInput: MatmulArgs = {
      a: args.grad,
      b: args.tensors.w,
      out: args.inputGrad,
      M: batch,
      K: fanOut,
      N: fanIn,
      transposeB: true,
      ...(below && { activation: kernelActivation(below.activation), mask: below.values }),
    };
    const choice = await choose?.({ args: dInput, activation: below && scalarActivation(below.activation) });
    ops.push(await prepareMatmul(ctx, scope, { ...dInput, variant: choice?.variant }, `${label}.dInput`));
  }
  return ops;
}

/** Z = A·W + b, out = act(Z) in Float64; Z returned when the layer keeps it. */
function forwardRef({ layer, batch, input, tensors: t }: LayerForwardRefArgs): LayerForwardRef {
  const output = new Float64Array(batch * layer.fanOut);
  const pre = layer.keepsPreActivation ? new Float64Array(batch * layer.fanOut) : undefined;
  matmulRef(input, t.w as Float64Array, output, {
    M: batch,
    N: layer.fanOut,
    K: layer.fanIn,
    bias: t.b,
    activation: scalarActivation(layer.activation),
    preActivation: pre,
  });
  return pre ? { output, pre } : { output };
}

/** dW, db and (when asked) dZ_below = (dZ·Wᵀ) ⊙ act'_below(V), in Float64. */
function backwardRef(args: LayerBackwardRefArgs): LayerBackwardRef {
  const { layer, batch, input, grad } = args;
  const { fanIn, fanOut } = layer;
  const w = new Float64Array(fanIn * fanOut);
  const b = new Float64Array(fanOut);
  // dW = Aᵀ·dZ: [fanIn, fanOut]
  matmulRef(input, grad, w, { M: fanIn, N: fanOut, K: batch, transposeA: true });
  // db = Σ_rows dZ: [fanOut]
  biasGradRef(grad, batch, fanOut, b);
  if (!args.inputGrad) return { grads: { w, b } };
  // dZ_below = (dZ·Wᵀ) ⊙ act'_below(V): [B, fanIn]   (no mask for dX)
  const inputGrad = new Float64Array(batch * fanIn);
  const { below } = args;
  matmulRef(grad, args.tensors.w as Float64Array, inputGrad, {
    M: batch,
    N: fanIn,
    K: fanOut,
    transposeB: true,
    ...(below && { activation: scalarActivation(below.activation), mask: below.values }),
  });
  return { grads: { w, b }, inputGrad };
}

export const dense: LayerDefinition = /* @__PURE__ */ withTraining(denseShape, {
  saved: () => ({}),
  trainForward: forward,
  backward,
  forwardRef,
  backwardRef,
});
