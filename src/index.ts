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
export type { AdapterSummary } from './gpu/adapter.js';
export { describeAdapter } from './gpu/adapter.js';
export type { ContextOptions } from './gpu/context.js';
export {
  DeviceLimitError,
  DeviceLostError,
  GpuContext,
  GpuOutOfMemoryError,
  missingCapabilities,
} from './gpu/context.js';
export type { DeviceOptions, OwnedDevice } from './gpu/device.js';
export { spaceOutDawnPolling } from './gpu/polling.js';
export { GpuWorkRefused } from './gpu/refused.js';
export { requestGpuDevice } from './gpu/request_device.js';
export type { GpuInputs, Inputs, Labels } from './inputs.js';
export type { Checkpoint, MLPCheckpoint, TrainingCheckpoint } from './io/checkpoint_file.js';
export { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint } from './io/checkpoint_file.js';
export type { OnnxOptions } from './io/onnx_export.js';
export type { FileBytes } from './io/safetensors.js';
export type { CreateMLPOptions, FitOptions } from './mlp.js';
export { createMLP, loadMLP, MLP, toOnnx } from './mlp.js';
export type { ActivationDefinition, ResolvedActivation } from './model/activations/index.js';
export { ACTIVATION_REGISTRY, describeActivation } from './model/activations/index.js';
export type { HeadDefinition, PredictionKind, ResolvedHead } from './model/heads/index.js';
export { HEAD_REGISTRY } from './model/heads/index.js';
export { initParams } from './model/init.js';
export type { ParamLayout, TensorSlot } from './model/layout.js';
export { paramLayout } from './model/layout.js';
export type {
  Activation,
  ActivationName,
  Head,
  HeadName,
  HiddenLayer,
  MlpSpec,
  NetworkOptions,
  Norm,
  NormName,
  Targets,
} from './model/spec.js';
export { ACTIVATIONS, HEADS, resolveSpec } from './model/spec.js';
export type { OptimizerConfig, OptimizerDefinition, OptimizerKind, ResolvedOptimizer } from './optim/index.js';
export {
  describeOptimizer,
  OPTIMIZER_REGISTRY,
  OPTIMIZERS,
  optimizerDefinition,
  resolveOptimizer,
} from './optim/index.js';
export type { ParamSpec, ParamSpecs } from './params.js';
export { describeRange, inRange } from './params.js';
export type { CsvOptions, Delimiter } from './table/csv.js';
export { CsvParser } from './table/csv.js';
export type { TableDefaults } from './table/defaults.js';
export { EPOCH_RANGE, epochsFor, TABLE_DEFAULTS, TARGET_STEPS } from './table/defaults.js';
export type { EncodeTableOptions, MissingPolicy, Task } from './table/encode.js';
export { encodeTable, MAX_INTEGER_CLASSES, TableData } from './table/encode.js';
export { TableError } from './table/errors.js';
export type {
  ClassPrediction,
  InputPreprocessing,
  NamedPrediction,
  Preprocessing,
  Scaling,
  TargetPreprocessing,
  ValuePrediction,
} from './table/preprocessing.js';
export {
  decodePreprocessing,
  encodePreprocessing,
  fitPreprocessing,
  inputAffine,
  outputAffine,
} from './table/preprocessing.js';
export type { ReadProgress, ReadTableOptions, TableFormat, TableSource } from './table/read.js';
export { parseCsv, parseJson, parseJsonLines, readTable, tableFromRows } from './table/read.js';
export type { NamedRows, NamedRowsOptions } from './table/rows.js';
export type { ColumnSchema, TargetSchema, UnknownCategory } from './table/schema.js';
export { featureNames } from './table/schema.js';
export type { SplitIndices, SplitOptions } from './table/split.js';
export { splitIndices, trainTestSplit } from './table/split.js';
export type { Cell } from './table/table.js';
export { MISSING_VALUES, Table, TableColumn } from './table/table.js';
export type { CheckOptions, CheckReport, TensorDiff } from './train/check.js';
export { checkStep } from './train/check.js';
export type { HostDataset } from './train/cpu.js';
export { CpuBatchTrainer, evaluateHost } from './train/cpu.js';
export type { DatasetSource } from './train/dataset.js';
export { GpuDataset } from './train/dataset.js';
export type { Evaluation } from './train/evaluate.js';
export { evaluateDataset } from './train/evaluate.js';
export { GpuBatchTrainer } from './train/gpu_trainer.js';
export type {
  BatchTrainer,
  EpochResult,
  FitCallbacks,
  FitOptions as FitLoopOptions,
  RunOptions,
  StepProgress,
  TrainingEvent,
} from './train/loop.js';
export { fit, runSteps, TrainingInterrupted, TrainingRun } from './train/loop.js';
export type { ModelOptions, Stats } from './train/model.js';
export { Model } from './train/model.js';
export type { InputGradient } from './train/saliency.js';
export { inputGradient } from './train/saliency.js';
export type { ClassWeights, LossWeighting, SampleWeights } from './train/weights.js';
export type { CandidateResult, ShapeTuning, TuneStore } from './tune/cache.js';
export { setTuneCache, TuneCache, tuneCacheOf } from './tune/cache.js';
export { clearSavedTuning } from './tune/persist.js';
export type { TuneMode, TuneReport } from './tune/tuner.js';
