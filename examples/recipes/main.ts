/**
 * Recipes, each a function: training on your own GPUDevice, reading the weights as GPU buffers,
 * saving and loading, and training in a worker. The page runs them all on a small XOR problem and
 * prints a report (the package tests check it in headless Chromium).
 *
 *   npx vite -c examples/vite.config.ts      then open /recipes/
 */
import { createMLP, loadMLP, type MLP } from 'webgpu-mlp';

/** XOR in four noisy clusters around (±0.5, ±0.5): class 1 where exactly one coordinate is positive. */
function xor(n: number): { x: Float32Array; y: Uint32Array } {
  const x = new Float32Array(n * 2);
  const y = new Uint32Array(n);
  let seed = 7;
  const noise = () => {
    seed = (seed * 1664525 + 1013904223) >>> 0; // a small LCG: the same data on every run
    return (seed / 2 ** 32 - 0.5) * 0.5;
  };
  for (let i = 0; i < n; i++) {
    const a = i % 2;
    const b = (i >> 1) % 2;
    x[2 * i] = (a ? 0.5 : -0.5) + noise();
    x[2 * i + 1] = (b ? 0.5 : -0.5) + noise();
    y[i] = a ^ b;
  }
  return { x, y };
}

// #region own-device
// Recipe: train on your own device. The network shares it and never destroys it.
async function trainOnMyDevice(x: Float32Array, y: Uint32Array): Promise<{ device: GPUDevice; mlp: MLP }> {
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('WebGPU: no adapter');
  const device = await adapter.requestDevice();
  const mlp = await createMLP({ layers: [2, 16, 2], activation: 'tanh', seed: 1, device });
  await mlp.fit(x, y, { epochs: 25, batchSize: 64, learningRate: 0.05 });
  return { device, mlp };
}
// #endregion

// #region weights
// Recipe: read a weight matrix from its GPU buffer. `mlp.weights[l].weight` is a GPUBufferBinding
// (buffer, offset, size) you can also bind in your own shaders: f32, row-major [layers[l], layers[l+1]].
async function readWeight(mlp: MLP, layer: number): Promise<Float32Array> {
  const { buffer, offset = 0, size = buffer.size - offset } = mlp.weights[layer].weight;
  const staging = mlp.device.createBuffer({ size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const encoder = mlp.device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  mlp.device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const values = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return values;
}
// #endregion

// #region save-load
// Recipe: save (safetensors bytes, readable by PyTorch) and load.
async function saveAndLoad(mlp: MLP, device: GPUDevice): Promise<MLP> {
  const bytes = await mlp.save({ task: 'xor' }); // a Uint8Array: write it to a file, IndexedDB, a download…
  return loadMLP(bytes, { device });
}
// #endregion

// #region worker
// Recipe: train in a worker (see worker.ts), keep the page responsive, get the model back as bytes.
function trainInWorker(x: Float32Array, y: Uint32Array, onEpoch: (epoch: number) => void): Promise<Uint8Array> {
  const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  return new Promise<Uint8Array>((resolve, reject) => {
    worker.onmessage = (event) => {
      const message = event.data;
      if (message.type === 'epoch') onEpoch(message.epoch);
      else {
        worker.terminate();
        if (message.type === 'done') resolve(message.model);
        else reject(new Error(message.message));
      }
    };
    worker.onerror = (event) => reject(new Error(event.message));
    worker.postMessage({ x, y });
  });
}
// #endregion

const status = document.querySelector<HTMLElement>('#status')!;
const report = document.querySelector<HTMLElement>('#report')!;

async function main(): Promise<void> {
  const { x, y } = xor(256);
  status.dataset.state = 'running';

  status.textContent = 'Training on my device…';
  const { device, mlp } = await trainOnMyDevice(x, y);
  const { accuracy } = await mlp.evaluate(x, y);
  const sharedDevice = mlp.device === device;

  const w0 = await readWeight(mlp, 0);
  const loaded = await saveAndLoad(mlp, device);
  const [p, q] = await Promise.all([mlp.predict(x), loaded.predict(x)]);
  const loadedMaxDiff = p.reduce((m, v, i) => Math.max(m, Math.abs(v - q[i])), 0);
  const w0Loaded = await readWeight(loaded, 0);
  await loaded.destroy();
  await mlp.destroy();

  status.textContent = 'Training in a worker…';
  let workerEpochs = 0;
  const bytes = await trainInWorker(x, y, (epoch) => {
    workerEpochs = epoch;
  });
  // mlp.destroy() left our device alone: the worker's network loads and runs on it.
  const fromWorker = await loadMLP(bytes, { device });
  const workerAccuracy = (await fromWorker.evaluate(x, y)).accuracy;
  await fromWorker.destroy();
  device.destroy(); // ours, so ours to destroy

  report.textContent = JSON.stringify(
    {
      accuracy,
      sharedDevice,
      weight0: {
        length: w0.length,
        finite: w0.every(Number.isFinite),
        sameAfterLoad: w0.every((v, i) => v === w0Loaded[i]),
      },
      loadedMaxDiff,
      workerEpochs,
      workerModelBytes: bytes.length,
      workerAccuracy,
    },
    null,
    2,
  );
  status.textContent = 'Done';
  status.dataset.state = 'done';
}

main().catch((error: unknown) => {
  status.textContent = `Failed: ${error instanceof Error ? error.message : String(error)}`;
  status.dataset.state = 'failed';
  console.error(error);
});
