/**
 * `predict` as both entries offer it (the library's MLP and the inference entry's MLPPredictor): host
 * inputs in, the head's outputs read back; or an application's GPU buffer in, a GPU buffer out, with
 * nothing read back.
 */
import { type GpuInputs, resolveInputs } from '../inputs.js';
import type { MlpSpec } from '../model/spec.js';
import { checkOptions } from '../params.js';
import type { Predictor } from './predictor.js';

/** Inputs in host memory, as predict takes them (see Inputs). */
export type HostInputs = Float32Array | Uint8Array | Float64Array | readonly (readonly number[])[];

export interface PredictOnGpuOptions {
  /**
   * Where to write the outputs, f32 [count, C] (COPY_DST usage). Default: a new buffer (STORAGE |
   * COPY_SRC | COPY_DST) that the caller owns and destroys.
   */
  output?: GPUBuffer;
}

/** Checks the inputs and runs the prediction on the predictor: read back, or left on the GPU. */
export async function predictInputs(
  predictor: Predictor,
  spec: MlpSpec,
  inputs: HostInputs | GpuInputs,
  options: PredictOnGpuOptions = {},
): Promise<Float32Array | GPUBuffer> {
  checkOptions(options, ['output'], '{ output? }, or nothing');
  const D = spec.layers[0];
  const x = resolveInputs(inputs, D);
  if (x.kind === 'gpu') return predictor.predictOnGpu({ buffer: x.buffer, count: x.count }, options.output);
  if (options.output)
    throw new Error('options.output is for GPU inputs ({ buffer, count }); host inputs return a Float32Array');
  const { images } = x;
  const floats = images instanceof Uint8Array ? Float32Array.from(images, (v) => v / 255) : images;
  for (let i = 0; i < floats.length; i++) {
    if (!Number.isFinite(floats[i])) {
      throw new Error(`inputs[${Math.floor(i / D)}, ${i % D}] = ${floats[i]}: inputs must be finite numbers`);
    }
  }
  return predictor.predict(floats, x.count);
}
