/**
 * `webgpu-mlp predict MODEL ROWS` and `webgpu-mlp evaluate MODEL DATA`: a model file trained on a table
 * (by `webgpu-mlp train` or `mlp.fit(data)`) applied to a table file's rows by column name, with its
 * own preprocessing. predict writes CSV — the predicted class and a probability per class name, or the
 * values by target column — to stdout or atomically to --out; evaluate prints the accuracy and the
 * confusion matrix with class names, or MAE, RMSE and R². The flags, the files and the model are
 * checked before any GPU work; a row the model cannot read is an error naming its line and column.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeModel } from '../io/model_file.js';
import { loadMLP, type MLP } from '../mlp.js';
import { TableError } from '../table/errors.js';
import {
  type ClassPrediction,
  decodePreprocessing,
  type NamedPrediction,
  type Preprocessing,
  type ValuePrediction,
} from '../table/preprocessing.js';
import type { UnknownCategory } from '../table/schema.js';
import type { Table } from '../table/table.js';
import { checkOutputPaths, writeFileAtomic } from './files.js';
import { bad, forEachFlag, path } from './flags.js';
import { formatNamedConfusion } from './format.js';
import {
  checkInputFile,
  csvField,
  type Log,
  makeLog,
  names,
  READ_DEFAULTS,
  READ_HELP,
  type ReadFlags,
  readFlag,
  readTableFile,
  runtime,
  showBackend,
  unknownFlag,
} from './tables.js';

export interface ApplyArgs extends ReadFlags {
  model: string | undefined;
  rows: string | undefined;
  /** predict: where to write the CSV (undefined: stdout). */
  out: string | undefined;
  /** predict: columns of the rows copied into the output, before the predictions. */
  keep: string[];
  unknownCategory: UnknownCategory;
  /** Rows with a missing cell the model cannot impute (or, for evaluate, a missing target): an error, or left out. */
  missing: 'error' | 'drop';
  help: boolean;
}

export const PREDICT_HELP = `Usage: webgpu-mlp predict MODEL ROWS [options]

Predicts for every row of ROWS (CSV, TSV, JSON rows or JSON lines) with MODEL (a .safetensors file
from webgpu-mlp train or mlp.save() of a network trained on a table): the row's input columns are
read by name (other columns are ignored, the target too), scaled, one-hot encoded and imputed as in
training. Writes CSV with a header: for classification "predicted <target>" (the class), then
"P(<class>)" for each class name; for regression "predicted <target>" for each target column.

  --out PATH              write the CSV there (replaced atomically) instead of to stdout
  --keep A,B              copy these columns of each row into the output first (an id, say)
  --unknown-category error|ignore
                          a category the model was not trained on: an error naming the line
                          (default), or no category (all its one-hot inputs 0)
  --missing error|drop    a row with a missing cell the model cannot fill in (it was trained
                          without --missing impute): an error naming the line (default), or left
                          out (use --keep to tell the rows apart)

${READ_HELP}
  -h, --help              this text`;

export const EVALUATE_HELP = `Usage: webgpu-mlp evaluate MODEL DATA [options]

Evaluates MODEL (a .safetensors file trained on a table) on DATA, a table with the target column(s):
the accuracy and the confusion matrix with class names for classification, MAE, RMSE and R² (in the
target's units) for regression. A row without a target is an error naming its line.

  --unknown-category error|ignore   as for predict
  --missing error|drop    a row without a target, or with a missing input the model cannot fill
                          in: an error naming the line (default), or left out

${READ_HELP}
  -h, --help              this text`;

/** Parses predict's or evaluate's arguments: MODEL and ROWS, then flags. */
export function parseApplyArgs(command: 'predict' | 'evaluate', argv: readonly string[]): ApplyArgs {
  const args: ApplyArgs = {
    ...READ_DEFAULTS,
    model: undefined,
    rows: undefined,
    out: undefined,
    keep: [],
    unknownCategory: 'error',
    missing: 'error',
    help: false,
  };
  forEachFlag(argv, (f) => {
    if (readFlag(f, args)) return;
    switch (f.name) {
      case '--out':
        if (command !== 'predict') f.unknown();
        args.out = path(f.name, f.value());
        return;
      case '--keep':
        if (command !== 'predict') f.unknown();
        args.keep = names(f.name, f.value());
        return;
      case '--unknown-category':
        args.unknownCategory = unknownFlag(f);
        return;
      case '--missing': {
        const v = f.value();
        if (v !== 'error' && v !== 'drop') bad(f.name, v, 'error or drop');
        args.missing = v;
        return;
      }
      case '-h':
      case '--help':
        f.none();
        args.help = true;
        return;
      default:
        if (f.name.startsWith('-')) f.unknown();
        if (args.model === undefined) args.model = f.name;
        else if (args.rows === undefined) args.rows = f.name;
        else
          throw new Error(
            `unexpected argument ${JSON.stringify(f.name)}: give MODEL and ${command === 'predict' ? 'ROWS' : 'DATA'} once. See --help.`,
          );
    }
  });
  if (!args.help && (args.model === undefined || args.rows === undefined)) {
    throw new Error(
      `${command} needs a model file and a table: webgpu-mlp ${command} MODEL ${command === 'predict' ? 'ROWS' : 'DATA'}. See --help.`,
    );
  }
  return args;
}

/** The model file, checked whole (a file without preprocessing is refused) before any GPU work. */
function readModel(file: string): { bytes: Uint8Array; pre: Preprocessing } {
  const bytes = new Uint8Array(readFileSync(file));
  const model = decodeModel(bytes, basename(file));
  const json = model.metadata.preprocessing;
  if (json === undefined) {
    throw new Error(
      `${basename(file)} was not trained on a table (it has no preprocessing: no column names to read rows by); give a model from webgpu-mlp train or mlp.fit(data), or use the library's typed arrays`,
    );
  }
  const { layers } = model.spec;
  return { bytes, pre: decodePreprocessing(json, layers[0], layers[layers.length - 1], basename(file)) };
}

/**
 * The rows to keep with --missing drop: those with a value in every input column the model cannot
 * impute, and (evaluate) in every target column. Returns the table itself when none is left out.
 */
function dropMissing(table: Table, pre: Preprocessing, withTarget: boolean, log: Log): Table {
  const needed = [
    ...pre.inputs.filter((c) => c.impute === undefined).map((c) => c.name),
    ...(withTarget ? pre.target.columns : []),
  ];
  const cols = needed.map((n) => table.column(n)).filter((c) => c !== undefined);
  const keep: number[] = [];
  for (let r = 0; r < table.rowCount; r++) if (!cols.some((c) => c.isMissing(r))) keep.push(r);
  if (keep.length === table.rowCount) return table;
  log.line(
    `note      left out ${table.rowCount - keep.length} of ${table.rowCount} rows with missing values (--missing drop)`,
  );
  if (keep.length === 0) throw new TableError(`${table.name}: every row has a missing value, so none is left`);
  return table.select(keep);
}

/** What predict and evaluate do first: arguments, files, the table and the model; then the network. */
async function prepare(
  command: 'predict' | 'evaluate',
  argv: readonly string[],
  log: Log,
): Promise<{ args: ApplyArgs; table: Table; bytes: Uint8Array } | number> {
  try {
    const args = parseApplyArgs(command, argv);
    if (args.help) {
      console.log(command === 'predict' ? PREDICT_HELP : EVALUATE_HELP);
      return 0;
    }
    checkInputFile('MODEL', args.model as string);
    checkInputFile(command === 'predict' ? 'ROWS' : 'DATA', args.rows as string);
    if (args.out !== undefined) checkOutputPaths({ '--out': args.out });
    const { bytes, pre } = readModel(args.model as string);
    let table = await readTableFile(args.rows as string, args, log);
    if (args.missing === 'drop') table = dropMissing(table, pre, command === 'evaluate', log);
    for (const k of args.keep) {
      if (!table.column(k)) throw new Error(`--keep ${JSON.stringify(k)}: ${table.name} has no such column`);
    }
    return { args, table, bytes };
  } catch (error) {
    console.error(`webgpu-mlp ${command}: ${(error as Error).message}`);
    return 2;
  }
}

async function load(bytes: Uint8Array, log: Log): Promise<MLP> {
  const found = runtime();
  const mlp = await loadMLP(bytes);
  showBackend(mlp.model.ctx, found, log);
  return mlp;
}

/** `webgpu-mlp predict`: exit code 0, 1 (failed while predicting), or 2 (bad arguments or files). */
export async function predictCommand(argv: readonly string[]): Promise<number> {
  const toStdout = !argv.some((a) => a === '--out' || a.startsWith('--out='));
  const log = makeLog(toStdout ? process.stderr : process.stdout);
  const ready = await prepare('predict', argv, log);
  if (typeof ready === 'number') return ready;
  const { args, table, bytes } = ready;
  let mlp: MLP | undefined;
  try {
    mlp = await load(bytes, log);
    const predictions = await mlp.predict(table, { unknownCategory: args.unknownCategory });
    const pre = mlp.preprocessing;
    if (!pre) throw new Error('internal: a model with preprocessing expected');
    const header = [
      ...args.keep,
      ...(pre.target.type === 'classification'
        ? [
            `predicted ${pre.target.columns.length === 1 ? pre.target.columns[0] : 'class'}`,
            ...pre.target.classes.map((c) => `P(${c})`),
          ]
        : pre.target.columns.map((c) => `predicted ${c}`)),
    ];
    const lines = [header.map(csvField).join(',')];
    const kept = args.keep.map((k) => table.column(k));
    predictions.forEach((p: NamedPrediction, r) => {
      const cells = kept.map((c) => c?.get(r) ?? '');
      if ('class' in p) {
        const named = p as ClassPrediction;
        cells.push(named.class, ...Object.values(named.probabilities));
      } else cells.push(...Object.values((p as ValuePrediction).values));
      lines.push(cells.map((c) => csvField(c)).join(','));
    });
    const text = `${lines.join('\n')}\n`;
    if (args.out === undefined) process.stdout.write(text);
    else {
      writeFileAtomic(args.out, new TextEncoder().encode(text));
      log.line(`wrote     ${args.out}: ${predictions.length.toLocaleString('en-US')} predictions`);
    }
    return 0;
  } catch (error) {
    console.error(`webgpu-mlp predict: ${(error as Error).message}`);
    return error instanceof TableError ? 2 : 1;
  } finally {
    await mlp?.destroy();
  }
}

/** `webgpu-mlp evaluate`: exit code 0, 1 (failed while evaluating), or 2 (bad arguments, files or rows). */
export async function evaluateCommand(argv: readonly string[]): Promise<number> {
  const log = makeLog(process.stdout);
  const ready = await prepare('evaluate', argv, log);
  if (typeof ready === 'number') return ready;
  const { args, table, bytes } = ready;
  let mlp: MLP | undefined;
  try {
    mlp = await load(bytes, log);
    const e = await mlp.evaluate(table, { unknownCategory: args.unknownCategory });
    if (e.classes) {
      log.line(
        `accuracy  ${(100 * e.accuracy).toFixed(2)}% on ${table.rowCount.toLocaleString('en-US')} rows, loss ${e.loss.toFixed(4)}; confusion (rows: true class, columns: predicted):`,
      );
      log.line(formatNamedConfusion(e.confusion, e.classes));
    } else {
      log.line(
        `regression on ${table.rowCount.toLocaleString('en-US')} rows, in the target's units: MAE ${(e.mae ?? Number.NaN).toPrecision(4)}, RMSE ${Math.sqrt(e.mse ?? Number.NaN).toPrecision(4)}, R² ${(e.r2 ?? Number.NaN).toFixed(4)}`,
      );
    }
    return 0;
  } catch (error) {
    console.error(`webgpu-mlp evaluate: ${(error as Error).message}`);
    return error instanceof TableError ? 2 : 1;
  } finally {
    await mlp?.destroy();
  }
}
