/**
 * PyTorch / NumPy interop: networks trained and saved by the library here (on the GPU) are loaded by
 * examples/python/load_model.py, and its predictions must be those of `mlp.predict`. One network per
 * head, the six activations among them (leakyRelu with a slope that is not the default, gelu in its
 * tanh approximation), one trained on bytes, whose file carries `inputScale`, and networks with
 * LayerNorm, BatchNorm and dropout.
 *
 * Needs `python3` (or $PYTHON) with numpy and safetensors; without them every test here fails with
 * what to install (`bash .ci/run` installs them). torch is optional: where a python with torch, numpy and
 * safetensors is found (comparePython: $PYTHON_TORCH, python3, /usr/bin/python3) the predictions are
 * compared with it, the script's torch.nn.Sequential included; otherwise the output says that path did not run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { createMLP, type MLP } from '../../src/mlp.js';
import type { Activation, Head, NetworkOptions } from '../../src/model/spec.js';
import { encodeTable } from '../../src/table/encode.js';
import { parseCsv } from '../../src/table/read.js';
import { ATOL, comparePython, LOAD_MODEL, npy, PYTHON, RTOL, requirePython, run } from '../helpers/python.js';
import { randomArray, randomInts } from '../helpers/random.js';

const SCRIPT = LOAD_MODEL;

interface Diff {
  maxAbs: number;
  maxRel: number;
  /** The first element outside ATOL + RTOL·|expected|, for the failure message. */
  worst?: string;
}

function compare(actual: readonly (readonly number[])[], expected: Float32Array, cols: number): Diff {
  const flat = actual.flat();
  expect(flat.length, 'rows × outputs').toBe(expected.length);
  let maxAbs = 0;
  let maxRel = 0;
  let worst: string | undefined;
  flat.forEach((v, i) => {
    const d = Math.abs(v - expected[i]);
    maxAbs = Math.max(maxAbs, d);
    maxRel = Math.max(maxRel, d / Math.max(Math.abs(v), 1e-30));
    if (!(d <= ATOL + RTOL * Math.abs(v)) && worst === undefined) {
      worst = `[${Math.floor(i / cols)}, ${i % cols}]: python ${v}, mlp.predict ${expected[i]}`;
    }
  });
  return { maxAbs, maxRel, worst };
}

let work: string;
let torchReported = false;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'webgpu-mlp-python-'));
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

interface Case {
  name: string;
  layers: NetworkOptions['layers'];
  activation: Activation | Activation[];
  head: Head;
  /** Training targets for `count` rows of inputs x. */
  targets(x: Float32Array, count: number): Float32Array | Uint32Array;
  bytes?: boolean;
}

/** Dense targets [count, C] from the inputs: each output a smooth function of two inputs. */
function dense(C: number, D: number, f: (a: number, b: number) => number) {
  return (x: Float32Array, count: number) =>
    Float32Array.from({ length: count * C }, (_, i) => {
      const r = Math.floor(i / C);
      const c = i % C;
      return f(x[r * D + (c % D)], x[r * D + ((c + 1) % D)]);
    });
}

const CASES: Case[] = [
  {
    name: 'softmax head, relu',
    layers: [3, 8, 4],
    activation: 'relu',
    head: 'softmax',
    targets: (_x, count) => randomInts(count, 11, 4),
  },
  {
    name: 'sigmoid head, tanh',
    layers: [3, 8, 2],
    activation: 'tanh',
    head: 'sigmoid',
    targets: dense(2, 3, (a, b) => (a + b > 0 ? 1 : 0)),
  },
  {
    name: 'mse head, gelu',
    layers: [3, 8, 2],
    activation: 'gelu',
    head: 'mse',
    targets: dense(2, 3, (a, b) => Math.sin(2 * a) + b),
  },
  {
    name: 'huber head (delta 0.5), leakyRelu (slope 0.2)',
    layers: [3, 8, 8, 2],
    activation: { name: 'leakyRelu', slope: 0.2 },
    head: { name: 'huber', delta: 0.5 },
    targets: dense(2, 3, (a, b) => a * b - Math.abs(a)),
  },
  {
    name: 'trained on bytes (inputScale 1/255), sigmoid and linear hidden layers',
    layers: [6, 8, 8, 3],
    activation: ['sigmoid', 'linear'],
    head: 'softmax',
    targets: (_x, count) => randomInts(count, 12, 3),
    bytes: true,
  },
  {
    name: 'LayerNorm and dropout (nn.LayerNorm, nn.Dropout: none in evaluation), relu',
    layers: [3, { units: 8, norm: 'layer', dropout: 0.3 }, { units: 6, dropout: 0.5 }, 4],
    activation: 'relu',
    head: 'softmax',
    targets: (_x, count) => randomInts(count, 13, 4),
  },
  {
    name: 'BatchNorm (nn.BatchNorm1d: its running statistics in evaluation, momentum 0.3), tanh and gelu, mse head',
    layers: [
      3,
      { units: 8, norm: { name: 'batch', momentum: 0.3 } },
      { units: 6, activation: 'gelu', norm: 'batch' },
      2,
    ],
    activation: 'tanh',
    head: 'mse',
    targets: dense(2, 3, (a, b) => Math.cos(a) - b),
  },
];

describe('examples/python/load_model.py against mlp.predict', () => {
  it('examples/python/load_model.py: python3 with numpy and safetensors is installed', async () => {
    await requirePython();
  });

  CASES.forEach((c, n) => {
    it(`examples/python/load_model.py: ${c.name}`, async () => {
      await requirePython();
      const D = c.layers[0] as number;
      const C = c.layers[c.layers.length - 1] as number;
      const count = 64;
      // Inputs in [−2, 2] (both sides of every activation's bend), or bytes 0..255.
      const x = randomArray(count * D, 100 + n, 2);
      const bytes = Uint8Array.from(x, (v) => Math.round((v + 2) * 63.75));
      const mlp: MLP = await createMLP({ layers: c.layers, activation: c.activation, head: c.head, seed: n + 1 });
      try {
        await mlp.fit(c.bytes ? bytes : x, c.targets(x, count), {
          epochs: 3,
          batchSize: 16,
          optimizer: 'adam',
          learningRate: 0.01,
          seed: 1,
        });
        const rows = 20;
        const inputs = c.bytes ? bytes.subarray(0, rows * D) : x.subarray(0, rows * D);
        const expected = await mlp.predict(inputs);

        const model = join(work, `case${n}.safetensors`);
        const inputFile = join(work, `case${n}.npy`);
        const outFile = join(work, `case${n}.json`);
        writeFileSync(model, await mlp.save());
        writeFileSync(inputFile, npy(inputs, rows, D));
        const result = await run(await comparePython(), [SCRIPT, model, inputFile, '--out', outFile]);
        expect(result.code, `load_model.py failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
        if (c.bytes) expect(result.stderr).toMatch(/input scale 0\.00392157/);

        const out = JSON.parse(readFileSync(outFile, 'utf8')) as {
          numpy: number[][];
          torch: number[][] | null;
        };
        const numpy = compare(out.numpy, expected, C);
        console.log(
          `${c.name}: NumPy vs mlp.predict max |Δ| ${numpy.maxAbs.toExponential(2)}, max rel ${numpy.maxRel.toExponential(2)}`,
        );
        expect(numpy.worst, `NumPy outside ${ATOL} + ${RTOL}·|x|`).toBeUndefined();
        if (out.torch) {
          const torch = compare(out.torch, expected, C);
          console.log(`${c.name}: torch vs mlp.predict max |Δ| ${torch.maxAbs.toExponential(2)}`);
          expect(torch.worst, `torch outside ${ATOL} + ${RTOL}·|x|`).toBeUndefined();
        } else if (!torchReported) {
          torchReported = true;
          console.log('torch is not installed: the PyTorch path of load_model.py was not exercised (NumPy only)');
        }
      } finally {
        await mlp.destroy();
      }
    });
  });
});

describe('examples/python/load_model.py on a table network: from the raw rows, its preprocessing included', () => {
  /** Rows as a person's CSV has them: unscaled numbers, text categories, a few missing cells. */
  function csv(rows: number, seed: number): string {
    const x = randomArray(rows * 3, seed, 1);
    const lines = ['site,area,depth,note,kind,yield'];
    for (let r = 0; r < rows; r++) {
      const [a, b, c] = [x[3 * r], x[3 * r + 1], x[3 * r + 2]];
      const site = ['north', 'south', 'east'][r % 3];
      const area = (1500 + 900 * a).toFixed(1); // in the thousands
      const depth = r % 7 === 3 ? '' : (0.05 * b).toFixed(4); // tiny, with gaps
      const note = r % 5 === 0 ? 'NA' : c > 0 ? 'wet' : 'dry';
      const kind = a + b > 0.3 ? 'high' : a - c > 0 ? 'mid' : 'low';
      const y = (40 + 12 * a - 8 * b + (site === 'east' ? 5 : 0)).toFixed(3); // tens
      lines.push(`${site},${area},${depth},${note},${kind},${y}`);
    }
    return `${lines.join('\n')}\n`;
  }

  for (const [task, target, ignore] of [
    ['classification', 'kind', 'yield'],
    ['regression', 'yield', 'kind'],
  ] as const) {
    it(`examples/python/load_model.py: a ${task} table network, standardised, one-hot, imputed: within 1e-6 of mlp.predict`, async () => {
      await requirePython();
      const text = csv(120, task === 'classification' ? 21 : 22);
      const data = encodeTable(parseCsv(text, { name: 'rows.csv' }), { target, ignore: [ignore], missing: 'impute' });
      const mlp = await createMLP({
        layers: [data.features.length, 12, data.outputs.length],
        head: data.head,
        seed: 3,
      });
      try {
        await mlp.fit(data, { epochs: 5, batchSize: 16, learningRate: 0.01, seed: 1 });
        const model = join(work, `table-${task}.safetensors`);
        const rowsFile = join(work, `table-${task}.csv`);
        const outFile = join(work, `table-${task}.json`);
        writeFileSync(model, await mlp.save());
        writeFileSync(rowsFile, text);
        const expected = (await mlp.predict(parseCsv(text, { name: 'rows.csv' }))).flatMap((p) =>
          'class' in p ? Object.values(p.probabilities) : Object.values(p.values),
        );
        const result = await run(PYTHON, [SCRIPT, model, rowsFile, '--out', outFile]);
        expect(result.code, `load_model.py failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
        const out = JSON.parse(readFileSync(outFile, 'utf8')) as { names: string[]; numpy: number[][] };
        expect(out.names).toEqual(data.outputs);
        // Within 1e-6: absolute for probabilities, relative for values in the tens (float32 resolves 2e-6 at 20).
        let worst = 0;
        out.numpy.flat().forEach((v, i) => {
          worst = Math.max(worst, Math.abs(v - expected[i]) / Math.max(1, Math.abs(v)));
        });
        console.log(
          `${task} table network: NumPy from the raw CSV vs mlp.predict, max |Δ|/max(1, |y|) ${worst.toExponential(2)}`,
        );
        expect(worst).toBeLessThanOrEqual(1e-6);
      } finally {
        await mlp.destroy();
      }
    });
  }

  it('examples/python/load_model.py: named rows need a table network; a row it cannot read is named', async () => {
    await requirePython();
    const mlp = await createMLP({ layers: [2, 3, 2], seed: 1 });
    const plain = join(work, 'plain.safetensors');
    try {
      writeFileSync(plain, await mlp.save());
    } finally {
      await mlp.destroy();
    }
    const rows = join(work, 'few.csv');
    writeFileSync(rows, 'a,b\n1,2\n');
    const result = await run(PYTHON, [SCRIPT, plain, rows]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${plain}: not trained on a table (no preprocessing): give inputs as .npy`);
  });
});

describe('examples/python/load_model.py errors', () => {
  it('examples/python/load_model.py: a usage message without arguments', async () => {
    await requirePython();
    const result = await run(PYTHON, [SCRIPT]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/usage: load_model\.py .*model inputs/);
  });

  it('examples/python/load_model.py: files that are not ours name the file and what was expected', async () => {
    await requirePython();
    const inputs = join(work, 'one.npy');
    writeFileSync(inputs, npy(new Float32Array(3), 1, 3));

    const other = join(work, 'other.safetensors');
    writeFileSync(other, encodeSafetensors([{ name: 'w', shape: [1], data: new Float32Array(1) }], { format: 'x/2' }));
    const wrongFormat = await run(PYTHON, [SCRIPT, other, inputs]);
    expect(wrongFormat.code).toBe(1);
    expect(wrongFormat.stderr).toContain(`${other}: metadata format is "x/2", expected "webgpu-mlp/1"`);

    const bare = join(work, 'bare.safetensors');
    writeFileSync(bare, encodeSafetensors([{ name: 'w', shape: [1], data: new Float32Array(1) }]));
    const noFormat = await run(PYTHON, [SCRIPT, bare, inputs]);
    expect(noFormat.code).toBe(1);
    expect(noFormat.stderr).toContain(`${bare}: metadata format is null, expected "webgpu-mlp/1"`);

    const text = join(work, 'notes.txt');
    writeFileSync(text, 'not a model\n');
    const notSafetensors = await run(PYTHON, [SCRIPT, text, inputs]);
    expect(notSafetensors.code).toBe(1);
    expect(notSafetensors.stderr).toContain(`${text}: not a safetensors file`);
  });

  it('examples/python/load_model.py: inputs of the wrong width are refused', async () => {
    await requirePython();
    const mlp = await createMLP({ layers: [3, 4, 2], seed: 1 });
    const model = join(work, 'small.safetensors');
    try {
      writeFileSync(model, await mlp.save());
    } finally {
      await mlp.destroy();
    }
    const inputs = join(work, 'wide.npy');
    writeFileSync(inputs, npy(new Float32Array(10), 2, 5));
    const result = await run(PYTHON, [SCRIPT, model, inputs]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${inputs}: inputs have shape [2, 5], expected [count, 3] for this network`);
  });
});
