/// <reference types="@webgpu/types" preserve="true" />
/**
 * webgpu-mlp/infer: load a saved network and predict on the GPU — on your device or one it requests —
 * without the training engine, the checkpoints or the Float64 reference (a small bundle: see the
 * README's size budget). This file only re-exports; nothing here touches the GPU at import time.
 *
 * ```ts
 * import { loadPredictor } from 'webgpu-mlp/infer';
 * const model = await loadPredictor(bytes, { device });
 * const probabilities = await model.predict(images);                 // Float32Array [count, C]
 * const onGpu = await model.predict({ buffer: features, count: 512 }); // GPUBuffer, nothing read back
 * ```
 */

export type { LoadPredictorOptions } from './infer/mlp_predictor.js';
export { loadPredictor, MLPPredictor } from './infer/mlp_predictor.js';
export type { HostInputs, PredictOnGpuOptions } from './infer/predict.js';
export type { GpuInputs } from './inputs.js';
export type { FileBytes } from './io/safetensors.js';
export type { Activation, Head, MlpSpec, Norm } from './model/spec.js';
export type {
  ClassPrediction,
  InputPreprocessing,
  NamedPrediction,
  Preprocessing,
  TargetPreprocessing,
  ValuePrediction,
} from './table/preprocessing.js';
export type { NamedRows, NamedRowsOptions } from './table/rows.js';
