/**
 * A training checkpoint as one safetensors file: everything needed to continue a run exactly where
 * it stopped, on any device (after a lost one, or in a later process).
 *
 * Tensors: the parameters as in a model file (`layers.{l}.weight` [fanOut, fanIn], `layers.{l}.bias`),
 * and each optimizer state buffer in the same layout under a prefix: `optimizer.velocity.` for
 * momentum, `optimizer.m.` and `optimizer.v.` for Adam and AdamW (none for plain SGD): the names of the
 * optimizer definition's `state`. Metadata: `format` =
 * `webgpu-mlp-checkpoint/1`, `spec` (the architecture), `optimizer` (its settings, JSON),
 * `optimizerSteps`, where training was: `epoch` (1-based) and `step` (steps of it done), and the run it
 * belongs to: `seed`, `batchSize` and `rows` (the training set's size).
 */
import { paramLayout } from '../model/layout.js';
import type { MlpSpec } from '../model/spec.js';
import { optimizerDefinition, type ResolvedOptimizer, resolveOptimizer } from '../optim/index.js';
import { formatValue } from '../params.js';
import {
  checkTensorNames,
  fileMetadata,
  layerTensors,
  metadataObject,
  openWebgpuMlpFile,
  readLayerTensors,
  tensorNames,
} from './model_file.js';
import { encodeSafetensors, type FileBytes } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'webgpu-mlp-checkpoint/1';

/** A model's training state on the CPU: survives the loss of its device. */
export interface Checkpoint {
  spec: MlpSpec;
  optimizer: ResolvedOptimizer;
  /** Flat parameters (see ParamLayout). */
  params: Float32Array;
  /** The optimizer's state buffers (its definition's `state`: velocity; m and v…), flat. */
  state: Float32Array[];
  /** Optimizer steps taken. */
  step: number;
}

/** Where training was, and the trainer's state there. */
export interface TrainingCheckpoint<S = unknown> {
  /** The epoch (1-based) and the steps of it already done. */
  epoch: number;
  step: number;
  state: S;
  /** The run it belongs to: its shuffle seed, batch size and training rows (absent in older files). */
  run?: { seed: number; batchSize: number; rows: number };
}

/** Where a run was and the model's full training state there (what `fit`'s `onCheckpoint` receives). */
export type MLPCheckpoint = TrainingCheckpoint<Checkpoint>;

/**
 * What makes a model state unusable as a checkpoint — a parameter or optimizer state that is NaN or
 * ±Infinity, naming the first — or undefined when it is good. Such a state is never kept as "last good".
 */
export function nonFiniteState(cp: Checkpoint): string | undefined {
  const names = optimizerDefinition(cp.optimizer.kind).state;
  const buffers: [string, Float32Array][] = [
    ['a parameter', cp.params],
    ...cp.state.map((s, i): [string, Float32Array] => [`optimizer ${names[i] ?? i}`, s]),
  ];
  for (const [what, flat] of buffers) {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isFinite(flat[i])) return `${what} became ${flat[i]} (element ${i} of the flat layout)`;
    }
  }
  return undefined;
}

/** True for what has a checkpoint's shape (its contents are checked where they are used). */
export function isCheckpoint(value: unknown): value is MLPCheckpoint {
  const cp = value as Partial<MLPCheckpoint> | null;
  return (
    typeof cp === 'object' &&
    cp !== null &&
    typeof cp.state === 'object' &&
    cp.state !== null &&
    cp.state.params instanceof Float32Array &&
    Array.isArray(cp.state.state)
  );
}

/** What a value that should be a checkpoint is not, for errors. */
export const CHECKPOINT_EXPECTED =
  'a checkpoint (from onCheckpoint, TrainingInterrupted.checkpoint or decodeCheckpoint)';

/** The checkpoint as safetensors bytes (write them to a file, IndexedDB…; `decodeCheckpoint` reads them). */
export function encodeCheckpoint(checkpoint: MLPCheckpoint, extra: Record<string, string> = {}): Uint8Array {
  if (!isCheckpoint(checkpoint)) {
    throw new Error(
      `encodeCheckpoint: checkpoint = ${formatValue(checkpoint)} is invalid: expected ${CHECKPOINT_EXPECTED}`,
    );
  }
  const { state: cp, epoch, step, run } = checkpoint;
  const layout = paramLayout(cp.spec);
  const names = optimizerDefinition(cp.optimizer.kind).state;
  if (cp.state.length !== names.length) {
    throw new Error(
      `checkpoint has ${cp.state.length} optimizer state buffers, the ${cp.optimizer.kind} optimizer has ${names.length}`,
    );
  }
  for (const [what, flat] of [
    ['params', cp.params],
    ...cp.state.map((s, i) => [`optimizer ${names[i]}`, s] as const),
  ]) {
    if (flat.length !== layout.totalFloats)
      throw new Error(`checkpoint ${what} has ${flat.length} floats, expected ${layout.totalFloats}`);
  }
  const tensors = [
    ...layerTensors(layout, cp.params),
    ...cp.state.flatMap((s, i) => layerTensors(layout, s, `optimizer.${names[i]}.`)),
  ];
  const own = {
    format: CHECKPOINT_FORMAT,
    spec: JSON.stringify({ layers: cp.spec.layers, activations: cp.spec.activations, head: cp.spec.head }),
    optimizer: JSON.stringify(cp.optimizer),
    optimizerSteps: String(cp.step),
    epoch: String(epoch),
    step: String(step),
    ...(run && { seed: String(run.seed), batchSize: String(run.batchSize), rows: String(run.rows) }),
  };
  return encodeSafetensors(tensors, fileMetadata(extra, own, [...new Set([...Object.keys(own), ...RUN_KEYS])]));
}

/** The keys of the run's identity, which a checkpoint without one must not take from `extra` either. */
const RUN_KEYS = ['seed', 'batchSize', 'rows'];

function count(metadata: Record<string, string>, key: string, min: number, name: string): number {
  const raw = metadata[key];
  const v = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < min) {
    throw new Error(`${name}: metadata "${key}" is ${formatValue(raw)}, expected an integer ≥ ${min}`);
  }
  return v;
}

/** Reads a checkpoint file. Bad files give errors that name the file and what is wrong. */
export function decodeCheckpoint(bytes: FileBytes, name = 'checkpoint file'): MLPCheckpoint {
  const { file, spec } = openWebgpuMlpFile(bytes, name, CHECKPOINT_FORMAT, 'a checkpoint saved by webgpu-mlp');
  const { metadata } = file;
  const settings = metadataObject(metadata, 'optimizer', name, 'a JSON object { kind, learningRate, … }');
  let optimizer: ResolvedOptimizer;
  try {
    // Lenient: files from before optimizers kept only their own settings hold every optimizer's.
    optimizer = resolveOptimizer(settings, 'optimizer', true);
  } catch (error) {
    throw new Error(`${name}: metadata "optimizer" ${(error as Error).message}: ${formatValue(metadata.optimizer)}`);
  }
  const layout = paramLayout(spec);
  const names = optimizerDefinition(optimizer.kind).state;
  const params = readLayerTensors(file, layout, name);
  const state = names.map((n) => readLayerTensors(file, layout, name, `optimizer.${n}.`));
  const prefixes = ['', ...names.map((n) => `optimizer.${n}.`)];
  checkTensorNames(file, new Set(prefixes.flatMap((p) => tensorNames(layout, p))), spec, name);
  const buffers: [string, Float32Array][] = [
    ['a parameter', params],
    ...state.map((s, i): [string, Float32Array] => [`optimizer ${names[i]}`, s]),
  ];
  for (const [what, flat] of buffers) {
    if (!flat.every(Number.isFinite))
      throw new Error(`${name}: ${what} is not finite; the checkpoint is of a diverged run`);
  }
  const run =
    metadata.seed !== undefined || metadata.batchSize !== undefined || metadata.rows !== undefined
      ? {
          seed: count(metadata, 'seed', 0, name),
          batchSize: count(metadata, 'batchSize', 1, name),
          rows: count(metadata, 'rows', 1, name),
        }
      : undefined;
  return {
    epoch: count(metadata, 'epoch', 1, name),
    step: count(metadata, 'step', 0, name),
    state: { spec, optimizer, params, state, step: count(metadata, 'optimizerSteps', 0, name) },
    ...(run && { run }),
  };
}
