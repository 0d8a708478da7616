/**
 * Dropout (torch.nn.Dropout(p), inverted): in training each unit of the block's output is kept with
 * probability 1 − p and scaled by 1/(1 − p); in evaluation it is the identity, and nothing runs (the
 * next layer reads its input). The mask is a hash of (element, the model's step, its seed, the block)
 * (shaders/dropout.wgsl, src/reference/dropout.ts): the backward draws it again, the Float64 twin draws
 * the same one bit for bit, and each step of a multi-step submit gets its own (the step counter
 * advances on the GPU after each step: src/train/plan.ts).
 */

import { dropoutBackwardRef, dropoutForwardRef, dropoutMaskRef } from '../../reference/dropout.js';
import { kernelActivation } from '../activations/index.js';
import {
  applyBelowRef,
  type Layer,
  type LayerBackwardArgs,
  type LayerDefinition,
  type LayerForwardArgs,
  type LayerShape,
  withTraining,
} from './definition.js';
import { DROPOUT } from './norms.js';

/** The dropout kernel: a chunk of its own, loaded by the first network that trains with dropout. */
const kernels = () => import('../../kernels/dropout.js');

export const dropoutShape: LayerShape = {
  kind: 'dropout',
  title: 'dropout',
  params: { p: DROPOUT },
  torch: (layer) => `torch.nn.Dropout(p=${layer.params.p})`,
  tensors: () => [],
  running: () => [],
  evaluation: 'identity',
  evalForward: () => {
    throw new Error('internal: a dropout layer has no evaluation forward (its output is its input)');
  },
};

/** What both passes' dispatches take: the elements, p, the block and the model's random stream. */
function stream(args: LayerForwardArgs) {
  if (!args.random) throw new Error(`${args.label}: a training step with dropout needs the model's random stream`);
  const { batch, layer } = args;
  return { count: batch * layer.fanOut, p: layer.params.p as number, block: layer.block, random: args.random };
}

/** The mask of a step in Float64: kept units 1, dropped 0. */
function maskOf(layer: Layer, batch: number, stream: { seed: number; step: number } | undefined): Uint8Array {
  if (!stream) throw new Error(`layers.${layer.block}: a training step with dropout needs a random stream`);
  return dropoutMaskRef({ ...stream, block: layer.block }, layer.params.p as number, batch * layer.fanOut);
}

export const dropout: LayerDefinition = /* @__PURE__ */ withTraining(dropoutShape, {
  saved: () => ({}),
  trainForward: async (args) => [
    await (await kernels()).prepareDropout(
      args.ctx,
      args.scope,
      { ...stream(args), direction: 'forward', input: args.input, output: args.output },
      args.label,
    ),
  ],
  backward: async (args: LayerBackwardArgs) => {
    const { inputGrad, below } = args;
    if (!inputGrad) return [];
    if (!below) throw new Error(`${args.label}: dropout is never a network's first layer`);
    return [
      await (await kernels()).prepareDropout(
        args.ctx,
        args.scope,
        {
          ...stream(args),
          direction: 'backward',
          grad: args.grad,
          activation: kernelActivation(below.activation),
          values: below.values,
          output: inputGrad,
        },
        `${args.label}.dInput`,
      ),
    ];
  },
  forwardRef: ({ layer, batch, mode, input, random }) => {
    if (mode === 'eval') return { output: Float64Array.from(input) };
    const output = new Float64Array(input.length);
    dropoutForwardRef(input, maskOf(layer, batch, random), layer.params.p as number, output);
    return { output };
  },
  backwardRef: ({ layer, batch, grad, inputGrad, below, random }) => {
    if (!inputGrad) return { grads: {} };
    const dx = new Float64Array(grad.length);
    dropoutBackwardRef(grad, maskOf(layer, batch, random), layer.params.p as number, dx);
    return { grads: {}, inputGrad: applyBelowRef(dx, below) };
  },
});
