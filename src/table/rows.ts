/**
 * Rows for a network that carries preprocessing: encoded rows (TableData), a table, or row objects
 * (`{ island: 'Dream', 'Body Mass (g)': 3800, … }`) become its raw inputs [rows, D] — categories one-hot
 * over its lists, missing cells imputed with its values — and, for evaluation, its targets. What
 * `MLP.predict`, `MLP.evaluate` and `webgpu-mlp/infer`'s `predict` take, read the same way everywhere.
 */
import { TableData } from './encode.js';
import { TableError } from './errors.js';
import { isNamedRows as isNamedValue } from './kind.js';
import {
  checkSameColumns,
  imputeInputs,
  inputColumns,
  type Preprocessing,
  scaleTargets,
  targetSchema,
} from './preprocessing.js';
import { tableFromRows } from './read.js';
import { encodeClasses, encodeInputs, encodeValues, type UnknownCategory } from './schema.js';
import { Table } from './table.js';

/** Rows a network with preprocessing predicts on by name. */
export type NamedRows = TableData | Table | readonly object[];

export interface NamedRowsOptions {
  /**
   * A category the network was not trained on: an error naming the row and column (default), or
   * `'ignore'`: all the column's one-hot inputs 0 (as scikit-learn's `handle_unknown='ignore'`).
   */
  unknownCategory?: UnknownCategory;
}

/** Whether a value is rows by name (TableData, a Table, or an array of row objects), not numbers. */
export function isNamedRows(value: unknown): value is NamedRows {
  return isNamedValue(value);
}

/** The raw inputs [rows, D] of named rows (imputed; the network scales them on the GPU), and where each row is. */
export function namedInputs(
  rows: NamedRows,
  pre: Preprocessing,
  options: NamedRowsOptions = {},
): { x: Float32Array; count: number; where: (r: number) => string } {
  const unknown = options.unknownCategory ?? 'error';
  if (unknown !== 'error' && unknown !== 'ignore') {
    throw new Error(`options.unknownCategory = ${JSON.stringify(unknown)} is invalid: expected 'error' or 'ignore'`);
  }
  if (rows instanceof TableData) {
    checkSameColumns(rows, pre, 'the rows');
    return { x: imputeInputs(rows.inputs, pre, (r) => rows.where(r)), count: rows.rows, where: (r) => rows.where(r) };
  }
  const table = rows instanceof Table ? rows : tableFromRows(rows);
  if (table.rowCount === 0) throw new TableError(`${table.name} has no rows to predict`);
  const raw = encodeInputs(table, inputColumns(pre), { unknown });
  const where = (r: number) => table.where(r);
  return { x: imputeInputs(raw, pre, where), count: table.rowCount, where };
}

/**
 * The targets of named rows for evaluation, in the units the network trains in: class indices, or
 * regression values standardised as in training; `raw` holds the values as given (regression).
 * A row without a target is a TableError naming it.
 */
export function namedTargets(
  rows: NamedRows,
  pre: Preprocessing,
): { labels?: Uint32Array; values?: Float32Array; raw?: Float32Array } {
  let labels: Int32Array | undefined;
  let raw: Float32Array | undefined;
  let where: (r: number) => string;
  if (rows instanceof TableData) {
    checkSameColumns(rows, pre, 'the rows');
    if (rows.labels) return { labels: rows.labels };
    raw = rows.values as Float32Array;
    where = (r) => rows.where(r);
  } else {
    const table = rows instanceof Table ? rows : tableFromRows(rows);
    where = (r) => table.where(r);
    const target = targetSchema(pre);
    if (target.type === 'classification') labels = encodeClasses(table, target);
    else raw = encodeValues(table, target);
  }
  if (labels) {
    const missing = labels.indexOf(-1);
    if (missing >= 0) throw noTarget(where(missing), pre, missing);
    return { labels: Uint32Array.from(labels) };
  }
  const values = raw as Float32Array;
  const T = pre.target.columns.length;
  const missing = values.findIndex((v) => Number.isNaN(v));
  if (missing >= 0) throw noTarget(where(Math.floor(missing / T)), pre, Math.floor(missing / T));
  return { values: scaleTargets(values, pre), raw: values };
}

function noTarget(where: string, pre: Preprocessing, row: number): TableError {
  return new TableError(
    `${where}: the target ${pre.target.columns.map((c) => JSON.stringify(c)).join(', ')} has no value, so the row cannot be evaluated (leave it out)`,
    { row },
  );
}
