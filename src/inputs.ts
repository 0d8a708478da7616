/**
 * What the library accepts as inputs and targets, and how each form becomes the engine's: typed
 * arrays used as they are, plain JavaScript arrays and Float64Arrays converted (documented), GPU
 * buffers used in place after their size and usage are checked. Anything else is refused with an
 * error that names the type given and the types accepted — before any GPU work.
 */
import { headOf } from './model/heads/index.js';
import { checkTargets } from './model/heads/targets.js';
import type { MlpSpec, Targets } from './model/spec.js';
import { formatValue, typeName } from './params.js';

/**
 * Inputs, row-major `[count, D]`:
 * - `Float32Array` of features (used as is);
 * - `Uint8Array` of bytes (pixels), scaled by 1/255 on the GPU;
 * - `Float64Array` or `number[][]` (rows of D numbers): converted to Float32Array;
 * - `{ buffer, count }`: your own GPUBuffer of f32 `[count, D]` (STORAGE usage), used in place (zero copy).
 */
export type Inputs = Float32Array | Uint8Array | Float64Array | readonly (readonly number[])[] | GpuInputs;

/** Inputs already on the GPU: f32 `[count, D]` in your buffer, which needs STORAGE usage. */
export interface GpuInputs {
  buffer: GPUBuffer;
  count: number;
}

/**
 * Targets:
 * - class indices, one per row (`Uint8Array`, `Uint16Array`, `Uint32Array`, `Int32Array` or `number[]`), softmax head;
 * - dense targets `[count, C]`: `Float32Array` (used as is), `Float64Array` or `number[][]` (converted) —
 *   one-hot or soft for softmax, probabilities for sigmoid, values for mse/huber; for heads that take
 *   no class indices, a flat `number[]` of count·C values is dense too;
 * - `{ buffer }`: your own GPUBuffer of u32 labels `[count]` (softmax) or f32 targets `[count, C]`
 *   (STORAGE and COPY_SRC usage: read in place by the steps, and read back by evaluation).
 */
export type Labels =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int32Array
  | readonly number[]
  | Float32Array
  | Float64Array
  | readonly (readonly number[])[]
  | { buffer: GPUBuffer };

const INPUT_TYPES = 'Float32Array, Uint8Array (pixels), Float64Array, number[][] or { buffer: GPUBuffer, count }';
const LABEL_TYPES =
  'class indices (Uint8Array, Uint16Array, Uint32Array, Int32Array, number[]), dense targets (Float32Array, Float64Array, number[][]) or { buffer: GPUBuffer }';

/** Rows of numbers as one row-major Float32Array, checking that every row has `cols` finite numbers. */
function fromRows(name: string, rows: readonly (readonly number[])[], cols: number): Float32Array {
  const out = new Float32Array(rows.length * cols);
  rows.forEach((row, r) => {
    if (!Array.isArray(row) || row.length !== cols) {
      throw new Error(
        `${name}[${r}] has ${Array.isArray(row) ? `${row.length} values` : `type ${typeName(row)}`}, expected ${cols} numbers (each row is [${cols}])`,
      );
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (typeof v !== 'number') throw new Error(`${name}[${r}][${c}] = ${formatValue(v)} is not a number`);
      out[r * cols + c] = v;
    }
  });
  return out;
}

/** Inputs in the engine's form: host bytes or floats with their row count, or a GPU buffer. */
export type ResolvedInputs =
  | { kind: 'host'; images: Float32Array | Uint8Array; count: number }
  | { kind: 'gpu'; buffer: GPUBuffer; count: number };

/** Checks and converts inputs for a network whose input width is D. */
export function resolveInputs(inputs: unknown, D: number, name = 'inputs'): ResolvedInputs {
  let images: Float32Array | Uint8Array;
  if (inputs instanceof Float32Array || inputs instanceof Uint8Array) images = inputs;
  else if (inputs instanceof Float64Array) images = Float32Array.from(inputs);
  else if (Array.isArray(inputs) && inputs.length > 0 && Array.isArray(inputs[0])) images = fromRows(name, inputs, D);
  else if (isGpuInputs(inputs)) {
    checkGpuKeys(name, inputs, ['buffer', 'count']);
    const { count, buffer } = inputs;
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`${name}.count = ${formatValue(count)}, expected an integer ≥ 1`);
    return { kind: 'gpu', buffer, count };
  } else {
    const hint = Array.isArray(inputs)
      ? ` (a flat number[] is ambiguous: give rows, number[][], or a Float32Array [count, ${D}])`
      : '';
    throw new Error(`${name} is ${typeName(inputs)}: expected ${INPUT_TYPES}${hint}`);
  }
  if (images.length === 0 || images.length % D !== 0) {
    throw new Error(`${name} has ${images.length} values, expected a positive multiple of ${D} ([count, ${D}])`);
  }
  return { kind: 'host', images, count: images.length / D };
}

/**
 * An application's `{ buffer, … }` holds only the keys we read: anything else — `offset`, say — would be
 * ignored, and rows 0..count−1 of the buffer used in its stead, so it is refused.
 */
export function checkGpuKeys(name: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new Error(
        `${name}.${key} is not taken: give { ${known.join(', ')} } (rows from the buffer's start; copy others to a buffer of their own)`,
      );
    }
  }
}

function isGpuInputs(value: unknown): value is GpuInputs {
  return (
    typeof value === 'object' && value !== null && 'buffer' in value && 'count' in value && !ArrayBuffer.isView(value)
  );
}

/** Targets in the engine's form: host labels or dense values (checked for the head), or a GPU buffer. */
export type ResolvedLabels = { kind: 'host'; targets: Targets } | { kind: 'gpu'; buffer: GPUBuffer };

/** Checks and converts targets for `rows` rows of a network (its head decides what they may be). */
export function resolveLabels(labels: unknown, spec: MlpSpec, rows: number, name = 'labels'): ResolvedLabels {
  const C = spec.layers[spec.layers.length - 1];
  const head = headOf(spec).definition;
  const takesLabels = head.targets.includes('labels');
  let targets: Targets;
  if (labels instanceof Float32Array) {
    targets = { kind: 'dense', values: labels };
  } else if (labels instanceof Float64Array) {
    targets = { kind: 'dense', values: Float32Array.from(labels) };
  } else if (Array.isArray(labels) && labels.length > 0 && Array.isArray(labels[0])) {
    targets = { kind: 'dense', values: fromRows(name, labels, C) };
  } else if (Array.isArray(labels) && !takesLabels) {
    const values = Float32Array.from(labels, (v, i) => {
      if (typeof v !== 'number') throw new Error(`${name}[${i}] = ${formatValue(v)} is not a number`);
      return v;
    });
    targets = { kind: 'dense', values };
  } else if (
    labels instanceof Uint8Array ||
    labels instanceof Uint16Array ||
    labels instanceof Uint32Array ||
    labels instanceof Int32Array ||
    Array.isArray(labels)
  ) {
    const list = labels as ArrayLike<unknown>;
    if (!takesLabels) {
      throw new Error(
        `${name}: class indices need the softmax head; the ${head.name} head takes dense targets [count, ${C}] (Float32Array, Float64Array or number[][])`,
      );
    }
    if (list.length !== rows) throw new Error(`${name} has ${list.length} entries, expected one per row (${rows})`);
    const out = new Uint32Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = list[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new Error(`${name}[${i}] = ${formatValue(v)} is not a class index: expected an integer in 0..${C - 1}`);
      }
      if (v < 0 || v >= C) throw new Error(`${name}[${i}] = ${v} is outside 0..${C - 1}`);
      out[i] = v;
    }
    targets = { kind: 'labels', labels: out };
  } else if (typeof labels === 'object' && labels !== null && 'buffer' in labels && !ArrayBuffer.isView(labels)) {
    checkGpuKeys(name, labels, ['buffer']);
    return { kind: 'gpu', buffer: (labels as { buffer: GPUBuffer }).buffer };
  } else {
    throw new Error(`${name} is ${typeName(labels)}: expected ${LABEL_TYPES}`);
  }
  if (targets.kind === 'dense' && targets.values.length !== rows * C) {
    throw new Error(
      `${name} has ${targets.values.length} values: dense targets must be [count, ${C}] = ${rows * C} values`,
    );
  }
  checkTargets(spec, targets, rows, name);
  return { kind: 'host', targets };
}
