/**
 * Training in a dedicated worker: WebGPU works there as on the page (navigator.gpu), and the page
 * stays responsive. The trained network goes back as safetensors bytes; loadMLP() reads them.
 */
import { createMLP } from 'webgpu-mlp';

addEventListener('message', async (event: MessageEvent<{ x: Float32Array; y: Uint32Array }>) => {
  try {
    const { x, y } = event.data;
    const mlp = await createMLP({ layers: [2, 16, 2], activation: 'tanh', seed: 2 });
    await mlp.fit(x, y, {
      epochs: 25,
      batchSize: 64,
      learningRate: 0.05,
      onEpoch: (e) => postMessage({ type: 'epoch', epoch: e.epoch, loss: e.trainLoss }),
    });
    const model = await mlp.save();
    await mlp.destroy();
    postMessage({ type: 'done', model });
  } catch (error) {
    postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
});
