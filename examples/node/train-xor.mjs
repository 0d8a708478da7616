// XOR in Node: WebGPU through the `webgpu` package (Dawn), on a GPU or on SwiftShader.
//   npm install webgpu-mlp webgpu && node train-xor.mjs
// On Linux with neither a GPU nor Debian's chromium, add the packaged SwiftShader (no root needed):
//   npm install @sparticuz/chromium
import { createMLP } from 'webgpu-mlp';
import { findWebGpuRuntime } from 'webgpu-mlp/node';

// Before the first createMLP: finds the GPU, or a software one (SwiftShader), and sets Dawn up for it.
const runtime = findWebGpuRuntime();
console.log(`WebGPU runtime: ${runtime.summary}`);
if (runtime.kind === 'none') console.log(runtime.problem);

const x = new Float32Array([0, 0, 0, 1, 1, 0, 1, 1]); // four points, [4, 2] row-major
const y = new Uint32Array([0, 1, 1, 0]); // their classes

const mlp = await createMLP({ layers: [2, 8, 2], activation: 'tanh', seed: 1 });
const epochs = await mlp.fit(x, y, { epochs: 150, batchSize: 4, learningRate: 0.05 });
console.log(`trained ${epochs.length} epochs: loss ${epochs.at(-1).trainLoss.toFixed(4)}`);

const probabilities = await mlp.predict(x); // [4, 2]: P(class 0), P(class 1) per point
for (let i = 0; i < 4; i++) {
  const p = probabilities[2 * i + 1];
  console.log(`xor(${x[2 * i]}, ${x[2 * i + 1]}) = ${p > 0.5 ? 1 : 0}  (p = ${p.toFixed(3)})`);
}
const { accuracy } = await mlp.evaluate(x, y);
console.log(`accuracy ${accuracy}`);
await mlp.destroy();
