/// <reference types="@webgpu/types" preserve="true" />
/**
 * webgpu-mlp: train multi-layer perceptrons on the GPU with WebGPU, checked against a Float64
 * reference. This file only re-exports; nothing here touches the GPU at import time.
 */

export type { IdxDtype, IdxTensor } from './data/idx.js';
export { parseIdx } from './data/idx.js';
export type { MnistSplit } from './data/mnist.js';
export {
  MNIST_CLASSES,
  MNIST_COLS,
  MNIST_PIXELS,
  MNIST_ROWS,
  mnistDataset,
  mnistFromIdx,
  pixelsToFloat,
} from './data/mnist.js';
export type { ContextOptions } from './gpu/context.js';
export { DeviceLostError, GpuContext, missingCapabilities } from './gpu/context.js';
export type { AdapterSummary, DeviceOptions, OwnedDevice } from './gpu/device.js';
export { describeAdapter, requestGpuDevice } from './gpu/device.js';
export { spaceOutDawnPolling } from './gpu/polling.js';
export type { MLPCheckpoint } from './io/checkpoint_file.js';
export { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint } from './io/checkpoint_file.js';
export type { CreateMLPOptions, FitOptions, Inputs, Labels } from './mlp.js';
export { createMLP, loadMLP, MLP } from './mlp.js';
export { initParams } from './model/init.js';
export type { ParamLayout, TensorSlot } from './model/layout.js';
export { paramLayout } from './model/layout.js';
export type { Activation, Head, MlpSpec, Targets } from './model/spec.js';
export type { CheckOptions, CheckReport, TensorDiff } from './train/check.js';
export { checkStep } from './train/check.js';
export type { HostDataset } from './train/cpu.js';
export { CpuBatchTrainer, evaluateHost } from './train/cpu.js';
export type { DatasetSource } from './train/dataset.js';
export { GpuDataset } from './train/dataset.js';
export type {
  BatchTrainer,
  EpochResult,
  Evaluation,
  FitOptions as FitLoopOptions,
  StepProgress,
  TrainingCheckpoint,
} from './train/fit.js';
export { evaluateDataset, fit, GpuBatchTrainer, runSteps, TrainingInterrupted } from './train/fit.js';
export type { Checkpoint, ModelOptions, Stats } from './train/model.js';
export { Model } from './train/model.js';
export type { NetworkOptions, OptimizerConfig, OptimizerKind, ResolvedOptimizer } from './train/options.js';
export { resolveOptimizer, resolveSpec } from './train/options.js';
export type { InputGradient } from './train/saliency.js';
export { inputGradient } from './train/saliency.js';
