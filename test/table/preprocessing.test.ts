/**
 * The preprocessing a table network carries (src/table/preprocessing.ts), on the CPU: statistics of the
 * training rows, the affines the GPU applies, imputation, names of predictions, and the JSON a model
 * file holds with every check of its reader.
 */
import { describe, expect, it } from 'vitest';
import { encodeTable } from '../../src/table/encode.js';
import {
  decodePreprocessing,
  encodePreprocessing,
  fitPreprocessing,
  imputeInputs,
  inputAffine,
  namePredictions,
  outputAffine,
  type Preprocessing,
  scaleTargets,
} from '../../src/table/preprocessing.js';
import { parseCsv } from '../../src/table/read.js';

const csv = 'x,c,k,y\n1,a,5,10.5\n2,b,5,20.5\n3,a,5,30.5\n6,a,5,40.5\n';

describe('fitPreprocessing', () => {
  const data = encodeTable(parseCsv(csv, { name: 't.csv' }), { target: 'y' });

  it('standardises with the population mean and standard deviation, as scikit-learn StandardScaler', () => {
    const pre = fitPreprocessing(data);
    expect(pre.inputs[0]).toEqual({ name: 'x', type: 'numeric', scaling: 'standardize', mean: 3, std: Math.sqrt(3.5) });
    expect(pre.inputs[1]).toEqual({ name: 'c', type: 'categorical', categories: ['a', 'b'] });
    // A constant column: std 0, only centred (scale 1).
    expect(pre.inputs[2]).toEqual({ name: 'k', type: 'numeric', scaling: 'standardize', mean: 5, std: 0 });
    expect(pre.target).toEqual({ type: 'regression', columns: ['y'], mean: [25.5], std: [Math.sqrt(125)] });
    const affine = inputAffine(pre);
    expect(Array.from(affine?.scale ?? [])).toEqual([Math.fround(1 / Math.sqrt(3.5)), 1, 1, 1]);
    expect(Array.from(affine?.shift ?? [])).toEqual([Math.fround(-3 / Math.sqrt(3.5)), 0, 0, -5]);
    expect(outputAffine(pre)).toEqual({ scale: Float32Array.of(Math.sqrt(125)), shift: Float32Array.of(25.5) });
    expect(Array.from(scaleTargets(Float32Array.of(10.5, 25.5), pre))).toEqual([Math.fround(-15 / Math.sqrt(125)), 0]);
  });

  it('min-max scales to [0, 1], and none leaves inputs and targets as they are', () => {
    const minmax = fitPreprocessing(data, 'minmax');
    expect(minmax.inputs[0]).toEqual({ name: 'x', type: 'numeric', scaling: 'minmax', min: 1, max: 6 });
    expect(Array.from(inputAffine(minmax)?.scale ?? []).slice(0, 1)).toEqual([Math.fround(0.2)]);
    const none = fitPreprocessing(data, 'none');
    expect(inputAffine(none)).toBeUndefined();
    expect(outputAffine(none)).toBeUndefined();
    expect(() => fitPreprocessing(data, 'zscore' as 'none')).toThrow(
      `scaling = "zscore" is invalid: expected 'standardize', 'minmax' or 'none'`,
    );
  });

  it('imputes from the training rows: the mean, and the most frequent category', () => {
    const gaps = encodeTable(parseCsv('x,c,y\n1,a,p\n,b,q\n3,,p\n5,b,q\n4,b,p\n', { name: 'g.csv' }), {
      target: 'y',
      missing: 'impute',
    });
    const pre = fitPreprocessing(gaps);
    expect(pre.inputs).toEqual([
      { name: 'x', type: 'numeric', scaling: 'standardize', mean: 13 / 4, std: expect.any(Number), impute: 13 / 4 },
      { name: 'c', type: 'categorical', categories: ['a', 'b'], impute: 'b' },
    ]);
    expect(Array.from(imputeInputs(gaps.inputs, pre, (r) => gaps.where(r)))).toEqual([
      1, 1, 0, 3.25, 0, 1, 3, 0, 1, 5, 0, 1, 4, 0, 1,
    ]);
    const strict = fitPreprocessing(encodeTable(parseCsv('x,y\n1,p\n2,q\n'), { target: 'y' }));
    expect(() => imputeInputs(Float32Array.of(1, Number.NaN), strict, (r) => `rows[${r}]`)).toThrow(
      `rows[1]: "x" has no value, and this network was trained without imputation (missing: 'impute'): give it a value, or leave the row out`,
    );
  });
});

describe('namePredictions', () => {
  it('names classes (any name, "__proto__" too) and values', () => {
    const pre: Preprocessing = {
      inputs: [{ name: 'x', type: 'numeric', scaling: 'none' }],
      target: { type: 'classification', columns: ['y'], classes: ['__proto__', 'b'] },
    };
    const [p] = namePredictions(Float32Array.of(0.25, 0.75), pre);
    expect(p).toEqual({ class: 'b', probability: 0.75, probabilities: { ['__proto__']: 0.25, b: 0.75 } });
    expect(Object.getPrototypeOf((p as { probabilities: object }).probabilities)).toBe(Object.prototype);
    const values: Preprocessing = {
      inputs: pre.inputs,
      target: { type: 'regression', columns: ['mpg', 'hp'], mean: [0, 0], std: [1, 1] },
    };
    expect(namePredictions(Float32Array.of(1, 2, 3, 4), values)).toEqual([
      { values: { mpg: 1, hp: 2 } },
      { values: { mpg: 3, hp: 4 } },
    ]);
  });
});

describe('the JSON of a model file', () => {
  const pre = fitPreprocessing(encodeTable(parseCsv(csv), { target: 'y' }));

  it('round-trips exactly', () => {
    const json = encodePreprocessing(pre);
    expect(decodePreprocessing(json, 4, 1, 'f')).toEqual(pre);
    expect(encodePreprocessing(decodePreprocessing(json, 4, 1, 'f'))).toBe(json);
  });

  it('is checked whole: each broken entry is named', () => {
    const bad = (change: (p: Record<string, unknown>) => void, D = 4, C = 1) => {
      const p = JSON.parse(encodePreprocessing(pre));
      change(p);
      return () => decodePreprocessing(JSON.stringify(p), D, C, 'f');
    };
    expect(bad((p) => (p.inputs = []))).toThrow(
      'f: metadata "preprocessing".inputs is [], expected a non-empty array of input columns',
    );
    expect(bad((p) => ((p.inputs as { type: string }[])[0].type = 'text'))).toThrow(
      'f: metadata "preprocessing".inputs[0].type is "text", expected "numeric" or "categorical"',
    );
    expect(bad((p) => ((p.inputs as { mean: unknown }[])[0].mean = 'NaN'))).toThrow(
      'f: metadata "preprocessing".inputs[0].mean is "NaN", expected a finite number',
    );
    expect(bad((p) => ((p.inputs as { categories: string[] }[])[1].categories = ['a', 'a']))).toThrow(
      'f: metadata "preprocessing".inputs[1].categories is ["a", "a"], expected distinct strings',
    );
    expect(bad((p) => ((p.inputs as { impute: string }[])[1].impute = 'z'))).toThrow(
      'f: metadata "preprocessing".inputs[1].impute is "z", expected one of its categories',
    );
    expect(bad((p) => ((p.inputs as { extra: number }[])[0].extra = 1))).toThrow(
      'f: metadata "preprocessing".inputs[0].extra is 1, expected no such key (name, type, scaling, mean, std, impute)',
    );
    expect(bad(() => {}, 5)).toThrow(`expected columns giving the network's 5 inputs (these give 4)`);
    expect(bad((p) => ((p.target as { std: number[] }).std = [0]))).toThrow(
      'f: metadata "preprocessing".target.std[0] is 0, expected a number > 0',
    );
    expect(bad((p) => ((p.target as { columns: string[] }).columns = ['x']))).toThrow(
      'f: metadata "preprocessing" is ["x", "c", "k"], expected input and target columns of distinct names',
    );
    expect(bad(() => {}, 4, 2)).toThrow(
      'f: metadata "preprocessing".target.columns is ["y"], expected 2 target columns, one per output',
    );
  });
});
