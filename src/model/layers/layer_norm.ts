/**
 * LayerNorm over a hidden layer's units (torch.nn.LayerNorm(units, eps)), then the block's activation:
 * out = act(γ·(x − μ_r)·ρ_r + β) with each row's mean and ρ = 1/√(σ² + ε). The same in training and
 * evaluation; training keeps μ_r, ρ_r (and y, for an activation whose derivative reads its input) for
 * the backward. Kernels: shaders/layer_norm.wgsl, layer_norm_backward.wgsl; twin: src/reference/layer_norm.ts.
 */
import { layerNormBackwardRef, layerNormForwardRef } from '../../reference/layer_norm.js';
import {
  activateRef,
  affineTensors,
  type LayerDefinition,
  type LayerForwardArgs,
  type LayerShape,
  normBackwardArgs,
  normBackwardRef,
  normForwardArgs,
  withTraining,
} from './definition.js';
import { NORM_PARAMS } from './norms.js';

/** The LayerNorm kernels: a chunk of their own, loaded by the first network that has one (inference stays small). */
const kernels = () => import('../../kernels/layer_norm.js');

/** The forward, keeping what training needs when `train`. */
async function forward(args: LayerForwardArgs, train: boolean) {
  const { layer } = args;
  return (await kernels())
    .prepareLayerNorm(
      args.ctx,
      args.scope,
      {
        ...normForwardArgs(args),
        ...(train && { pre: layer.keepsPreActivation ? args.pre : undefined, stats: args.saved.stats }),
      },
      args.label,
    )
    .then((op) => [op]);
}

export const layerNormShape: LayerShape = {
  kind: 'layerNorm',
  title: 'LayerNorm',
  params: NORM_PARAMS.layer,
  torch: (layer) => `torch.nn.LayerNorm(${layer.fanOut}, eps=${layer.params.eps})`,
  tensors: affineTensors,
  running: () => [],
  evaluation: 'same',
  evalForward: (args) => forward(args, false),
};

export const layerNorm: LayerDefinition = /* @__PURE__ */ withTraining(layerNormShape, {
  saved: (_layer, batch) => ({ stats: 2 * batch }),
  trainForward: (args) => forward(args, true),
  backward: async (args) =>
    (await kernels()).prepareLayerNormBackward(args.ctx, args.scope, normBackwardArgs(args), args.label),
  forwardRef: ({ layer, batch, input, tensors: t }) => {
    const y = new Float64Array(batch * layer.fanOut);
    const stats = layerNormForwardRef(input, t.gamma, t.beta, batch, layer.fanOut, layer.params.eps as number, y);
    return { ...activateRef(layer, y), saved: { mean: stats.mean, rstd: stats.rstd } };
  },
  backwardRef: (args) =>
    normBackwardRef(args, (stats, out) =>
      layerNormBackwardRef(args.input, args.tensors.gamma, stats, args.grad, args.batch, args.layer.fanOut, out),
    ),
});
