/**
 * The networks the ONNX tests export (test/interop/onnxruntime.test.ts runs them in onnxruntime-node,
 * test/e2e/onnx_web.test.ts in onnxruntime-web in Chromium): every activation and every head on
 * random inputs; and on real inputs, networks trained on MNIST pixels (as bytes: classifiers, a
 * regression and a multi-label network) and on two tables with their preprocessing (penguins:
 * standardised and one-hot inputs; cars: a regression whose outputs are unscaled). Each is trained
 * a little on the GPU, exported with `toOnnx`, and predicted with `mlp.predict` on batches of 1 and
 * 1,000 rows: what the runtimes must reproduce.
 */

import { expect } from 'vitest';
import type { MnistSplit } from '../../src/data/mnist.js';
import { loadMnistNode } from '../../src/data/mnist_node.js';
import { decodeModel } from '../../src/io/model_file.js';
import { type CreateMLPOptions, createMLP, type FitOptions, toOnnx } from '../../src/mlp.js';
import { headOutputsRef, mlpForwardRef } from '../../src/model/reference.js';
import { encodeTable, type TableData } from '../../src/table/encode.js';
import { decodePreprocessing, inputAffine, outputAffine } from '../../src/table/preprocessing.js';
import { readTable } from '../../src/table/read.js';
import { trainTestSplit } from '../../src/table/split.js';
import { toRefParams, toRefRunning } from '../../src/train/check.js';
import { vegaBytes } from './datasets.js';
import { randomArray, randomInts } from './random.js';

/** |runtime − mlp.predict| ≤ 1e-6 per output, as issue 25 asks (see compareOutputs). */
export const ONNX_TOLERANCE = 1e-6;
export const BATCHES = [1, 1000] as const;

export interface OnnxCase {
  name: string;
  /** The network (a function where its widths come from data loadRealData loads). */
  network: CreateMLPOptions | (() => CreateMLPOptions);
  /**
   * Training rows: inputs (floats, or bytes for a network trained on pixels) and targets; or a table,
   * which the network fits with its preprocessing (scaled inputs, unscaled regression outputs).
   */
  train(): { x: Float32Array | Uint8Array; y: Float32Array | Uint32Array | Uint8Array } | { table: TableData };
  /** `rows` inputs to predict, as predict takes them. */
  inputs(rows: number): Float32Array | Uint8Array;
  /** How it is trained: Adam (lr 0.01, batch 32) for 3 epochs unless these say otherwise. */
  fit?: FitOptions;
}

export interface ExportedCase {
  name: string;
  onnx: Uint8Array;
  /** The graph's output: 'probabilities' or 'values'. */
  output: string;
  D: number;
  C: number;
  /**
   * Per batch size: the raw inputs as float32 (what the ONNX graph takes), mlp.predict's outputs, and
   * the outputs in float64 (the Float64 network on the saved parameters and the inputs predict's
   * float32 sees): how far each float32 computation is from the exact one.
   */
  batches: { rows: number; inputs: Float32Array; expected: Float32Array; exact: Float64Array }[];
}

const RANDOM_ROWS = 256;

/** Random inputs in [−3, 3] (both sides of every activation's bend), and a few far out (±40). */
function randomInputs(rows: number, D: number, seed: number): Float32Array {
  const x = randomArray(rows * D, seed, 3);
  for (let i = 0; i < x.length; i += 97) x[i] *= 13;
  return x;
}

/** A case on random inputs: D inputs, trained for 3 epochs on random targets the head takes. */
function random(
  name: string,
  network: CreateMLPOptions,
  seed: number,
  targets: 'labels' | 'binary' | 'values',
  bytes = false,
): OnnxCase {
  const D = network.layers[0] as number; // the first and last entries are widths; hidden ones may be objects
  const C = network.layers[network.layers.length - 1] as number;
  const make = (rows: number, s: number) =>
    bytes
      ? Uint8Array.from(randomArray(rows * D, s, 1), (v) => Math.floor((v + 1) * 127.99))
      : randomInputs(rows, D, s);
  return {
    name,
    network: { ...network, seed },
    train: () => {
      const x = make(RANDOM_ROWS, seed);
      const y =
        targets === 'labels'
          ? randomInts(RANDOM_ROWS, seed + 1, C)
          : targets === 'binary'
            ? Float32Array.from(randomInts(RANDOM_ROWS * C, seed + 1, 2))
            : randomArray(RANDOM_ROWS * C, seed + 1, 1);
      return { x, y };
    },
    inputs: (rows) => make(rows, seed + 1000 + rows),
  };
}

/** Every activation (leaky ReLU with its default slope and with 0.2) and every head, on random inputs. */
export const RANDOM_CASES: OnnxCase[] = [
  random('relu, softmax head', { layers: [12, 16, 5], activation: 'relu' }, 1, 'labels'),
  random(
    'leakyRelu (slope 0.2) → gelu, sigmoid head',
    { layers: [12, 16, 9, 4], activation: [{ name: 'leakyRelu', slope: 0.2 }, 'gelu'], head: 'sigmoid' },
    2,
    'binary',
  ),
  random('tanh, mse head', { layers: [12, 16, 3], activation: 'tanh', head: 'mse' }, 3, 'values'),
  random(
    'sigmoid → linear, huber head (delta 0.5)',
    { layers: [12, 16, 16, 2], activation: ['sigmoid', 'linear'], head: { name: 'huber', delta: 0.5 } },
    4,
    'values',
  ),
  random(
    'gelu → leakyRelu (default slope), softmax head',
    { layers: [12, 24, 8, 3], activation: ['gelu', 'leakyRelu'] },
    5,
    'labels',
  ),
  random('no hidden layer, softmax head', { layers: [12, 4] }, 6, 'labels'),
  random('trained on bytes (inputScale 1/255), relu, softmax head', { layers: [12, 10, 3] }, 7, 'labels', true),
];

/**
 * Every layer kind (LayerNorm, BatchNorm1d in its evaluation form with the running statistics its
 * training left, dropout as the identity), alone and together, before every head: each head has each
 * kind, and norms with parameters of their own.
 */
export const LAYER_CASES: OnnxCase[] = [
  random('LayerNorm → relu, softmax head', { layers: [12, { units: 16, norm: 'layer' }, 5] }, 11, 'labels'),
  random('BatchNorm1d → relu, softmax head', { layers: [12, { units: 16, norm: 'batch' }, 5] }, 12, 'labels'),
  random('relu → dropout 0.3, softmax head', { layers: [12, { units: 16, dropout: 0.3 }, 5] }, 13, 'labels'),
  random(
    'LayerNorm (ε 1e-3) → gelu, BatchNorm1d (momentum 0.3) → tanh → dropout 0.2, sigmoid head',
    {
      layers: [
        12,
        { units: 16, norm: { name: 'layer', eps: 1e-3 }, activation: 'gelu' },
        { units: 9, norm: { name: 'batch', momentum: 0.3 }, activation: 'tanh', dropout: 0.2 },
        4,
      ],
      head: 'sigmoid',
    },
    14,
    'binary',
  ),
  random(
    'BatchNorm1d (ε 1e-3) → sigmoid → dropout 0.5, LayerNorm → leakyRelu, mse head',
    {
      layers: [
        12,
        { units: 16, norm: { name: 'batch', eps: 1e-3 }, activation: 'sigmoid', dropout: 0.5 },
        { units: 8, norm: 'layer', activation: 'leakyRelu' },
        3,
      ],
      head: 'mse',
    },
    15,
    'values',
  ),
  random(
    'LayerNorm → gelu → dropout 0.25, BatchNorm1d → linear, huber head',
    {
      layers: [12, { units: 16, norm: 'layer', dropout: 0.25 }, { units: 8, norm: 'batch', activation: 'linear' }, 2],
      activation: 'gelu',
      head: { name: 'huber', delta: 0.5 },
    },
    16,
    'values',
  ),
];

let mnist: { train: MnistSplit; test: MnistSplit } | undefined;
const TRAIN_IMAGES = 3000;

/** Loads MNIST (once) for REAL_CASES. */
export async function loadRealData(): Promise<void> {
  mnist ??= await loadMnistNode();
  if (!tables) {
    const table = async (file: string, options: Parameters<typeof encodeTable>[1]) =>
      trainTestSplit(encodeTable(await readTable(vegaBytes(file), { name: file }), options), {
        testSize: 0.2,
        seed: 1,
      });
    tables = {
      penguins: await table('penguins.json', { target: 'Species', missing: 'drop' }),
      cars: await table('cars.json', { target: 'Miles_per_Gallon', ignore: ['Name'], missing: 'drop' }),
    };
  }
}

function mnistData(): { train: MnistSplit; test: MnistSplit } {
  if (!mnist) throw new Error('MNIST not loaded: call loadRealData() first');
  return mnist;
}

/**
 * MNIST pixels (bytes) with a function of each image's label as its targets: the label itself (a
 * class index) for the softmax head, else dense rows.
 */
function mnistCase(name: string, network: CreateMLPOptions, targets: (label: number) => number[]): OnnxCase {
  return {
    name,
    network: { ...network, seed: 1 },
    fit: { epochs: 2 },
    train: () => {
      const { images, labels } = mnistData().train;
      const x = images.subarray(0, TRAIN_IMAGES * 784);
      const y =
        network.head === undefined
          ? labels.subarray(0, TRAIN_IMAGES)
          : Float32Array.from(Array.from(labels.subarray(0, TRAIN_IMAGES), targets).flat());
      return { x, y };
    },
    inputs: (rows) => mnistData().test.images.subarray(0, rows * 784), // images the network never saw
  };
}

let tables:
  | { penguins: { train: TableData; test: TableData }; cars: { train: TableData; test: TableData } }
  | undefined;

function tableData(): NonNullable<typeof tables> {
  if (!tables) throw new Error('tables not loaded: call loadRealData() first');
  return tables;
}

/** The test rows of a table, cycled to `rows` rows: raw inputs (numbers unscaled, categories one-hot). */
function tableRows(data: TableData, rows: number): Float32Array {
  const D = data.features.length;
  return Float32Array.from({ length: rows * D }, (_, i) => data.inputs[(Math.floor(i / D) % data.rows) * D + (i % D)]);
}

/** A network trained on a vega-datasets table with its preprocessing (standardised inputs; for cars, targets). */
function tableCase(name: string, which: 'penguins' | 'cars', hidden: CreateMLPOptions): OnnxCase {
  return {
    name,
    network: () => {
      const { train } = tableData()[which];
      return { ...hidden, layers: [train.features.length, ...hidden.layers, train.outputs.length], seed: 1 };
    },
    fit: { epochs: 20 },
    train: () => ({ table: tableData()[which].train }),
    inputs: (rows) => tableRows(tableData()[which].test, rows),
  };
}

/**
 * Trained on 3,000 MNIST images (bytes: the files carry inputScale 1/255), predicted on test images;
 * and two networks trained on tables, predicted on their test rows.
 */
export const REAL_CASES: OnnxCase[] = [
  tableCase(
    'penguins (species): 4 standardised measurements, island and sex one-hot, [9, 16, 3] relu, softmax head',
    'penguins',
    { layers: [16] },
  ),
  tableCase(
    'cars (miles per gallon): 5 standardised columns, year and origin one-hot, [20, 16, 1] gelu, mse head, outputs unscaled',
    'cars',
    { layers: [16], activation: 'gelu', head: 'mse' },
  ),
  mnistCase('MNIST classifier [784, 64, 10] relu, softmax head', { layers: [784, 64, 10] }, (l) => [l]),
  {
    ...mnistCase(
      'MNIST as npm run train makes it: [784, 512, 10] relu, softmax head, momentum',
      { layers: [784, 512, 10] },
      (l) => [l],
    ),
    fit: { epochs: 2, optimizer: 'momentum', learningRate: 0.05, batchSize: 128 },
  },
  mnistCase(
    'MNIST regression [784, 32, 2] gelu, mse head (digit/9, and 1 for a digit ≥ 5)',
    { layers: [784, 32, 2], activation: 'gelu', head: 'mse' },
    (l) => [l / 9, l >= 5 ? 1 : 0],
  ),
  mnistCase(
    'MNIST [784, 64 BatchNorm1d relu dropout 0.2, 32 LayerNorm relu, 10], softmax head',
    { layers: [784, { units: 64, norm: 'batch', dropout: 0.2 }, { units: 32, norm: 'layer' }, 10] },
    (l) => [l],
  ),
  mnistCase(
    'MNIST multi-label [784, 32, 3] tanh, sigmoid head (even, ≥ 5, has a loop)',
    { layers: [784, 32, 3], activation: 'tanh', head: 'sigmoid' },
    (l) => [l % 2 === 0 ? 1 : 0, l >= 5 ? 1 : 0, [0, 6, 8, 9].includes(l) ? 1 : 0],
  ),
];

/** Trains the case's network a little, exports it, and predicts each batch with mlp.predict. */
export async function exportCase(c: OnnxCase): Promise<ExportedCase> {
  const mlp = await createMLP(typeof c.network === 'function' ? c.network() : c.network);
  try {
    const data = c.train();
    const options: FitOptions = { epochs: 3, batchSize: 32, optimizer: 'adam', learningRate: 0.01, seed: 1, ...c.fit };
    if ('table' in data) await mlp.fit(data.table, options);
    else await mlp.fit(data.x, data.y, options);
    const onnx = await toOnnx(mlp);
    const saved = decodeModel(await mlp.save());
    const params = toRefParams(saved.layout, saved.params);
    const running = toRefRunning(saved.layout, saved.running); // BatchNorm's, as training left them
    const D = mlp.layers[0];
    const C = mlp.layers[mlp.layers.length - 1];
    const json = saved.metadata.preprocessing;
    const pre = json === undefined ? undefined : decodePreprocessing(json, D, C, 'saved');
    const [inAffine, outAffine] = [pre && inputAffine(pre), pre && outputAffine(pre)];
    const batches = [];
    for (const rows of BATCHES) {
      const raw = c.inputs(rows);
      const expected = await mlp.predict(raw);
      // what the network's first layer sees, exactly: bytes as predict scales them, a table's affine in float64
      const seen = raw instanceof Uint8Array ? Float32Array.from(raw, (v) => v / 255) : Float64Array.from(raw);
      if (inAffine)
        for (let i = 0; i < seen.length; i++) seen[i] = seen[i] * inAffine.scale[i % D] + inAffine.shift[i % D];
      const exact = headOutputsRef(
        saved.spec,
        mlpForwardRef(saved.spec, params, seen, rows, { running }).logits,
        rows,
        C,
      );
      if (outAffine)
        for (let i = 0; i < exact.length; i++) exact[i] = exact[i] * outAffine.scale[i % C] + outAffine.shift[i % C];
      batches.push({ rows, inputs: Float32Array.from(raw), expected, exact });
    }
    const head = typeof mlp.head === 'string' ? mlp.head : mlp.head.name;
    return {
      name: c.name,
      onnx,
      output: head === 'mse' || head === 'huber' ? 'values' : 'probabilities',
      D,
      C,
      batches,
    };
  } finally {
    await mlp.destroy();
  }
}

/** The largest |a − b| over the elements (NaN anywhere gives NaN). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= max)) max = d; // NaN sticks
  }
  return max;
}

/**
 * A runtime's outputs for one batch against mlp.predict's and the exact (float64) ones; returns the
 * report line. The rule: within 1e-6 of predict, as issue 25 asks — plus one float32 unit in the last
 * place of the largest output (2⁻²³·max|v|: two float32 results of the same sum can be a rounding of
 * the result apart; 6e-8 for probabilities, 3.8e-6 for a car's miles per gallon in the thirties) —
 * unless predict's own float32 error (against float64) is over half of 1e-6, as for `[784, 512, 10]`
 * (784 and 512 products summed per output: predict is 1.3e-6 from the exact outputs there, 2.2e-6
 * for npm run train's fully trained network). Then the runtime must be at least as close to the
 * exact outputs as predict is, and so within twice predict's error of predict.
 */
export function compareOutputs(
  c: ExportedCase,
  batch: ExportedCase['batches'][number],
  got: ArrayLike<number>,
): string {
  const diff = maxAbsDiff(got, batch.expected);
  const runtimeError = maxAbsDiff(got, batch.exact);
  const predictError = maxAbsDiff(batch.expected, batch.exact);
  const resolution = 2 ** -23 * batch.expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const what = `${c.name}, batch ${batch.rows}`;
  expect(diff, `${what}: runtime against predict`).toBeLessThanOrEqual(
    Math.max(ONNX_TOLERANCE, 2 * predictError) + resolution,
  );
  expect(runtimeError, `${what}: runtime against float64`).toBeLessThanOrEqual(
    Math.max(ONNX_TOLERANCE, predictError) + resolution,
  );
  const e = (v: number) => v.toExponential(2);
  return `  ${what}: ${e(diff)} (from float64: runtime ${e(runtimeError)}, predict ${e(predictError)})`;
}
