/**
 * `webgpu-mlp train DATA --target COL`: a network trained on a table file with per-task defaults —
 * inputs standardised, a stratified 20% validation split, early stopping on the validation loss with
 * the best epoch restored, the number of epochs from the data's size — a progress bar, a per-epoch
 * table, the validation confusion matrix with class names (or MAE, RMSE and R²), and the model file
 * written atomically. Every flag, the file, its encoding, its columns and values are checked before
 * any training.
 */
import { basename, extname, resolve } from 'node:path';
import { createMLP, type FitOptions, type MLP } from '../mlp.js';
import { ACTIVATIONS, type Activation } from '../model/spec.js';
import { HYPERPARAMETERS, OPTIMIZERS, type OptimizerKind } from '../optim/index.js';
import type { ParamSpec } from '../params.js';
import { EPOCH_RANGE, epochsFor, TABLE_DEFAULTS, TARGET_STEPS } from '../table/defaults.js';
import { encodeTable, type TableData } from '../table/encode.js';
import { SCALINGS, type Scaling } from '../table/preprocessing.js';
import { trainTestSplit } from '../table/split.js';
import type { EpochResult } from '../train/loop.js';
import { checkOutputPaths, writeFileAtomic } from './files.js';
import { bad, forEachFlag, int, num, path } from './flags.js';
import { formatDuration, formatNamedConfusion, formatTable } from './format.js';
import {
  bar,
  checkInputFile,
  type Log,
  makeLog,
  READ_DEFAULTS,
  READ_HELP,
  type ReadFlags,
  ROLE_DEFAULTS,
  ROLE_HELP,
  type RoleFlags,
  readFlag,
  readTableFile,
  roleFlag,
  runtime,
  showBackend,
} from './tables.js';

export interface TableTrainArgs extends ReadFlags, RoleFlags {
  data: string | undefined;
  hidden: number[];
  activation: Activation;
  /** Undefined: from the data's size (epochsFor). */
  epochs: number | undefined;
  batchSize: number;
  optimizer: OptimizerKind;
  /** Undefined: the optimizer's default. */
  learningRate: number | undefined;
  /** The fraction of rows held out for validation; 0: none (no early stopping). */
  validation: number;
  /** Epochs without improvement of the validation loss before stopping; 0: no early stopping. */
  patience: number;
  scaling: Scaling;
  seed: number;
  /** Undefined: DATA's name with .safetensors, in the current directory. */
  out: string | undefined;
  help: boolean;
}

/** The command's defaults: the library's for tables (src/table/defaults.ts), which the demo's page reads too. */
export const TABLE_TRAIN_DEFAULTS: TableTrainArgs = {
  ...READ_DEFAULTS,
  ...ROLE_DEFAULTS,
  data: undefined,
  hidden: [...TABLE_DEFAULTS.hidden],
  activation: TABLE_DEFAULTS.activation,
  epochs: undefined,
  batchSize: TABLE_DEFAULTS.batchSize,
  optimizer: TABLE_DEFAULTS.optimizer,
  learningRate: undefined,
  validation: TABLE_DEFAULTS.validation,
  patience: TABLE_DEFAULTS.patience,
  scaling: TABLE_DEFAULTS.scaling,
  seed: TABLE_DEFAULTS.seed,
  out: undefined,
  help: false,
};

export const TABLE_TRAIN_HELP = `Usage: webgpu-mlp train DATA --target COL [options]

Trains a multi-layer perceptron on a table (CSV, TSV, JSON rows or JSON lines) with WebGPU and saves
it as safetensors, with its preprocessing (scaling statistics, categories, class names): webgpu-mlp
predict and evaluate, loadMLP and webgpu-mlp/infer read them from the file.

Defaults per task: numeric inputs standardised (from the training rows only), text columns one-hot
encoded; classification (softmax) for a text target or whole numbers with at most 20 values, else
regression (mean squared error on standardised targets); ${100 * TABLE_TRAIN_DEFAULTS.validation}% of the rows held out for validation
(stratified by class, seeded); early stopping after ${TABLE_TRAIN_DEFAULTS.patience} epochs without a better validation loss, the
best epoch restored; about ${TARGET_STEPS.toLocaleString('en-US')} steps of training at most (${EPOCH_RANGE[0]} to ${EPOCH_RANGE[1]} epochs).

${ROLE_HELP}

${READ_HELP}

Network and training:
  --hidden A,B            hidden layer widths                          (default ${TABLE_TRAIN_DEFAULTS.hidden.join(',')})
  --activation NAME       ${ACTIVATIONS.join(', ')}   (default ${TABLE_TRAIN_DEFAULTS.activation})
  --scaling standardize|minmax|none
                          how numeric inputs (and regression targets) are scaled (default standardize)
  --epochs N              at most N epochs                             (default: from the data's size)
  --batch-size N          rows per step                                (default ${TABLE_TRAIN_DEFAULTS.batchSize})
  --optimizer NAME        ${OPTIMIZERS.join(', ')}                   (default ${TABLE_TRAIN_DEFAULTS.optimizer})
  --lr X                  learning rate                                (default: the optimizer's, adam 0.001)
  --validation F          fraction of rows held out, 0 for none        (default ${TABLE_TRAIN_DEFAULTS.validation})
  --patience N            early stopping patience in epochs, 0 for none (default ${TABLE_TRAIN_DEFAULTS.patience})
  --seed N                seed of the split, the weights and the shuffles (default ${TABLE_TRAIN_DEFAULTS.seed})
  --out PATH              the model file, replaced atomically          (default: DATA's name .safetensors)
  -h, --help              this text`;

/** Parses `train`'s arguments (after the command); throws on the first bad one. */
export function parseTableTrainArgs(argv: readonly string[]): TableTrainArgs {
  const args: TableTrainArgs = { ...TABLE_TRAIN_DEFAULTS, hidden: [...TABLE_TRAIN_DEFAULTS.hidden] };
  forEachFlag(argv, (f) => {
    if (readFlag(f, args) || roleFlag(f, args)) return;
    switch (f.name) {
      case '--hidden': {
        const v = f.value();
        args.hidden = v === '' || v === 'none' ? [] : v.split(',').map((p) => int(f.name, p.trim(), 1, 1 << 16));
        return;
      }
      case '--activation': {
        const v = f.value();
        if (!(ACTIVATIONS as readonly string[]).includes(v)) bad(f.name, v, `one of ${ACTIVATIONS.join(', ')}`);
        args.activation = v as Activation;
        return;
      }
      case '--scaling': {
        const v = f.value();
        if (!(SCALINGS as readonly string[]).includes(v)) bad(f.name, v, 'standardize, minmax or none');
        args.scaling = v as Scaling;
        return;
      }
      case '--epochs':
        args.epochs = int(f.name, f.value(), 1, 100_000);
        return;
      case '--batch-size':
        args.batchSize = int(f.name, f.value(), 1, 1 << 20);
        return;
      case '--optimizer': {
        const v = f.value();
        if (!(OPTIMIZERS as readonly string[]).includes(v)) bad(f.name, v, `one of ${OPTIMIZERS.join(', ')}`);
        args.optimizer = v as OptimizerKind;
        return;
      }
      case '--lr': {
        const spec = HYPERPARAMETERS.learningRate as ParamSpec; // (0, 1000], as the library checks it
        args.learningRate = num(f.name, f.value(), spec.min, spec.max, spec.minExclusive, spec.maxExclusive);
        return;
      }
      case '--validation':
        args.validation = num(f.name, f.value(), 0, 0.9);
        return;
      case '--patience':
        args.patience = int(f.name, f.value(), 0, 100_000);
        return;
      case '--seed':
        args.seed = int(f.name, f.value(), 0, 0xffffffff);
        return;
      case '--out':
        args.out = path(f.name, f.value());
        return;
      case '-h':
      case '--help':
        f.none();
        args.help = true;
        return;
      default:
        if (f.name.startsWith('-')) f.unknown();
        if (args.data !== undefined) {
          throw new Error(`one data file at a time: ${args.data} and ${f.name} were given. See --help.`);
        }
        args.data = f.name;
    }
  });
  if (!args.help && args.data === undefined)
    throw new Error('train needs a data file: webgpu-mlp train DATA --target COL. See --help.');
  return args;
}

/** The model file's path: --out, or DATA's base name with .safetensors in the current directory. */
export function outPath(args: TableTrainArgs): string {
  if (args.out !== undefined) return args.out;
  const name = basename(args.data as string);
  return resolve(`${name.slice(0, name.length - extname(name).length) || name}.safetensors`);
}

/** `webgpu-mlp train`: exit code 0, 1 (failed while training), or 2 (bad arguments, file or table). */
export async function tableTrainCommand(argv: readonly string[]): Promise<number> {
  const log = makeLog(process.stdout);
  let args: TableTrainArgs;
  let out: string;
  let data: TableData;
  try {
    args = parseTableTrainArgs(argv);
    if (args.help) {
      console.log(TABLE_TRAIN_HELP);
      return 0;
    }
    checkInputFile('DATA', args.data as string);
    out = outPath(args);
    checkOutputPaths({ '--out': out });
    const table = await readTableFile(args.data as string, args, log);
    data = encodeTable(table, {
      target: args.target.length ? args.target : undefined,
      inputs: args.inputs.length ? args.inputs : undefined,
      ignore: args.ignore,
      categorical: args.categorical,
      numeric: args.numeric,
      task: args.task,
      missing: args.missing,
    });
  } catch (error) {
    console.error(`webgpu-mlp train: ${(error as Error).message}`);
    return 2;
  }
  for (const note of data.notes) log.line(`note      ${note}`);
  let train = data;
  let validation: TableData | undefined;
  try {
    if (args.validation > 0)
      ({ train, test: validation } = trainTestSplit(data, { testSize: args.validation, seed: args.seed }));
  } catch (error) {
    console.error(`webgpu-mlp train: --validation ${args.validation}: ${(error as Error).message}`);
    return 2;
  }
  const epochs = args.epochs ?? epochsFor(train.rows, args.batchSize);
  const layers = [data.features.length, ...args.hidden, data.outputs.length];
  log.line(
    `task      ${data.task} of ${data.target.columns.map((c) => JSON.stringify(c)).join(', ')}: ${data.task === 'classification' ? `${data.outputs.length} classes (${data.outputs.join(', ')})` : `${data.outputs.length} value${data.outputs.length === 1 ? '' : 's'}`}`,
  );
  log.line(
    `inputs    ${data.columns.length} columns → ${data.features.length} inputs (${args.scaling === 'none' ? 'not scaled' : `numeric ${args.scaling === 'standardize' ? 'standardised' : 'min-max scaled'}`}, categories one-hot)`,
  );
  log.line(
    `rows      ${train.rows.toLocaleString('en-US')} training${validation ? `, ${validation.rows.toLocaleString('en-US')} validation (${data.task === 'classification' ? 'stratified, ' : ''}seed ${args.seed})` : ''}`,
  );
  log.line(
    `network   [${layers.join(', ')}] ${args.activation}, ${data.head === 'softmax' ? 'softmax + cross-entropy' : 'mean squared error'}; ${args.optimizer}${args.learningRate === undefined ? '' : ` lr ${args.learningRate}`}, batch ${args.batchSize}, up to ${epochs} epochs${validation && args.patience ? `, early stopping (patience ${args.patience}, best epoch restored)` : ''}`,
  );

  let mlp: MLP;
  try {
    const found = runtime();
    mlp = await createMLP({ layers, activation: args.activation, head: data.head, seed: args.seed });
    showBackend(mlp.model.ctx, found, log);
  } catch (error) {
    console.error(`webgpu-mlp train: ${(error as Error).message}`);
    return 1;
  }

  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    log.line('interrupted: stopping at the next step and saving what was trained (Ctrl-C again to quit now)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  const t0 = performance.now();
  const table: string[][] = [];
  const header =
    data.task === 'classification'
      ? ['epoch', 'train loss', 'train acc', ...(validation ? ['val loss', 'val acc'] : []), 'time']
      : ['epoch', 'train loss', ...(validation ? ['val loss'] : []), 'time'];
  const every = Math.max(1, Math.ceil(epochs / 30));
  let headed = false;
  if (every > 1) log.line(`          (the table shows epochs 1 to 5, every ${every}th and the last)`);
  let results: EpochResult[];
  try {
    const options: FitOptions = {
      epochs,
      batchSize: args.batchSize,
      optimizer: args.optimizer,
      learningRate: args.learningRate,
      seed: args.seed,
      scaling: args.scaling,
      validation,
      earlyStopping: validation && args.patience > 0 ? { patience: args.patience, restoreBest: true } : undefined,
      signal: abort.signal,
      onStep: (p) => {
        log.status(
          `epoch ${p.epoch}/${epochs} ${bar(p.step / p.stepsPerEpoch)} ${p.step}/${p.stepsPerEpoch}  loss ${p.loss.toFixed(4)}  ${Math.round(p.samplesPerSecond).toLocaleString('en-US')} samples/s`,
        );
      },
      onEpoch: (e) => {
        const row = [
          String(e.epoch),
          e.trainLoss.toFixed(4),
          ...(data.task === 'classification' ? [`${(100 * e.trainAccuracy).toFixed(2)}%`] : []),
          ...(validation ? [e.testLoss?.toFixed(4) ?? ''] : []),
          ...(validation && data.task === 'classification' ? [`${(100 * (e.testAccuracy ?? 0)).toFixed(2)}%`] : []),
          `${((e.setupMs ?? 0) / 1000 + e.epochMs / 1000).toFixed(2)} s`,
        ];
        table.push(row);
        // Every epoch of a short run; of a long one the first five, every `every`-th and the last.
        const lastOne = e.epoch === epochs || e.earlyStopping?.stopped === true;
        if (e.epoch > 5 && e.epoch % every !== 0 && !lastOne) return;
        if (!headed) log.line(formatTable([header, ...table]).split('\n')[0]);
        headed = true;
        log.line(
          formatTable([header, ...table])
            .split('\n')
            .at(-1) as string,
        );
      },
    };
    results = await mlp.fit(train, options);
  } catch (error) {
    process.off('SIGINT', onSigint);
    await mlp.destroy();
    console.error(`webgpu-mlp train: ${(error as Error).message}`);
    return 1;
  }
  process.off('SIGINT', onSigint);
  const last = results.at(-1);
  const stopped = last?.earlyStopping;
  const trained = performance.now() - t0;
  log.line(
    `trained   ${results.length} epoch${results.length === 1 ? '' : 's'} in ${formatDuration(trained / 1000)}${stopped?.stopped ? `; stopped early, ${stopped.restored ? `epoch ${stopped.bestEpoch} restored (its validation loss was the lowest)` : ''}` : ''}${abort.signal.aborted ? ' (interrupted)' : ''}`,
  );

  const metadata: Record<string, string> = {
    trainedWith: 'webgpu-mlp train',
    data: basename(args.data as string),
    epochs: String(last?.epoch ?? 0),
    seed: String(args.seed),
  };
  const report = await reportOn(mlp, validation ?? train, validation ? 'validation' : 'training', log);
  Object.assign(metadata, report);
  if (args.missingValues.length) metadata.missingValues = JSON.stringify(args.missingValues);
  try {
    const bytes = await mlp.save(metadata);
    writeFileAtomic(out, bytes);
    log.line(`saved     ${out} (${(bytes.length / 1024).toFixed(1)} KB, safetensors with the preprocessing)`);
  } catch (error) {
    console.error(`webgpu-mlp train: ${(error as Error).message}`);
    await mlp.destroy();
    return 1;
  }
  await mlp.destroy();
  return 0;
}

/**
 * The evaluation of the trained network on `rows` (the validation rows, else the training rows): the
 * confusion matrix with class names and the accuracy, or MAE, RMSE and R² in the target's units. Returns
 * the figures for the file's metadata.
 */
async function reportOn(mlp: MLP, rows: TableData, which: string, log: Log): Promise<Record<string, string>> {
  const e = await mlp.evaluate(rows);
  if (rows.task === 'classification') {
    log.line(
      `\n${which} accuracy ${(100 * e.accuracy).toFixed(2)}% (${rows.rows.toLocaleString('en-US')} rows), loss ${e.loss.toFixed(4)}; confusion (rows: true class, columns: predicted):`,
    );
    log.line(formatNamedConfusion(e.confusion, e.classes ?? rows.outputs));
    log.line('');
    return { [`${which}Accuracy`]: e.accuracy.toFixed(4) };
  }
  const mse = e.mse ?? Number.NaN;
  log.line(
    `\n${which} (${rows.rows.toLocaleString('en-US')} rows, in the target's units): MAE ${fmt(e.mae ?? Number.NaN)}, RMSE ${fmt(Math.sqrt(mse))}, R² ${(e.r2 ?? Number.NaN).toFixed(4)}\n`,
  );
  return { [`${which}R2`]: (e.r2 ?? Number.NaN).toFixed(4), [`${which}MAE`]: fmt(e.mae ?? Number.NaN) };
}

function fmt(v: number): string {
  return v.toPrecision(4);
}
