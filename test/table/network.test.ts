/**
 * Networks trained on tables (issue 21): the preprocessing fitted on the training rows and applied on
 * the GPU, named rows in and named predictions out, regression targets standardised for training and
 * unscaled in every output, and the preprocessing saved in the model file — honoured by loadMLP and
 * webgpu-mlp/infer's loadPredictor bit for bit, and surviving load → save.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPredictor } from '../../src/infer/mlp_predictor.js';
import { decodeModel } from '../../src/io/model_file.js';
import { createMLP, loadMLP, type MLP } from '../../src/mlp.js';
import { encodeTable, type TableData } from '../../src/table/encode.js';
import type { ClassPrediction, ValuePrediction } from '../../src/table/preprocessing.js';
import { parseCsv, readTable } from '../../src/table/read.js';
import { trainTestSplit } from '../../src/table/split.js';
import { vegaBytes } from '../helpers/datasets.js';
import { useGpuContext } from '../helpers/gpu.js';

const gpu = useGpuContext();

/** Two penguins as a person types them (keys in any order, the target and other keys ignored). */
const PENGUINS = [
  {
    Sex: 'FEMALE',
    Island: 'Dream',
    'Beak Length (mm)': 46.5,
    'Beak Depth (mm)': 17.9,
    'Flipper Length (mm)': 192,
    'Body Mass (g)': 3500,
  },
  {
    Island: 'Biscoe',
    'Beak Length (mm)': 47.6,
    'Beak Depth (mm)': 14.5,
    'Flipper Length (mm)': 215,
    'Body Mass (g)': 5400,
    Sex: 'MALE',
    note: 'x',
  },
];

describe('classification: penguins', () => {
  let data: TableData;
  let train: TableData;
  let test: TableData;
  let mlp: MLP;

  beforeAll(async () => {
    data = encodeTable(await readTable(vegaBytes('penguins.json'), { name: 'penguins.json' }), {
      target: 'Species',
      missing: 'drop',
    });
    ({ train, test } = trainTestSplit(data, { testSize: 0.2, seed: 1 }));
    mlp = await createMLP({ layers: [data.features.length, 16, data.outputs.length], seed: 1, device: gpu().device });
    await mlp.fit(train, { epochs: 20, batchSize: 32, learningRate: 0.01, validation: test });
  });

  it('trains on the table with its preprocessing fitted on the training rows only', async () => {
    const pre = mlp.preprocessing;
    const mass = pre?.inputs.find((c) => c.name === 'Body Mass (g)');
    const col = data.features.indexOf('Body Mass (g)');
    const mean = (d: TableData) => {
      let s = 0;
      for (let r = 0; r < d.rows; r++) s += d.inputs[r * d.features.length + col];
      return s / d.rows;
    };
    expect(mass).toMatchObject({ type: 'numeric', scaling: 'standardize' });
    expect(mass?.type === 'numeric' && mass.scaling === 'standardize' && mass.mean).toBeCloseTo(mean(train), 6);
    expect(mean(train)).not.toBeCloseTo(mean(data), 3);
    expect(pre?.target).toEqual({
      type: 'classification',
      columns: ['Species'],
      classes: ['Adelie', 'Chinstrap', 'Gentoo'],
    });
    expect(mlp.outputNames).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
  });

  it('evaluates table rows, naming the classes of its confusion matrix', async () => {
    const e = await mlp.evaluate(test);
    expect(e.accuracy).toBeGreaterThan(0.95);
    expect(e.classes).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(test.rows);
  });

  it('predicts named rows: the class and every class probability by name', async () => {
    const [dream, biscoe] = (await mlp.predict(PENGUINS)) as ClassPrediction[];
    expect([dream.class, biscoe.class]).toEqual(['Chinstrap', 'Gentoo']);
    expect(Object.keys(dream.probabilities)).toEqual(['Adelie', 'Chinstrap', 'Gentoo']);
    expect(dream.probability).toBe(dream.probabilities.Chinstrap);
    expect(Object.values(dream.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    // The same rows as typed arrays (raw features in the network's order) give the same numbers.
    const x = Float32Array.from(
      PENGUINS.flatMap((p) => [
        p.Island === 'Biscoe' ? 1 : 0,
        p.Island === 'Dream' ? 1 : 0,
        0,
        p['Beak Length (mm)'],
        p['Beak Depth (mm)'],
        p['Flipper Length (mm)'],
        p['Body Mass (g)'],
        0,
        p.Sex === 'FEMALE' ? 1 : 0,
        p.Sex === 'MALE' ? 1 : 0,
      ]),
    );
    const raw = await mlp.predict(x);
    expect(Array.from(raw.subarray(0, 3))).toEqual(Object.values(dream.probabilities));
  });

  it('saved, then loaded by loadPredictor: named rows give the live predictions bit for bit', async () => {
    const bytes = await mlp.save({ note: 'penguins' });
    const live = await mlp.predict(test);
    const predictor = await loadPredictor(bytes, { device: gpu().device });
    try {
      expect(predictor.preprocessing).toEqual(mlp.preprocessing);
      expect(await predictor.predict(test)).toEqual(live);
      expect(await predictor.predict(PENGUINS)).toEqual(await mlp.predict(PENGUINS));
      expect(await predictor.predict(test.inputs.subarray(0, 20))).toEqual(
        await mlp.predict(test.inputs.subarray(0, 20)),
      );
    } finally {
      await predictor.destroy();
    }
  });

  it('loadMLP → save keeps the preprocessing and the metadata; the loaded network predicts the same', async () => {
    const bytes = await mlp.save({ note: 'penguins' });
    const loaded = await loadMLP(bytes, { device: gpu().device });
    try {
      expect(loaded.preprocessing).toEqual(mlp.preprocessing);
      expect(await loaded.predict(test)).toEqual(await mlp.predict(test));
      const again = decodeModel(await loaded.save());
      expect(again.metadata).toEqual(decodeModel(bytes).metadata);
      // Training on continues with the same preprocessing; another table's columns are refused.
      await loaded.fit(train, { epochs: 1 });
      expect(loaded.preprocessing).toEqual(mlp.preprocessing);
      const other = encodeTable(parseCsv('a,Species\n1,x\n2,y\n'), { target: 'Species' });
      await expect(loaded.fit(other)).rejects.toThrow(
        /the data \(CSV\) has the input columns \["a"\]; this network was trained on \["Island" \("Biscoe", "Dream", "Torgersen"\)/,
      );
      await expect(loaded.fit(train, { scaling: 'minmax' })).rejects.toThrow(
        "options.scaling = 'minmax', but this network's inputs are scaled with 'standardize' since its first fit on a table: leave scaling out",
      );
    } finally {
      await loaded.destroy();
    }
  });

  it('refuses a category it was not trained on, naming the row and column, or gives it no category when told', async () => {
    const row = { ...PENGUINS[0], Island: 'Atlantis' };
    await expect(mlp.predict([PENGUINS[1], row])).rejects.toThrow(
      `rows[1]: "Island" is "Atlantis", a category the network was not trained on (it knows "Biscoe", "Dream", "Torgersen"); predict with unknownCategory: 'ignore' (--unknown-category ignore) to give such rows no category`,
    );
    const [p] = (await mlp.predict([row], { unknownCategory: 'ignore' })) as ClassPrediction[];
    expect(Object.keys(p.probabilities)).toHaveLength(3);
    await expect(mlp.predict([{ ...PENGUINS[0], 'Body Mass (g)': null }])).rejects.toThrow(
      `rows[0]: "Body Mass (g)" has no value, and this network was trained without imputation (missing: 'impute'): give it a value, or leave the row out`,
    );
    await expect(mlp.predict([{ Island: 'Dream' }])).rejects.toThrow(
      /^rows has no column "Beak Length \(mm\)" \(an input of the network\)/,
    );
  });
});

describe('regression: cars', () => {
  let train: TableData;
  let test: TableData;
  let mlp: MLP;

  beforeAll(async () => {
    const data = encodeTable(await readTable(vegaBytes('cars.json'), { name: 'cars.json' }), {
      target: 'Miles_per_Gallon',
      ignore: ['Name'],
      missing: 'drop',
    });
    ({ train, test } = trainTestSplit(data, { testSize: 0.2, seed: 1 }));
    mlp = await createMLP({ layers: [data.features.length, 16, 1], head: 'mse', seed: 1, device: gpu().device });
    await mlp.fit(train, { epochs: 40, batchSize: 32, learningRate: 0.01 });
  });

  it('trains on standardised targets; evaluate reports MSE, MAE and R² in miles per gallon', async () => {
    const pre = mlp.preprocessing;
    expect(pre?.target.type === 'regression' && pre.target.mean[0]).toBeGreaterThan(20);
    const e = await mlp.evaluate(test);
    expect(e.r2).toBeGreaterThan(0.7);
    expect(e.mae).toBeGreaterThan(0.5); // miles per gallon, not standard deviations
    expect(e.mae).toBeLessThan(5);
    const outputs = e.outputs as Float32Array;
    expect(outputs).toEqual(await mlp.predict(test.inputs));
    let se = 0;
    for (let i = 0; i < test.rows; i++) se += (outputs[i] - (test.values as Float32Array)[i]) ** 2;
    expect(e.mse).toBeCloseTo(se / test.rows, 3);
  });

  it('unscales every output: named, host and GPU-buffer predictions agree, and loadPredictor gives them bit for bit', async () => {
    const named = (await mlp.predict(test)) as ValuePrediction[];
    const host = await mlp.predict(test.inputs);
    expect(named.map((p) => p.values.Miles_per_Gallon)).toEqual(Array.from(host));
    const { device } = mlp;
    const input = device.createBuffer({
      size: test.inputs.byteLength,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(input, 0, test.inputs as Float32Array<ArrayBuffer>);
    const output = await mlp.predict({ buffer: input, count: test.rows });
    const staging = device.createBuffer({
      size: output.size,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(output, 0, staging, 0, output.size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    expect(new Float32Array(staging.getMappedRange().slice(0))).toEqual(host);
    for (const b of [input, output, staging]) b.destroy();
    const predictor = await loadPredictor(await mlp.save(), { device });
    try {
      expect(await predictor.predict(test)).toEqual(named);
    } finally {
      await predictor.destroy();
    }
  });
});

describe('missing values imputed', () => {
  it("fills inputs with the training rows' mean and most frequent category, in training and in prediction", async () => {
    const rows = ['x,c,y'];
    for (let i = 0; i < 40; i++)
      rows.push(`${i % 5 === 0 ? '' : i},${i % 7 === 0 ? '' : i % 3 ? 'a' : 'b'},${i < 20 ? 'lo' : 'hi'}`);
    const data = encodeTable(parseCsv(rows.join('\n'), { name: 'm.csv' }), { target: 'y', missing: 'impute' });
    const mlp = await createMLP({ layers: [3, 8, 2], seed: 2, device: gpu().device });
    try {
      await mlp.fit(data, { epochs: 5, batchSize: 8, learningRate: 0.05 });
      const [x, c] = mlp.preprocessing?.inputs ?? [];
      const present = Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 5 !== 0);
      expect(x).toMatchObject({ name: 'x', impute: present.reduce((a, b) => a + b, 0) / present.length });
      expect(c).toMatchObject({ name: 'c', categories: ['a', 'b'], impute: 'a' });
      const [withGaps, filled] = (await mlp.predict([
        { x: null, c: null },
        { x: (x as { impute: number }).impute, c: 'a' },
      ])) as ClassPrediction[];
      expect(withGaps).toEqual(filled);
    } finally {
      await mlp.destroy();
    }
  });
});

describe('what a table network refuses', () => {
  it('names what is wrong: the shape, named rows without preprocessing, scaling of typed arrays, validationSplit', async () => {
    const data = encodeTable(parseCsv('a,b,y\n1,x,p\n2,z,q\n3,x,p\n4,z,q\n', { name: 't.csv' }), { target: 'y' });
    const mlp = await createMLP({ layers: [2, 4, 2], seed: 1, device: gpu().device });
    try {
      await expect(mlp.fit(data)).rejects.toThrow(
        `the table t.csv has 3 inputs and 2 classes (classification); this network is [2, 4, 2] with the "softmax" head: create it with layers [3, 4, 2] (data.features.length, data.outputs.length, data.head)`,
      );
      await expect(mlp.predict([{ a: 1, b: 'x' }])).rejects.toThrow(
        'predict: named rows (a table, TableData or row objects) need a network trained on a table (fit(data)) or loaded from such a file; this network has no preprocessing: give it numbers (Float32Array [count, D])',
      );
      await expect(mlp.fit(new Float32Array(4), [0, 1], { scaling: 'standardize' })).rejects.toThrow(
        'options.scaling is for tables (fit(data) with encodeTable rows); typed arrays are trained on as they are',
      );
      const right = await createMLP({ layers: [3, 4, 2], seed: 1, device: gpu().device });
      await expect(right.fit(data, { validationSplit: 0.25 })).rejects.toThrow(
        'options.validationSplit takes the last rows (as Keras): for a table, split it with trainTestSplit(data, { testSize, seed }) (shuffled, stratified by class) and pass validation: test',
      );
      expect(right.preprocessing).toBeUndefined(); // a rejected fit leaves the network as it was
      await right.destroy();
    } finally {
      await mlp.destroy();
    }
  });

  it('loadMLP and loadPredictor refuse a file whose preprocessing is broken, naming the entry', async () => {
    const data = encodeTable(parseCsv('a,y\n1,p\n2,q\n', { name: 't.csv' }), { target: 'y' });
    const mlp = await createMLP({ layers: [1, 2], seed: 1, device: gpu().device });
    await mlp.fit(data);
    const file = decodeModel(await mlp.save());
    await mlp.destroy();
    const { encodeModel } = await import('../../src/io/model_file.js');
    const broken = (json: string) => encodeModel(file.spec, file.params, {}, json);
    const pre = JSON.parse(file.metadata.preprocessing as string);
    const cases: [string, string][] = [
      ['{', 'model file: metadata "preprocessing" is not valid JSON: "{"'],
      [
        JSON.stringify({ ...pre, target: { ...pre.target, classes: ['p'] } }),
        'model file: metadata "preprocessing".target.classes is ["p"], expected an array of at least 2 distinct strings',
      ],
      [
        JSON.stringify({ ...pre, inputs: [{ ...pre.inputs[0], std: -1 }] }),
        'model file: metadata "preprocessing".inputs[0].std is -1, expected a finite number ≥ 0',
      ],
      [
        JSON.stringify({ ...pre, inputs: [pre.inputs[0], { name: 'b', type: 'numeric', scaling: 'none' }] }),
        `model file: metadata "preprocessing".inputs is ["a", "b"], expected columns giving the network's 1 inputs (these give 2)`,
      ],
    ];
    for (const [json, message] of cases) {
      await expect(loadMLP(broken(json), { device: gpu().device })).rejects.toThrow(message);
      await expect(loadPredictor(broken(json), { device: gpu().device })).rejects.toThrow(message);
    }
    // The file's own key: save() refuses it as metadata.
    const again = await loadMLP(broken(file.metadata.preprocessing as string), { device: gpu().device });
    await expect(again.save({ preprocessing: '{}' })).rejects.toThrow('metadata["preprocessing"] is the file\'s own');
    await again.destroy();
  });
});
