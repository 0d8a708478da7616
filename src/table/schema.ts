/**
 * What a network knows of a table's columns, and how rows become its inputs: numeric columns as they
 * are, categorical ones one-hot over their category list, in the order of the columns. One encoder for
 * training rows (encodeTable) and for the rows a trained network predicts on (a table, or objects), so
 * both read cells the same way. Missing cells become NaN here (filled later by imputation, or refused).
 */
import { formatValue } from '../params.js';
import { closestName, listNames, quoteName, TableError } from './errors.js';
import { parseNumber, type Table, type TableColumn } from './table.js';

/** An input column: a number, or a category one-hot encoded over `categories` (in that order). */
export type ColumnSchema =
  | { name: string; type: 'numeric' }
  | { name: string; type: 'categorical'; categories: string[] };

/**
 * The target: class names from one column (its distinct values) or from several 0/1 columns (one-hot
 * outputs, e.g. brain.js's `{ black: 1 }`: the columns are the classes); or values of one or more columns.
 */
export type TargetSchema =
  | { type: 'classification'; columns: string[]; classes: string[] }
  | { type: 'regression'; columns: string[] };

/** What to do with a category the network never saw: an error (default), or all its one-hot inputs 0. */
export type UnknownCategory = 'error' | 'ignore';

/** The feature names of input columns: a numeric column's name, `column=category` per one-hot input. */
export function featureNames(columns: readonly ColumnSchema[]): string[] {
  return columns.flatMap((c) => (c.type === 'numeric' ? [c.name] : c.categories.map((k) => `${c.name}=${k}`)));
}

/** How many inputs a column gives the network. */
export function columnWidth(c: ColumnSchema): number {
  return c.type === 'numeric' ? 1 : c.categories.length;
}

/** A cell as a category: text as it is, a number as JavaScript writes it. */
export function categoryOf(cell: number | string): string {
  return typeof cell === 'number' ? String(cell) : cell;
}

/**
 * The inputs [rows, D] of a table's rows for these columns (raw: numbers unscaled, one-hot 0/1), NaN
 * where a cell is missing (for a categorical column, in all its inputs). Every other problem — a
 * column the table lacks, text in a numeric column, a category not in the list (unless `unknown` is
 * 'ignore') — is a TableError naming the row's line and the column.
 */
export function encodeInputs(
  table: Table,
  columns: readonly ColumnSchema[],
  options: { unknown?: UnknownCategory; rows?: ArrayLike<number> } = {},
): Float32Array {
  const unknown = options.unknown ?? 'error';
  const rows = options.rows ?? { length: table.rowCount };
  const n = rows.length;
  const rowAt = options.rows ? (i: number) => (options.rows as ArrayLike<number>)[i] : (i: number) => i;
  const D = columns.reduce((s, c) => s + columnWidth(c), 0);
  const out = new Float32Array(n * D);
  let offset = 0;
  for (const spec of columns) {
    const col = requireColumn(table, spec.name, 'an input of the network');
    if (spec.type === 'numeric') {
      for (let i = 0; i < n; i++) {
        const r = rowAt(i);
        out[i * D + offset] = numericCell(table, col, r);
      }
      offset += 1;
      continue;
    }
    const index = new Map(spec.categories.map((k, j) => [k, j]));
    const width = spec.categories.length;
    // A text column: look each distinct value up once.
    const codeSlot = col.codes ? col.values.map((v) => index.get(v) ?? -1) : undefined;
    for (let i = 0; i < n; i++) {
      const r = rowAt(i);
      const base = i * D + offset;
      if (col.isMissing(r)) {
        for (let j = 0; j < width; j++) out[base + j] = Number.NaN;
        continue;
      }
      const slot = codeSlot
        ? codeSlot[(col.codes as Int32Array)[r]]
        : (index.get(categoryOf(col.get(r) as number)) ?? -1);
      if (slot >= 0) out[base + slot] = 1;
      else if (unknown === 'error') {
        const value = categoryOf(col.get(r) as string | number);
        throw new TableError(
          `${table.where(r)}: ${quoteName(spec.name)} is ${formatValue(value)}, a category the network was not trained on (it knows ${listNames(spec.categories)}); predict with unknownCategory: 'ignore' (--unknown-category ignore) to give such rows no category`,
          table.at(r, spec.name),
        );
      }
    }
    offset += width;
  }
  return out;
}

/** A numeric cell: its number, NaN when missing, an error when text. */
function numericCell(table: Table, col: TableColumn, r: number): number {
  if (col.numbers) return col.numbers[r];
  const code = (col.codes as Int32Array)[r];
  if (code < 0) return Number.NaN;
  const text = col.values[code];
  const v = parseNumber(text);
  if (v === undefined) {
    throw new TableError(
      `${table.where(r)}: ${quoteName(col.name)} is ${formatValue(text)}, not a number (the column is numeric)`,
      table.at(r, col.name),
    );
  }
  return v;
}

/** The column of that name, or a TableError listing the columns there are (and the closest name). */
export function requireColumn(table: Table, name: string, role: string): TableColumn {
  const col = table.column(name);
  if (col) return col;
  const close = closestName(name, table.names);
  throw new TableError(
    `${table.name} has no column ${quoteName(name)} (${role})${close ? `; did you mean ${quoteName(close)}?` : ''} Its columns: ${listNames(table.names)}`,
    { column: name },
  );
}

/**
 * The class index of each row from a table (its target column's values, or the argmax of its one-hot
 * columns), −1 where missing; a value not among `classes` is a TableError naming the row.
 */
export function encodeClasses(
  table: Table,
  target: Extract<TargetSchema, { type: 'classification' }>,
  rows?: ArrayLike<number>,
): Int32Array {
  const n = rows ? rows.length : table.rowCount;
  const rowAt = rows ? (i: number) => rows[i] : (i: number) => i;
  const out = new Int32Array(n);
  if (target.columns.length > 1) {
    const cols = target.columns.map((c) => requireColumn(table, c, 'a one-hot target column'));
    for (let i = 0; i < n; i++) {
      const r = rowAt(i);
      out[i] = oneHotClass(table, cols, r);
    }
    return out;
  }
  const col = requireColumn(table, target.columns[0], 'the target');
  const index = new Map(target.classes.map((k, j) => [k, j]));
  for (let i = 0; i < n; i++) {
    const r = rowAt(i);
    const cell = col.get(r);
    if (cell === null) {
      out[i] = -1;
      continue;
    }
    const k = index.get(categoryOf(cell));
    if (k === undefined) {
      throw new TableError(
        `${table.where(r)}: the target ${quoteName(col.name)} is ${formatValue(cell)}, not one of the network's classes (${listNames(target.classes)})`,
        table.at(r, col.name),
      );
    }
    out[i] = k;
  }
  return out;
}

/** The class of a row of one-hot columns: the one that is 1 (the others 0); −1 when all are missing. */
function oneHotClass(table: Table, cols: readonly TableColumn[], r: number): number {
  let k = -1;
  let missing = 0;
  for (let j = 0; j < cols.length; j++) {
    const cell = cols[j].get(r);
    if (cell === null) missing++;
    else if (cell === 1) {
      if (k >= 0) throw notOneHot(table, cols, r);
      k = j;
    } else if (cell !== 0) throw notOneHot(table, cols, r);
  }
  if (missing === cols.length) return -1;
  if (k < 0 || missing > 0) throw notOneHot(table, cols, r);
  return k;
}

function notOneHot(table: Table, cols: readonly TableColumn[], r: number): TableError {
  const cells = cols.map((c) => `${quoteName(c.name)}: ${formatValue(c.get(r))}`).join(', ');
  return new TableError(
    `${table.where(r)}: the one-hot target columns hold { ${cells} }: a class needs exactly one of them 1 and the others 0`,
    table.at(r),
  );
}

/** The values [rows, T] of regression target columns, NaN where missing; text is a TableError. */
export function encodeValues(
  table: Table,
  target: Extract<TargetSchema, { type: 'regression' }>,
  rows?: ArrayLike<number>,
): Float32Array {
  const n = rows ? rows.length : table.rowCount;
  const rowAt = rows ? (i: number) => rows[i] : (i: number) => i;
  const T = target.columns.length;
  const out = new Float32Array(n * T);
  target.columns.forEach((name, t) => {
    const col = requireColumn(table, name, 'a target');
    for (let i = 0; i < n; i++) out[i * T + t] = numericCell(table, col, rowAt(i));
  });
  return out;
}
