/**
 * The preprocessing a network trained on a table carries: its input columns (names, in order; numeric
 * ones with their scaling statistics, categorical ones with their category lists), the values that
 * fill missing cells when it was trained with `missing: 'impute'`, and its target (the class names, or
 * the target columns with the statistics their values were standardised with). Fitted on the
 * training rows only (`fitPreprocessing`), saved in the model file as the JSON of `Preprocessing`
 * (metadata key `preprocessing`, docs/tables.md), and applied the same way by every path:
 *
 *   inputs   x' = x·scale + shift per input, on the GPU (the forward plan's first op, shaders/affine.wgsl):
 *            standardize  scale = 1/std, shift = −mean/std   (std 0: scale 1, the column only centred)
 *            minmax       scale = 1/(max − min), shift = −min/(max − min)   (max = min: scale 1)
 *            none, and one-hot inputs: scale 1, shift 0
 *            each computed in float64, then rounded to float32 (`inputAffine`);
 *   targets  regression: trained on (y − mean)/std; every output is unscaled, y = z·std + mean, on the
 *            GPU too (the forward plan's last op); classification: the class names of the outputs.
 *
 * Nothing here touches the GPU; src/mlp.ts and src/infer/ apply it.
 */
import { fail, formatValue } from '../params.js';
import type { TableData } from './encode.js';
import { listNames, quoteName, TableError } from './errors.js';
import { type ColumnSchema, featureNames, type TargetSchema } from './schema.js';

/** How numeric inputs are scaled: (x − mean)/std (default for tables), (x − min)/(max − min), or not at all. */
export type Scaling = 'standardize' | 'minmax' | 'none';

/** A numeric input column with its scaling and statistics, or a categorical one with its categories. */
export type InputPreprocessing =
  | {
      name: string;
      type: 'numeric';
      scaling: 'standardize';
      /** Mean and standard deviation (population, as scikit-learn's StandardScaler) over the training rows. */
      mean: number;
      std: number;
      /** The value a missing cell takes (the training rows' mean), when trained with `missing: 'impute'`. */
      impute?: number;
    }
  | { name: string; type: 'numeric'; scaling: 'minmax'; min: number; max: number; impute?: number }
  | { name: string; type: 'numeric'; scaling: 'none'; impute?: number }
  | {
      name: string;
      type: 'categorical';
      /** The one-hot inputs' categories, in order. */
      categories: string[];
      /** The category a missing cell takes (the most frequent in the training rows), with `missing: 'impute'`. */
      impute?: string;
    };

/** The target: class names (one column's values, or one-hot columns), or values standardised for training. */
export type TargetPreprocessing =
  | { type: 'classification'; columns: string[]; classes: string[] }
  | {
      type: 'regression';
      columns: string[];
      /** Per target column: trained on (y − mean)/std; outputs are z·std + mean. */
      mean: number[];
      std: number[];
    };

/** What a network does to a table's rows before its first layer and after its last (see the module comment). */
export interface Preprocessing {
  inputs: InputPreprocessing[];
  target: TargetPreprocessing;
}

/** A class head's named prediction: the most likely class, and every class's probability. */
export interface ClassPrediction {
  class: string;
  /** The probability of `class`. */
  probability: number;
  /** Every class's probability, by class name. */
  probabilities: Record<string, number>;
}

/** A regression head's named prediction: the outputs unscaled, by target column. */
export interface ValuePrediction {
  values: Record<string, number>;
}

export type NamedPrediction = ClassPrediction | ValuePrediction;

export const SCALINGS: readonly Scaling[] = ['standardize', 'minmax', 'none'];

/** The column schema of the inputs (what encodeInputs reads rows by). */
export function inputColumns(pre: Preprocessing): ColumnSchema[] {
  return pre.inputs.map((c) =>
    c.type === 'numeric'
      ? { name: c.name, type: 'numeric' }
      : { name: c.name, type: 'categorical', categories: c.categories },
  );
}

/** The target's schema (what encodeClasses and encodeValues read rows by). */
export function targetSchema(pre: Preprocessing): TargetSchema {
  const t = pre.target;
  return t.type === 'classification'
    ? { type: 'classification', columns: t.columns, classes: t.classes }
    : { type: 'regression', columns: t.columns };
}

/** The names of the network's outputs: class names, or target columns. */
export function outputNames(pre: Preprocessing): string[] {
  return pre.target.type === 'classification' ? [...pre.target.classes] : [...pre.target.columns];
}

/**
 * The preprocessing of a network trained on these rows (the training rows: never the validation or
 * test rows): each numeric column's statistics for `scaling`, the imputation values when the data was
 * encoded with `missing: 'impute'`, and the regression targets' mean and standard deviation.
 */
export function fitPreprocessing(data: TableData, scaling: Scaling = 'standardize'): Preprocessing {
  if (!SCALINGS.includes(scaling)) fail('scaling', scaling, "'standardize', 'minmax' or 'none'");
  const D = data.features.length;
  const impute = data.missing === 'impute';
  const inputs: InputPreprocessing[] = [];
  let offset = 0;
  for (const col of data.columns) {
    if (col.type === 'numeric') {
      const s = columnStats(data.inputs, data.rows, D, offset);
      if (s.count === 0) {
        throw new TableError(
          `${data.name}: column ${quoteName(col.name)} has no value in the ${data.rows} training rows, so it cannot be ${scaling === 'none' ? 'imputed' : 'scaled'}`,
          { column: col.name },
        );
      }
      const fill = impute ? { impute: s.mean } : {};
      if (scaling === 'standardize')
        inputs.push({ name: col.name, type: 'numeric', scaling, mean: s.mean, std: s.std, ...fill });
      else if (scaling === 'minmax')
        inputs.push({ name: col.name, type: 'numeric', scaling, min: s.min, max: s.max, ...fill });
      else inputs.push({ name: col.name, type: 'numeric', scaling, ...fill });
      offset += 1;
    } else {
      const k = col.categories.length;
      const entry: InputPreprocessing = { name: col.name, type: 'categorical', categories: [...col.categories] };
      if (impute) {
        const counts = new Float64Array(k);
        for (let r = 0; r < data.rows; r++) {
          for (let j = 0; j < k; j++) {
            const v = data.inputs[r * D + offset + j];
            if (v === 1) counts[j]++;
          }
        }
        let best = 0;
        for (let j = 1; j < k; j++) if (counts[j] > counts[best]) best = j;
        entry.impute = col.categories[best];
      }
      inputs.push(entry);
      offset += k;
    }
  }
  const t = data.target;
  let target: TargetPreprocessing;
  if (t.type === 'classification')
    target = { type: 'classification', columns: [...t.columns], classes: [...t.classes] };
  else {
    const T = t.columns.length;
    const stats = t.columns.map((_, j) => columnStats(data.values as Float32Array, data.rows, T, j));
    target = {
      type: 'regression',
      columns: [...t.columns],
      mean: stats.map((s) => (scaling === 'none' ? 0 : s.mean)),
      std: stats.map((s) => (scaling === 'none' || s.std === 0 ? 1 : s.std)),
    };
  }
  return { inputs, target };
}

/** Count, mean, population standard deviation, min and max of column `c` of a [rows, width] matrix, NaN skipped. */
function columnStats(
  m: Float32Array,
  rows: number,
  width: number,
  c: number,
): { count: number; mean: number; std: number; min: number; max: number } {
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let r = 0; r < rows; r++) {
    const v = m[r * width + c];
    if (Number.isNaN(v)) continue;
    count++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = count ? sum / count : Number.NaN;
  let squares = 0;
  for (let r = 0; r < rows; r++) {
    const v = m[r * width + c];
    if (!Number.isNaN(v)) squares += (v - mean) * (v - mean);
  }
  return { count, mean, std: count ? Math.sqrt(squares / count) : Number.NaN, min, max };
}

/**
 * The per-input affine x' = x·scale + shift the GPU applies (see the module comment), float32; undefined
 * when every input is left as it is.
 */
export function inputAffine(pre: Preprocessing): { scale: Float32Array; shift: Float32Array } | undefined {
  const scale: number[] = [];
  const shift: number[] = [];
  for (const c of pre.inputs) {
    if (c.type === 'categorical') {
      for (const _ of c.categories) {
        scale.push(1);
        shift.push(0);
      }
    } else if (c.scaling === 'standardize') {
      const s = c.std > 0 ? 1 / c.std : 1;
      scale.push(s);
      shift.push(-c.mean * s);
    } else if (c.scaling === 'minmax') {
      const s = c.max > c.min ? 1 / (c.max - c.min) : 1;
      scale.push(s);
      shift.push(-c.min * s);
    } else {
      scale.push(1);
      shift.push(0);
    }
  }
  if (scale.every((s, i) => s === 1 && shift[i] === 0)) return undefined;
  return { scale: Float32Array.from(scale), shift: Float32Array.from(shift) };
}

/** The affine y = z·std + mean that unscales a regression head's outputs, float32; undefined for classes. */
export function outputAffine(pre: Preprocessing): { scale: Float32Array; shift: Float32Array } | undefined {
  const t = pre.target;
  if (t.type !== 'regression') return undefined;
  if (t.std.every((s) => s === 1) && t.mean.every((m) => m === 0)) return undefined;
  return { scale: Float32Array.from(t.std), shift: Float32Array.from(t.mean) };
}

/** Regression targets [rows, T] in the units the network trains in: (y − mean)/std, float32. */
export function scaleTargets(values: Float32Array, pre: Preprocessing): Float32Array {
  const t = pre.target;
  if (t.type !== 'regression') throw new Error('internal: scaleTargets of a classification target');
  const T = t.columns.length;
  return values.map((v, i) => (v - t.mean[i % T]) / t.std[i % T]);
}

/**
 * Inputs [rows, D] with every NaN (a missing cell) filled with its column's imputation value; the same
 * array when none is missing. A missing cell without one (trained without `missing: 'impute'`) is a
 * TableError naming the row (`where`) and the column.
 */
export function imputeInputs(x: Float32Array, pre: Preprocessing, where: (row: number) => string): Float32Array {
  let out: Float32Array | undefined;
  const D = pre.inputs.reduce((s, c) => s + (c.type === 'numeric' ? 1 : c.categories.length), 0);
  const rows = x.length / D;
  let offset = 0;
  for (const c of pre.inputs) {
    const width = c.type === 'numeric' ? 1 : c.categories.length;
    for (let r = 0; r < rows; r++) {
      if (!Number.isNaN(x[r * D + offset])) continue;
      if (c.impute === undefined) {
        throw new TableError(
          `${where(r)}: ${quoteName(c.name)} has no value, and this network was trained without imputation (missing: 'impute'): give it a value, or leave the row out`,
          { row: r, column: c.name },
        );
      }
      out ??= x.slice();
      if (c.type === 'numeric') out[r * D + offset] = c.impute as number;
      else for (let j = 0; j < width; j++) out[r * D + offset + j] = c.categories[j] === c.impute ? 1 : 0;
    }
    offset += width;
  }
  return out ?? x;
}

/** Throws unless the data's columns and target are those this preprocessing was fitted on. */
export function checkSameColumns(data: TableData, pre: Preprocessing, what: string): void {
  const mine = JSON.stringify(inputColumns(pre));
  const theirs = JSON.stringify(data.columns);
  if (mine !== theirs) {
    throw new Error(
      `${what} (${data.name}) has the input columns ${describeColumns(data.columns)}; this network was trained on ${describeColumns(inputColumns(pre))}: encode its table with the network's columns (the same inputs, categories and order)`,
    );
  }
  if (JSON.stringify(targetSchema(pre)) !== JSON.stringify(data.target)) {
    throw new Error(
      `${what} (${data.name}) has the target ${describeTarget(data.target)}; this network predicts ${describeTarget(targetSchema(pre))}`,
    );
  }
}

function describeColumns(columns: readonly ColumnSchema[]): string {
  return `[${columns.map((c) => (c.type === 'numeric' ? quoteName(c.name) : `${quoteName(c.name)} (${listNames(c.categories, 8)})`)).join(', ')}]`;
}

function describeTarget(t: TargetSchema): string {
  return t.type === 'classification'
    ? `${listNames(t.columns)} with the classes ${listNames(t.classes)}`
    : `${listNames(t.columns)} (regression)`;
}

/** Named predictions from the head's outputs [rows, C] (probabilities, or unscaled values). */
export function namePredictions(outputs: Float32Array, pre: Preprocessing): NamedPrediction[] {
  const names = outputNames(pre);
  const C = names.length;
  const rows = outputs.length / C;
  const out: NamedPrediction[] = [];
  for (let r = 0; r < rows; r++) {
    const row = outputs.subarray(r * C, (r + 1) * C);
    // Object.fromEntries makes own properties, so a class named "__proto__" is a key like any other.
    const byName = Object.fromEntries(names.map((n, j) => [n, row[j]]));
    if (pre.target.type === 'classification') {
      let best = 0;
      for (let j = 1; j < C; j++) if (row[j] > row[best]) best = j;
      out.push({ class: names[best], probability: row[best], probabilities: byName });
    } else out.push({ values: byName });
  }
  return out;
}

/** The JSON a model file holds (metadata `preprocessing`): the object with its keys in a fixed order. */
export function encodePreprocessing(pre: Preprocessing): string {
  return JSON.stringify(pre);
}

/**
 * A model file's `preprocessing` metadata, checked whole before anything uses it: its structure,
 * finite statistics, distinct names and categories, and widths that agree with the network (`D`
 * inputs, `C` outputs). Errors name the file and the entry.
 */
export function decodePreprocessing(json: string, D: number, C: number, name: string): Preprocessing {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`${name}: metadata "preprocessing" is not valid JSON: ${formatValue(json)}`);
  }
  function bad(where: string, v: unknown, expected: string): never {
    throw new Error(`${name}: metadata "preprocessing"${where} is ${formatValue(v)}, expected ${expected}`);
  }
  const obj = (v: unknown, where: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(where, v, 'an object');
    return v as Record<string, unknown>;
  };
  const keys = (o: Record<string, unknown>, allowed: readonly string[], where: string) => {
    for (const k of Object.keys(o))
      if (!allowed.includes(k)) bad(`${where}.${k}`, o[k], `no such key (${allowed.join(', ')})`);
  };
  const str = (v: unknown, where: string): string => (typeof v === 'string' ? v : bad(where, v, 'a string'));
  const num = (v: unknown, where: string, min = Number.NEGATIVE_INFINITY): number =>
    typeof v === 'number' && Number.isFinite(v) && v >= min
      ? v
      : bad(where, v, min === 0 ? 'a finite number ≥ 0' : 'a finite number');
  const names = (v: unknown, where: string, min: number): string[] => {
    if (!Array.isArray(v) || v.length < min) bad(where, v, `an array of at least ${min} distinct strings`);
    const list = (v as unknown[]).map((s, i) => str(s, `${where}[${i}]`));
    if (new Set(list).size !== list.length) bad(where, v, 'distinct strings');
    return list;
  };
  const root = obj(value, '');
  keys(root, ['inputs', 'target'], '');
  if (!Array.isArray(root.inputs) || root.inputs.length === 0)
    bad('.inputs', root.inputs, 'a non-empty array of input columns');
  const inputs = (root.inputs as unknown[]).map((raw, i): InputPreprocessing => {
    const where = `.inputs[${i}]`;
    const c = obj(raw, where);
    const colName = str(c.name, `${where}.name`);
    if (c.type === 'categorical') {
      keys(c, ['name', 'type', 'categories', 'impute'], where);
      const categories = names(c.categories, `${where}.categories`, 1);
      const entry: InputPreprocessing = { name: colName, type: 'categorical', categories };
      if (c.impute !== undefined) {
        entry.impute = str(c.impute, `${where}.impute`);
        if (!categories.includes(entry.impute)) bad(`${where}.impute`, c.impute, 'one of its categories');
      }
      return entry;
    }
    if (c.type !== 'numeric') bad(`${where}.type`, c.type, '"numeric" or "categorical"');
    const fill = c.impute === undefined ? {} : { impute: num(c.impute, `${where}.impute`) };
    if (c.scaling === 'standardize') {
      keys(c, ['name', 'type', 'scaling', 'mean', 'std', 'impute'], where);
      return {
        name: colName,
        type: 'numeric',
        scaling: 'standardize',
        mean: num(c.mean, `${where}.mean`),
        std: num(c.std, `${where}.std`, 0),
        ...fill,
      };
    }
    if (c.scaling === 'minmax') {
      keys(c, ['name', 'type', 'scaling', 'min', 'max', 'impute'], where);
      const min = num(c.min, `${where}.min`);
      const max = num(c.max, `${where}.max`);
      if (max < min) bad(`${where}.max`, max, `a number ≥ min (${min})`);
      return { name: colName, type: 'numeric', scaling: 'minmax', min, max, ...fill };
    }
    if (c.scaling !== 'none') bad(`${where}.scaling`, c.scaling, '"standardize", "minmax" or "none"');
    keys(c, ['name', 'type', 'scaling', 'impute'], where);
    return { name: colName, type: 'numeric', scaling: 'none', ...fill };
  });
  const colNames = inputs.map((c) => c.name);
  if (new Set(colNames).size !== colNames.length) bad('.inputs', colNames, 'columns of distinct names');
  const width = featureNames(
    inputColumns({ inputs, target: { type: 'regression', columns: [], mean: [], std: [] } }),
  ).length;
  if (width !== D) bad('.inputs', colNames, `columns giving the network's ${D} inputs (these give ${width})`);
  const t = obj(root.target, '.target');
  let target: TargetPreprocessing;
  if (t.type === 'classification') {
    keys(t, ['type', 'columns', 'classes'], '.target');
    const columns = names(t.columns, '.target.columns', 1);
    const classes = names(t.classes, '.target.classes', 2);
    if (classes.length !== C) bad('.target.classes', classes, `${C} class names, one per output`);
    if (columns.length > 1 && JSON.stringify(columns) !== JSON.stringify(classes)) {
      bad('.target.columns', columns, 'one column, or one-hot columns named as the classes');
    }
    target = { type: 'classification', columns, classes };
  } else if (t.type === 'regression') {
    keys(t, ['type', 'columns', 'mean', 'std'], '.target');
    const columns = names(t.columns, '.target.columns', 1);
    if (columns.length !== C) bad('.target.columns', columns, `${C} target columns, one per output`);
    const stats = (key: 'mean' | 'std', min?: number) => {
      const v = t[key];
      if (!Array.isArray(v) || v.length !== C) bad(`.target.${key}`, v, `an array of ${C} numbers`);
      return (v as unknown[]).map((x, i) => num(x, `.target.${key}[${i}]`, min));
    };
    const mean = stats('mean');
    const std = stats('std', 0);
    std.forEach((s, i) => {
      if (s === 0) bad(`.target.std[${i}]`, s, 'a number > 0');
    });
    target = { type: 'regression', columns, mean, std };
  } else bad('.target.type', t.type, '"classification" or "regression"');
  const all = [...colNames, ...target.columns];
  if (new Set(all).size !== all.length) bad('', colNames, 'input and target columns of distinct names');
  return { inputs, target };
}
