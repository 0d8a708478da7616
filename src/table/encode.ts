/**
 * From a table to what a network trains on: the column roles (the target by name, numeric and
 * categorical inputs, columns ignored), classification or regression, missing values (an error naming
 * the line and column unless told to drop the rows or impute), and the encoded rows — `TableData`, raw
 * (numbers unscaled, categories one-hot): the scaling is fitted later on the training rows only
 * (src/table/preprocessing.ts), so that a validation or test split never leaks into it.
 */
import { checkOptions, fail, formatValue } from '../params.js';
import { listNames, quoteName, TableError } from './errors.js';
import { TABLE_KIND } from './kind.js';
import {
  type ColumnSchema,
  encodeClasses,
  encodeInputs,
  encodeValues,
  featureNames,
  requireColumn,
  type TargetSchema,
} from './schema.js';
import { parseNumber, type Table, type TableColumn } from './table.js';

export type Task = 'classification' | 'regression';

/** What to do with missing cells: an error naming the first (default), drop those rows, or impute them. */
export type MissingPolicy = 'error' | 'drop' | 'impute';

export interface EncodeTableOptions {
  /**
   * The column to predict, or several (several 0/1 columns with one 1 per row are classes, e.g.
   * brain.js's `{ output: { black: 1 } }`; otherwise several values). Default: the outputs of
   * `{ input, output }` rows; a table of other rows must name it.
   */
  target?: string | readonly string[];
  /** The input columns, in this order. Default: every column but the target and those ignored. */
  inputs?: readonly string[];
  /** Columns not to use (identifiers, free text, dates). */
  ignore?: readonly string[];
  /** Columns to one-hot encode even though they hold numbers (codes such as 1, 2, 3 for places). */
  categorical?: readonly string[];
  /** Columns that must be numbers (text in them is an error naming the line). */
  numeric?: readonly string[];
  /**
   * `'classification'` or `'regression'`. Default: classification for a text target, or whole numbers
   * with at most 20 distinct values, or one-hot target columns; regression otherwise.
   */
  task?: Task;
  /**
   * Rows with a missing cell in a column used: `'error'` (default) names the first; `'drop'` leaves
   * those rows out; `'impute'` fills inputs when the network trains (a numeric column's mean, a
   * categorical column's most frequent category, over the training rows) and when it predicts (the
   * same values, saved with it). A missing target is an error unless dropped.
   */
  missing?: MissingPolicy;
  /**
   * A text column with more distinct values than this (or one distinct value per row or nearly) is an
   * error unless it is in `categorical` or `ignore`: it is likely an identifier, a date or free text.
   * Default 100.
   */
  maxCategories?: number;
}

const ENCODE_KEYS = ['target', 'inputs', 'ignore', 'categorical', 'numeric', 'task', 'missing', 'maxCategories'];

/** The most distinct whole numbers a numeric target may have to be read as classes. */
export const MAX_INTEGER_CLASSES = 20;

/**
 * A table's rows encoded for a network: `inputs` [rows, D] (numbers as they are, categories one-hot,
 * NaN where missing with `missing: 'impute'`), and `labels` (classification) or `values` [rows, T]
 * (regression, in the table's units). `columns` and `target` are what a network trained on it keeps.
 */
export class TableData {
  /** @internal Marks TableData without an instanceof (src/table/kind.ts). */
  readonly [TABLE_KIND] = 'data';

  /** @internal */
  constructor(
    /** What messages call it (the table's name). */
    readonly name: string,
    /** The input columns, in the order of their inputs. */
    readonly columns: readonly ColumnSchema[],
    readonly target: TargetSchema,
    /** [rows, D], D = features.length. */
    readonly inputs: Float32Array,
    /** Classification: each row's class index into `outputs`. */
    readonly labels: Uint32Array | undefined,
    /** Regression: each row's target values [rows, T], T = outputs.length. */
    readonly values: Float32Array | undefined,
    readonly rows: number,
    /** The row of the table each row came from (0-based). */
    readonly origin: Uint32Array,
    /** The file line of each row, when the table has lines. */
    readonly lines: Uint32Array | undefined,
    readonly missing: MissingPolicy,
    /** What encoding decided or noticed: the task and why, rows dropped, constant columns. */
    readonly notes: readonly string[],
  ) {}

  get task(): Task {
    return this.target.type;
  }

  /** The network's input names, one per input: a numeric column's name, or `column=category`. */
  get features(): string[] {
    return featureNames(this.columns);
  }

  /** The class names (classification) or the target columns (regression): one per output of the network. */
  get outputs(): string[] {
    return this.target.type === 'classification' ? [...this.target.classes] : [...this.target.columns];
  }

  /** The head that trains this task: softmax (cross-entropy) for classes, mse for values. */
  get head(): 'softmax' | 'mse' {
    return this.target.type === 'classification' ? 'softmax' : 'mse';
  }

  /** Where row r came from, for a message: `penguins.csv line 12`, or `penguins.json[10]`. */
  where(r: number): string {
    return this.lines ? `${this.name} line ${this.lines[r]}` : `${this.name}[${this.origin[r]}]`;
  }

  /** The rows at these indices (in this order), as TableData of the same columns. */
  subset(rows: ArrayLike<number>): TableData {
    const n = rows.length;
    const D = this.features.length;
    const T = this.target.columns.length;
    const inputs = new Float32Array(n * D);
    const labels = this.labels ? new Uint32Array(n) : undefined;
    const values = this.values ? new Float32Array(n * T) : undefined;
    const origin = new Uint32Array(n);
    const lines = this.lines ? new Uint32Array(n) : undefined;
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      if (!Number.isInteger(r) || r < 0 || r >= this.rows) fail(`rows[${i}]`, r, `a row index in 0..${this.rows - 1}`);
      inputs.set(this.inputs.subarray(r * D, (r + 1) * D), i * D);
      if (labels) labels[i] = (this.labels as Uint32Array)[r];
      if (values) values.set((this.values as Float32Array).subarray(r * T, (r + 1) * T), i * T);
      origin[i] = this.origin[r];
      if (lines) lines[i] = (this.lines as Uint32Array)[r];
    }
    return new TableData(
      this.name,
      this.columns,
      this.target,
      inputs,
      labels,
      values,
      n,
      origin,
      lines,
      this.missing,
      this.notes,
    );
  }
}

/** Encodes a table for a network (see EncodeTableOptions); every problem is a TableError saying where. */
export function encodeTable(table: Table, options: EncodeTableOptions = {}): TableData {
  checkOptions(options, ENCODE_KEYS, 'an object of table options { target, … }, or nothing');
  const names = table.names;
  const list = (key: 'inputs' | 'ignore' | 'categorical' | 'numeric' | 'target'): string[] => {
    const v = options[key];
    if (v === undefined) return [];
    const arr = typeof v === 'string' && key === 'target' ? [v] : v;
    if (!Array.isArray(arr) || arr.some((s) => typeof s !== 'string')) {
      fail(`options.${key}`, v, key === 'target' ? 'a column name, or an array of them' : 'an array of column names');
    }
    for (const name of arr as string[]) requireColumn(table, name, `options.${key}`);
    return [...(arr as string[])];
  };
  const missing = options.missing ?? 'error';
  if (missing !== 'error' && missing !== 'drop' && missing !== 'impute') {
    fail('options.missing', missing, "'error', 'drop' or 'impute'");
  }
  const task = options.task;
  if (task !== undefined && task !== 'classification' && task !== 'regression') {
    fail('options.task', task, "'classification' or 'regression'");
  }
  const maxCategories = options.maxCategories ?? 100;
  if (!Number.isInteger(maxCategories) || maxCategories < 1)
    fail('options.maxCategories', maxCategories, 'an integer ≥ 1');

  let targets = list('target');
  if (targets.length === 0) {
    if (options.target !== undefined) fail('options.target', options.target, 'at least one column name');
    if (table.outputs.length === 0) {
      throw new TableError(
        `${table.name}: which column is the target? Name it (target: 'column', --target column); the columns: ${listNames(names)}`,
      );
    }
    targets = [...table.outputs];
  }
  const ignore = list('ignore');
  const categorical = list('categorical');
  const numeric = list('numeric');
  const given = list('inputs');
  for (const [a, an, b, bn] of [
    [targets, 'target', ignore, 'ignore'],
    [targets, 'target', given, 'inputs'],
    [ignore, 'ignore', given, 'inputs'],
    [categorical, 'categorical', numeric, 'numeric'],
  ] as const) {
    const both = a.find((c) => b.includes(c));
    if (both !== undefined) {
      throw new Error(`column ${quoteName(both)} is in both options.${an} and options.${bn}: give it one role`);
    }
  }
  const inputNames = given.length ? given : names.filter((n) => !targets.includes(n) && !ignore.includes(n));
  if (inputNames.length === 0) {
    throw new TableError(`${table.name}: no input columns are left (the columns: ${listNames(names)})`);
  }
  if (table.rowCount === 0) {
    throw new TableError(`${table.name} has a header but no rows: there is nothing to train on`);
  }
  const notes: string[] = [];

  // Columns with no value at all, before rows are dropped for missing values (which would drop them all).
  for (const name of [...targets, ...inputNames]) {
    const col = table.column(name) as TableColumn;
    if (col.missing === table.rowCount) {
      const role = targets.includes(name) ? 'the target' : 'an input';
      throw new TableError(
        `${table.name}: column ${quoteName(name)} (${role}) has no value in any of its ${table.rowCount} rows${targets.includes(name) ? '' : `: leave it out (ignore: [${JSON.stringify(name)}], --ignore ${JSON.stringify(name)})`}`,
        { column: name },
      );
    }
  }

  // Missing cells.
  const used = [...inputNames, ...targets].map((n) => table.column(n) as TableColumn);
  let kept: Uint32Array;
  if (used.every((c) => c.missing === 0)) kept = Uint32Array.from({ length: table.rowCount }, (_, r) => r);
  else kept = missingRows(table, used, inputNames, targets, missing, notes);
  if (kept.length === 0) {
    throw new TableError(`${table.name}: every row has a missing value, so none is left to train on`);
  }

  // The target.
  const target = targetSchema(table, targets, task, kept, notes);

  // The inputs.
  const columns = inputNames.map((name) =>
    columnSchema(table, table.column(name) as TableColumn, { categorical, numeric, maxCategories }, kept, notes),
  );
  const inputs = encodeInputs(table, columns, { rows: kept });
  let labels: Uint32Array | undefined;
  let values: Float32Array | undefined;
  if (target.type === 'classification') labels = Uint32Array.from(encodeClasses(table, target, kept));
  else values = encodeValues(table, target, kept);
  const lines = table.lines ? Uint32Array.from(kept, (r) => (table.lines as Uint32Array)[r]) : undefined;
  return new TableData(table.name, columns, target, inputs, labels, values, kept.length, kept, lines, missing, notes);
}

/** The rows kept under the missing-value policy (the error of 'error' is thrown here). */
function missingRows(
  table: Table,
  used: readonly TableColumn[],
  inputNames: readonly string[],
  targets: readonly string[],
  missing: MissingPolicy,
  notes: string[],
): Uint32Array {
  const n = table.rowCount;
  const counts = used.filter((c) => c.missing > 0).map((c) => `${quoteName(c.name)} ${c.missing}`);
  const checked = missing === 'impute' ? used.filter((c) => targets.includes(c.name)) : used;
  const keep: number[] = [];
  let first: { r: number; col: TableColumn } | undefined;
  for (let r = 0; r < n; r++) {
    const col = checked.find((c) => c.missing > 0 && c.isMissing(r));
    if (!col) keep.push(r);
    else first ??= { r, col };
  }
  if (first && missing !== 'drop') {
    const { r, col } = first;
    const isTarget = targets.includes(col.name);
    const rowsWith = n - keep.length;
    throw new TableError(
      `${table.where(r)}: ${quoteName(col.name)} has no value${isTarget ? ' (it is the target, which cannot be imputed)' : ''}. ${rowsWith} row${rowsWith === 1 ? ' has' : 's have'} missing values (per column: ${counts.join(', ')}). Drop those rows (missing: 'drop', --missing drop)${isTarget ? '' : " or fill them in (missing: 'impute', --missing impute: a column's mean or most frequent category over the training rows)"}`,
      table.at(r, col.name),
    );
  }
  if (missing === 'drop' && keep.length < n) {
    notes.push(`dropped ${n - keep.length} of ${n} rows with missing values (per column: ${counts.join(', ')})`);
  }
  if (missing === 'impute') {
    const imputed = used.filter((c) => inputNames.includes(c.name) && c.missing > 0).map((c) => quoteName(c.name));
    if (imputed.length) notes.push(`missing values of ${imputed.join(', ')} are imputed from the training rows`);
  }
  return Uint32Array.from(keep);
}

/** The target's classes or values, and the task, decided from its column(s) or as told. */
function targetSchema(
  table: Table,
  targets: readonly string[],
  task: Task | undefined,
  kept: Uint32Array,
  notes: string[],
): TargetSchema {
  const cols = targets.map((n) => table.column(n) as TableColumn);
  if (cols.length > 1) {
    const nonNumeric = cols.find((c) => c.kind !== 'number');
    if (nonNumeric) {
      throw new TableError(
        `${table.name}: the target columns must hold numbers (0/1 per class, or values); ${quoteName(nonNumeric.name)} holds text`,
        { column: nonNumeric.name },
      );
    }
    const oneHot = kept.every((r) => {
      let ones = 0;
      for (const c of cols) {
        const v = (c.numbers as Float64Array)[r];
        if (v === 1) ones++;
        else if (v !== 0) return false;
      }
      return ones === 1;
    });
    if (task === 'classification' || (task === undefined && oneHot)) {
      if (!oneHot) {
        throw new TableError(
          `${table.name}: task 'classification' with ${cols.length} target columns needs each row to have exactly one of them 1 and the others 0 (one-hot)`,
        );
      }
      notes.push(`classification: the ${cols.length} one-hot target columns are the classes`);
      return { type: 'classification', columns: [...targets], classes: [...targets] };
    }
    notes.push(`regression of ${cols.length} target columns`);
    return { type: 'regression', columns: [...targets] };
  }
  const col = cols[0];
  const name = quoteName(col.name);
  if (col.kind === 'text') {
    const numbers = numericShare(col, kept);
    if (task === 'regression') {
      const r = kept.find((k) => !col.isMissing(k) && parseNumber(col.get(k) as string) === undefined) as number;
      throw new TableError(
        `${table.where(r)}: the target ${name} is ${formatValue(col.get(r))}, not a number, and regression needs numbers`,
        table.at(r, col.name),
      );
    }
    const classes = distinctCategories(col, kept);
    if (numbers > 0.8 && classes.length > MAX_INTEGER_CLASSES) {
      throw mostlyNumbers(table, col, kept, 'the target');
    }
    checkClasses(table, col, classes);
    notes.push(`classification: the target ${name} holds text (${classes.length} classes)`);
    return { type: 'classification', columns: [col.name], classes };
  }
  const values = col.numbers as Float64Array;
  const distinct = new Set<number>();
  let integers = true;
  for (const r of kept) {
    const v = values[r];
    if (Number.isNaN(v)) continue;
    if (!Number.isInteger(v)) integers = false;
    if (distinct.size <= MAX_INTEGER_CLASSES) distinct.add(v);
  }
  const asClasses =
    task === 'classification' || (task === undefined && integers && distinct.size <= MAX_INTEGER_CLASSES);
  if (!asClasses) {
    notes.push(
      task === 'regression'
        ? `regression of ${name}`
        : `regression: the target ${name} holds ${integers ? `more than ${MAX_INTEGER_CLASSES} distinct whole numbers` : 'numbers that are not whole'} (task: 'classification' to read them as classes)`,
    );
    return { type: 'regression', columns: [col.name] };
  }
  const classes = [...new Set(Array.from(kept, (r) => values[r]).filter((v) => !Number.isNaN(v)))]
    .sort((a, b) => a - b)
    .map(String);
  checkClasses(table, col, classes);
  notes.push(
    task === 'classification'
      ? `classification: the ${classes.length} distinct values of ${name} are the classes`
      : `classification: the target ${name} holds ${classes.length} distinct whole numbers, read as classes (task: 'regression' to predict them as values)`,
  );
  return { type: 'classification', columns: [col.name], classes };
}

function checkClasses(table: Table, col: TableColumn, classes: readonly string[]): void {
  if (classes.length < 2) {
    throw new TableError(
      `${table.name}: the target ${quoteName(col.name)} has one class (${formatValue(classes[0])}) in every row: classification needs at least two`,
      { column: col.name },
    );
  }
}

/** The schema of an input column: numeric or categorical, as the options and its cells say. */
function columnSchema(
  table: Table,
  col: TableColumn,
  roles: { categorical: readonly string[]; numeric: readonly string[]; maxCategories: number },
  kept: Uint32Array,
  notes: string[],
): ColumnSchema {
  const name = quoteName(col.name);
  if (roles.numeric.includes(col.name) || (col.kind === 'number' && !roles.categorical.includes(col.name))) {
    if (col.kind === 'text') {
      const r = kept.find((k) => !col.isMissing(k) && parseNumber(col.get(k) as string) === undefined);
      if (r !== undefined) {
        throw new TableError(
          `${table.where(r)}: ${name} is ${formatValue(col.get(r))}, not a number (the column is numeric)${missingHint(col.get(r))}`,
          table.at(r, col.name),
        );
      }
    }
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const r of kept) {
      const c = col.get(r);
      const v = typeof c === 'string' ? (parseNumber(c) as number) : c;
      if (v === null) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min === max) notes.push(`column ${name} is ${min} in every row: it tells the network nothing`);
    return { name: col.name, type: 'numeric' };
  }
  const categories = distinctCategories(col, kept);
  if (!roles.categorical.includes(col.name)) {
    if (numericShare(col, kept) > 0.8) throw mostlyNumbers(table, col, kept, 'an input');
    const present = kept.length - countMissing(col, kept);
    if (categories.length > roles.maxCategories || (categories.length > 20 && categories.length > present / 2)) {
      throw new TableError(
        `${table.name}: column ${name} has ${categories.length} distinct values in ${present} rows (e.g. ${listNames(categories.slice(0, 3))}): it looks like an identifier, a date or free text. Leave it out (ignore: [${JSON.stringify(col.name)}], --ignore ${JSON.stringify(col.name)}) or, to one-hot encode it anyway, name it in categorical (--categorical ${JSON.stringify(col.name)})`,
        { column: col.name },
      );
    }
  }
  if (categories.length === 1) {
    notes.push(`column ${name} is ${formatValue(categories[0])} in every row: it tells the network nothing`);
  }
  return { name: col.name, type: 'categorical', categories };
}

/** A column's distinct values among the rows, as categories, sorted (numbers by value, text by code unit). */
function distinctCategories(col: TableColumn, rows: Uint32Array): string[] {
  if (col.numbers) {
    const set = new Set<number>();
    for (const r of rows) if (!Number.isNaN(col.numbers[r])) set.add(col.numbers[r]);
    return [...set].sort((a, b) => a - b).map(String);
  }
  const seen = new Uint8Array(col.values.length);
  const codes = col.codes as Int32Array;
  for (const r of rows) if (codes[r] >= 0) seen[codes[r]] = 1;
  return col.values.filter((_, k) => seen[k]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function countMissing(col: TableColumn, rows: Uint32Array): number {
  let k = 0;
  for (const r of rows) if (col.isMissing(r)) k++;
  return k;
}

/** The fraction of a text column's present cells (among the rows) that write numbers. */
function numericShare(col: TableColumn, rows: Uint32Array): number {
  const numeric = col.values.map((v) => parseNumber(v) !== undefined);
  const codes = col.codes as Int32Array;
  let present = 0;
  let numbers = 0;
  for (const r of rows) {
    const c = codes[r];
    if (c < 0) continue;
    present++;
    if (numeric[c]) numbers++;
  }
  return present ? numbers / present : 0;
}

/** A column of numbers but for a few texts: most likely a missing-value marker the reader did not know. */
function mostlyNumbers(table: Table, col: TableColumn, rows: Uint32Array, role: string): TableError {
  const codes = col.codes as Int32Array;
  const texts = new Map<string, { count: number; first: number }>();
  for (const r of rows) {
    const c = codes[r];
    if (c < 0 || parseNumber(col.values[c]) !== undefined) continue;
    const t = col.values[c];
    const seen = texts.get(t);
    if (seen) seen.count++;
    else texts.set(t, { count: 1, first: r });
  }
  const [[text, { count, first }]] = texts;
  const others = texts.size > 1 ? ` (and ${texts.size - 1} other texts)` : '';
  return new TableError(
    `${table.name}: column ${quoteName(col.name)} (${role}) holds numbers but for ${formatValue(text)} in ${count} row${count === 1 ? '' : 's'}${others}, first at ${table.where(first)}. If ${formatValue(text)} means "no value", read the table with missingValues: [..., ${JSON.stringify(text)}] (--missing-values ${JSON.stringify(text)}); to use the column as categories anyway, name it in categorical`,
    { ...table.at(first, col.name) },
  );
}

/** A hint for a text that looks like a missing-value marker. */
function missingHint(cell: unknown): string {
  return typeof cell === 'string' && cell.trim().length <= 3
    ? `; if ${formatValue(cell)} means "no value", read the table with missingValues: [..., ${JSON.stringify(cell)}] (--missing-values ${JSON.stringify(cell)})`
    : '';
}
