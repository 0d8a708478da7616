/**
 * MNIST with dropout and LayerNorm, and with BatchNorm, two epochs end to end: training, a run resumed
 * from a mid-epoch checkpoint file ending bit for bit as the uninterrupted one, the model saved, loaded
 * in webgpu-mlp/infer and in Python (examples/python/load_model.py: NumPy, and the torch nn.Sequential
 * where torch is installed), and the same predictions everywhere. On the first 6,000 training images by
 * default (SwiftShader is a CPU); MNIST_LAYERS_ROWS=60000 runs the whole set (docs/maths.md §12 gives
 * such a run's figures).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMnistNode } from '../../src/data/mnist_node.js';
import { loadPredictor } from '../../src/infer/mlp_predictor.js';
import { decodeCheckpoint, encodeCheckpoint, type MLPCheckpoint } from '../../src/io/checkpoint_file.js';
import { type CreateMLPOptions, createMLP, type FitOptions } from '../../src/mlp.js';
import { comparePython, LOAD_MODEL, npy, requirePython, run } from '../helpers/python.js';

const ROWS = Number(process.env.MNIST_LAYERS_ROWS ?? 6000);
const TEST_ROWS = 1000;
const work = mkdtempSync(join(tmpdir(), 'webgpu-mlp-mnist-layers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const NETWORKS: [string, CreateMLPOptions][] = [
  [
    '[784, {256, relu, dropout 0.2}, {256, relu, norm layer}, 10]',
    {
      layers: [
        784,
        { units: 256, activation: 'relu', dropout: 0.2 },
        { units: 256, activation: 'relu', norm: 'layer' },
        10,
      ],
      seed: 1,
    },
  ],
  [
    '[784, {256, relu, norm batch}, {128, relu, norm batch, dropout 0.1}, 10]',
    { layers: [784, { units: 256, norm: 'batch' }, { units: 128, norm: 'batch', dropout: 0.1 }, 10], seed: 1 },
  ],
];

describe(`MNIST (${ROWS} training images, 2 epochs) with dropout, LayerNorm and BatchNorm`, () => {
  NETWORKS.forEach(([name, network], n) => {
    it(`${name}: trains, resumes bit for bit from a mid-epoch checkpoint, and predicts the same in the library, webgpu-mlp/infer and Python`, async () => {
      const mnist = await loadMnistNode();
      const images = mnist.train.images.subarray(0, ROWS * 784);
      const labels = mnist.train.labels.subarray(0, ROWS);
      const test = mnist.test.images.subarray(0, TEST_ROWS * 784);
      const steps = Math.ceil(ROWS / 128);
      const options: FitOptions = {
        epochs: 2,
        batchSize: 128,
        optimizer: 'momentum',
        learningRate: 0.05,
        seed: 3,
        checkpointEvery: Math.floor(steps / 2),
        validation: { inputs: test, labels: mnist.test.labels.subarray(0, TEST_ROWS) },
      };
      const t0 = performance.now();
      const whole = await createMLP(network);
      const epochs = await whole.fit(images, labels, options);
      const wholeMs = performance.now() - t0;
      const saved = await whole.save();
      const expected = await whole.predict(test);

      // the same run, stopped in the middle of epoch 2, then resumed from its checkpoint file
      let middle: MLPCheckpoint | undefined;
      const first = await createMLP(network);
      const controller = new AbortController();
      await first.fit(images, labels, {
        ...options,
        signal: controller.signal,
        onCheckpoint: (cp) => {
          if (!middle && cp.epoch === 2 && cp.step > 0 && cp.step < steps) {
            middle = cp;
            controller.abort();
          }
        },
      });
      if (!middle) throw new Error('no checkpoint in the middle of epoch 2');
      const file = join(work, `mnist${n}.checkpoint`);
      writeFileSync(file, encodeCheckpoint(middle));
      const resumed = await createMLP({ ...network, seed: 99 });
      await resumed.fit(images, labels, { ...options, resume: decodeCheckpoint(new Uint8Array(readFileSync(file))) });
      expect(Buffer.from(await resumed.save()).equals(Buffer.from(saved)), 'the resumed run saves the same file').toBe(
        true,
      );

      // the saved file in webgpu-mlp/infer: the same probabilities, bit for bit
      const predictor = await loadPredictor(saved);
      expect(await predictor.predict(test)).toEqual(expected);

      // and in Python
      await requirePython();
      const model = join(work, `mnist${n}.safetensors`);
      const inputs = join(work, `mnist${n}.npy`);
      const out = join(work, `mnist${n}.json`);
      writeFileSync(model, saved);
      writeFileSync(inputs, npy(test, TEST_ROWS, 784));
      const python = await run(await comparePython(), [LOAD_MODEL, model, inputs, '--out', out]);
      expect(python.code, python.stderr).toBe(0);
      const rows = JSON.parse(readFileSync(out, 'utf8')) as { numpy: number[][]; torch: number[][] | null };
      const worst = (got: number[][]) => Math.max(...got.flat().map((v, i) => Math.abs(v - (expected[i] as number))));
      const numpy = worst(rows.numpy);
      const torch = rows.torch ? worst(rows.torch) : undefined;
      expect(numpy).toBeLessThan(1e-5);
      if (torch !== undefined) expect(torch).toBeLessThan(1e-5);

      const last = epochs.at(-1);
      console.log(
        `${name}: ${ROWS} images, 2 epochs in ${(wholeMs / 1000).toFixed(1)} s; test accuracy ${((last?.testAccuracy ?? 0) * 100).toFixed(2)}% ` +
          `(${TEST_ROWS} images); resumed from epoch 2 step ${middle.step}: the same file; infer: the same bits; ` +
          `Python max |Δ| NumPy ${numpy.toExponential(2)}${torch === undefined ? ' (no torch here)' : `, torch ${torch.toExponential(2)}`}`,
      );
      expect(last?.testAccuracy ?? 0).toBeGreaterThan(0.85);
      for (const m of [whole, first, resumed, predictor]) await m.destroy();
    }, 600_000); // three 2-epoch runs and a Python process: about 45 s on this machine when quiet, minutes under load
  });
});
