/// <reference types="@webgpu/types" preserve="true" />
/**
 * webgpu-mlp: train multi-layer perceptrons on the GPU with WebGPU, checked against a Float64
 * reference. This file only re-exports; nothing here touches the GPU at import time.
 */

export type { IdxDtype, IdxTensor } from './data/idx';
export { parseIdx } from './data/idx';
export type { MnistSplit } from './data/mnist';
export { MNIST_CLASSES, MNIST_COLS, MNIST_PIXELS, MNIST_ROWS, mnistFromIdx, pixelsToFloat } from './data/mnist';
export type { ContextOptions } from './gpu/context';
export { GpuContext, missingCapabilities } from './gpu/context';
export type { AdapterSummary, DeviceOptions, OwnedDevice } from './gpu/device';
export { describeAdapter, requestGpuDevice } from './gpu/device';
export type { CreateMLPOptions, FitOptions, Inputs, Labels } from './mlp';
export { createMLP, loadMLP, MLP } from './mlp';
export { initParams } from './model/init';
export type { ParamLayout, TensorSlot } from './model/layout';
export { paramLayout } from './model/layout';
export type { Activation, Head, MlpSpec, Targets } from './model/spec';
export type { CheckOptions, CheckReport, TensorDiff } from './train/check';
export { checkStep } from './train/check';
export type { HostDataset } from './train/cpu';
export { CpuBatchTrainer, evaluateHost } from './train/cpu';
export type { DatasetSource } from './train/dataset';
export { GpuDataset } from './train/dataset';
export type { BatchTrainer, EpochResult, Evaluation, FitOptions as FitLoopOptions, StepProgress } from './train/fit';
export { evaluateDataset, fit, GpuBatchTrainer } from './train/fit';
export type { ModelOptions, Stats } from './train/model';
export { Model } from './train/model';
export type { NetworkOptions, OptimizerConfig, OptimizerKind, ResolvedOptimizer } from './train/options';
export { resolveOptimizer, resolveSpec } from './train/options';
export type { InputGradient } from './train/saliency';
export { inputGradient } from './train/saliency';
