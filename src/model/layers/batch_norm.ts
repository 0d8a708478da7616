/**
 * BatchNorm1d over a hidden layer's units (torch.nn.BatchNorm1d(units, eps, momentum)), then the block's
 * activation. Training normalises each unit by the batch's mean and biased variance and updates the
 * running statistics (PyTorch's momentum, the unbiased variance); evaluation uses the running
 * statistics. γ, β are trained; `running_mean` and `running_var` are saved with the model (in files
 * `layers.{l}.norm.running_mean`, `…running_var`, as PyTorch names them). Kernels:
 * shaders/batch_norm.wgsl (evaluation), batch_norm_train.wgsl; twin: src/reference/batch_norm.ts.
 */
// The kernels are a chunk loaded when a network has a BatchNorm (see kernels()).
import { batchNormBackwardRef, batchNormEvalRef, batchNormForwardRef } from '../../reference/batch_norm.js';
import {
  activateRef,
  affineTensors,
  type Layer,
  type LayerDefinition,
  type LayerForwardArgs,
  type LayerShape,
  normBackwardArgs,
  normBackwardRef,
  normForwardArgs,
  withTraining,
} from './definition.js';
import { NORM_PARAMS } from './norms.js';

/** The BatchNorm kernels: a chunk of their own, loaded by the first network that has one (inference stays small). */
const kernels = () => import('../../kernels/batch_norm.js');

/** What the forward kernels share: the norm's arguments and the running statistics. */
function common(args: LayerForwardArgs) {
  const { running } = args;
  return { ...normForwardArgs(args), runningMean: running.runningMean, runningVar: running.runningVar };
}

/** running_mean from 0 and running_var from 1, as PyTorch's; [width] each. */
function running(layer: Layer) {
  return [
    { key: 'runningMean', name: 'norm.running_mean', shape: [layer.fanOut], init: 0 },
    { key: 'runningVar', name: 'norm.running_var', shape: [layer.fanOut], init: 1, min: 0 },
  ] as const;
}

export const batchNormShape: LayerShape = {
  kind: 'batchNorm',
  title: 'BatchNorm1d',
  params: NORM_PARAMS.batch,
  torch: (layer) => `torch.nn.BatchNorm1d(${layer.fanOut}, eps=${layer.params.eps}, momentum=${layer.params.momentum})`,
  tensors: affineTensors,
  running,
  evaluation: 'own',
  cancelsBias: true,
  evalForward: async (args) => [
    await (await kernels()).prepareBatchNormEval(args.ctx, args.scope, common(args), args.label),
  ],
};

export const batchNorm: LayerDefinition = /* @__PURE__ */ withTraining(batchNormShape, {
  saved: (layer) => ({ stats: 2 * layer.fanOut }),
  trainForward: async (args) => [
    await (await kernels()).prepareBatchNormTrain(
      args.ctx,
      args.scope,
      {
        ...common(args),
        momentum: args.layer.params.momentum as number,
        pre: args.layer.keepsPreActivation ? args.pre : undefined,
        stats: args.saved.stats,
      },
      args.label,
    ),
  ],
  backward: async (args) => [
    await (await kernels()).prepareBatchNormBackward(args.ctx, args.scope, normBackwardArgs(args), args.label),
  ],
  forwardRef: ({ layer, batch, mode, input, tensors: t, running: r }) => {
    const y = new Float64Array(batch * layer.fanOut);
    const eps = layer.params.eps as number;
    const stats = { mean: r.runningMean, var: r.runningVar };
    if (mode === 'eval') {
      batchNormEvalRef(input, t.gamma, t.beta, batch, layer.fanOut, eps, stats, y);
      return activateRef(layer, y);
    }
    const momentum = layer.params.momentum as number;
    const f = batchNormForwardRef(input, t.gamma, t.beta, batch, layer.fanOut, eps, momentum, stats, y);
    return {
      ...activateRef(layer, y),
      saved: { mean: f.mean, rstd: f.rstd },
      running: { runningMean: f.running.mean, runningVar: f.running.var },
    };
  },
  backwardRef: (args) =>
    normBackwardRef(args, (stats, out) =>
      batchNormBackwardRef(args.input, args.tensors.gamma, stats, args.grad, args.batch, args.layer.fanOut, out),
    ),
});
