// Regression in Node: a network learns y = sin(3x) + x/2 on [−1, 1] (1 input, 1 output) with the
// mean-squared-error head, GELU hidden layers and AdamW; then MSE and MAE on points it never saw.
//   npm install webgpu-mlp webgpu && node regression.mjs
import { createMLP, loadMLP } from 'webgpu-mlp';

const f = (x) => Math.sin(3 * x) + x / 2;
const grid = (n, offset) => Float32Array.from({ length: n }, (_, i) => -1 + (2 * (i + offset)) / n);
const x = grid(256, 0); // [256, 1]
const y = x.map(f); // [256, 1]: dense targets, one value per row

const mlp = await createMLP({ layers: [1, 32, 32, 1], activation: 'gelu', head: 'mse', seed: 1 });
const epochs = await mlp.fit(x, y, { epochs: 300, batchSize: 32, optimizer: 'adamw', learningRate: 0.01, seed: 1 });
console.log(`trained ${epochs.length} epochs: training MSE ${epochs.at(-1).trainLoss.toExponential(2)}`);

const xTest = grid(100, 0.5); // between the training points
const { mse, mae } = await mlp.evaluate(xTest, xTest.map(f));
console.log(`test MSE ${mse.toExponential(2)}, MAE ${mae.toExponential(2)}`);

const outputs = await mlp.predict(Float32Array.of(-0.5, 0, 0.5)); // the raw outputs: [3, 1]
for (const [i, v] of [-0.5, 0, 0.5].entries()) {
  console.log(`f(${v}) = ${f(v).toFixed(3)}, predicted ${outputs[i].toFixed(3)}`);
}
const again = await loadMLP(await mlp.save());
console.log(`reloaded: ${(await again.predict(Float32Array.of(0.5)))[0] === outputs[2] ? 'same' : 'different'} output`);
await again.destroy();
await mlp.destroy();
