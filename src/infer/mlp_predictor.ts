/**
 * loadPredictor: a saved network loaded for inference only (MLPPredictor), on your device or one it
 * requests; a network trained on a table loads with its preprocessing, from a chunk of its own
 * (src/infer/named.ts), so that files without one keep the entry small. The class is in
 * src/infer/network.ts, which the chunk extends.
 */
import { GpuContext } from '../gpu/context.js';
import { decodeModel } from '../io/model_file.js';
import type { FileBytes } from '../io/safetensors.js';
import { checkOptions, fail } from '../params.js';
import { MLPPredictor } from './network.js';

export { MLPPredictor };

export interface LoadPredictorOptions {
  /** Your application's GPUDevice: shared, never destroyed, its error handlers left alone. */
  device?: GPUDevice;
  /** Prefix of every GPU object's label. Default `'mlp'`. */
  label?: string;
}

/**
 * Loads a network saved by `mlp.save()` or `npm run train` for inference only (see MLPPredictor). Bad
 * files give errors that say what is wrong, and leave nothing allocated.
 */
export async function loadPredictor(bytes: FileBytes, options: LoadPredictorOptions = {}): Promise<MLPPredictor> {
  checkOptions(options, ['device', 'label'], 'an object { device?, label? }, or nothing');
  const { label = 'mlp' } = options;
  if (typeof label !== 'string' || label === '') fail('options.label', label, 'a non-empty string');
  const file = decodeModel(bytes, 'model file');
  const json = file.metadata.preprocessing;
  const ctx = await GpuContext.create({ device: options.device });
  try {
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    // The parameters, and BatchNorm's running statistics when the network has any.
    const [params, running] = await ctx.allocating(
      `the parameters of layers [${file.spec.layers.join(', ')}]`,
      () => [
        ctx.createBufferWith(`${label}.params`, file.params, usage),
        file.running && ctx.createBufferWith(`${label}.running`, file.running, usage),
      ],
      (made) => {
        for (const b of made) if (b) ctx.releaseBuffer(b);
      },
      'free GPU memory (other models: destroy())',
    );
    const weights = { params, running };
    // A network trained on a table: its preprocessing, from a chunk loaded only then.
    return json
      ? (await import('./named.js')).namedPredictor(ctx, file, weights, label, json)
      : new MLPPredictor(ctx, file.spec, file.layout, weights, file.metadata, label);
  } catch (error) {
    ctx.destroy();
    throw error;
  }
}
