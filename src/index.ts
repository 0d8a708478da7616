/**
 * webgpu-mlp: train multi-layer perceptrons on the GPU with WebGPU, checked against a Float64
 * reference. This file only re-exports; nothing here touches the GPU at import time.
 */

export type { ContextOptions } from './gpu/context';
export { GpuContext, missingCapabilities } from './gpu/context';
export type { AdapterSummary, DeviceOptions, OwnedDevice } from './gpu/device';
export { describeAdapter, requestGpuDevice } from './gpu/device';
export { initParams } from './model/init';
export type { ParamLayout, TensorSlot } from './model/layout';
export { paramLayout } from './model/layout';
export type { Activation, Head, MlpSpec, Targets } from './model/spec';
export type { CheckOptions, CheckReport, TensorDiff } from './train/check';
export { checkStep } from './train/check';
export type { ModelOptions, Stats } from './train/model';
export { Model } from './train/model';
export type { NetworkOptions, OptimizerConfig, OptimizerKind } from './train/options';
