/**
 * A training checkpoint as one safetensors file: everything needed to continue a run exactly where
 * it stopped, on any device (after a lost one, or in a later process).
 *
 * Tensors: the parameters as in a model file (`layers.{l}.weight` [fanOut, fanIn], `layers.{l}.bias`),
 * and each optimizer state buffer in the same layout under a prefix: `optimizer.velocity.` for
 * momentum, `optimizer.m.` and `optimizer.v.` for Adam (none for plain SGD). Metadata: `format` =
 * `webgpu-mlp-checkpoint/1`, `spec` (the architecture), `optimizer` (its settings, JSON),
 * `optimizerSteps`, and where training was: `epoch` (1-based) and `step` (steps of it done).
 */
import { paramLayout } from '../model/layout.js';
import type { TrainingCheckpoint } from '../train/fit.js';
import type { Checkpoint } from '../train/model.js';
import { type OptimizerKind, resolveOptimizer } from '../train/options.js';
import { checkTensorNames, layerTensors, openWebgpuMlpFile, readLayerTensors, tensorNames } from './model_file.js';
import { encodeSafetensors } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'webgpu-mlp-checkpoint/1';

/** Where a run was and the model's full training state there (what `fit`'s `onCheckpoint` receives). */
export type MLPCheckpoint = TrainingCheckpoint<Checkpoint>;

/** Names of the optimizer's state buffers, in the order the model keeps them. */
const STATE_NAMES: Record<OptimizerKind, readonly string[]> = { sgd: [], momentum: ['velocity'], adam: ['m', 'v'] };

/** The checkpoint as safetensors bytes (write them to a file, IndexedDB…; `decodeCheckpoint` reads them). */
export function encodeCheckpoint(checkpoint: MLPCheckpoint, extra: Record<string, string> = {}): Uint8Array {
  const { state: cp, epoch, step } = checkpoint;
  const layout = paramLayout(cp.spec);
  const names = STATE_NAMES[cp.optimizer.kind];
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
  return encodeSafetensors(tensors, {
    ...extra,
    format: CHECKPOINT_FORMAT,
    spec: JSON.stringify({ layers: cp.spec.layers, activations: cp.spec.activations, head: cp.spec.head }),
    optimizer: JSON.stringify(cp.optimizer),
    optimizerSteps: String(cp.step),
    epoch: String(epoch),
    step: String(step),
  });
}

function count(metadata: Record<string, string>, key: string, min: number, name: string): number {
  const raw = metadata[key];
  const v = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < min) {
    throw new Error(`${name}: metadata "${key}" is ${JSON.stringify(raw)}, expected an integer ≥ ${min}`);
  }
  return v;
}

/** Reads a checkpoint file. Bad files give errors that name the file and what is wrong. */
export function decodeCheckpoint(bytes: Uint8Array, name = 'checkpoint file'): MLPCheckpoint {
  const { file, spec } = openWebgpuMlpFile(bytes, name, CHECKPOINT_FORMAT, 'a checkpoint saved by webgpu-mlp');
  const { metadata } = file;
  let optimizer: ReturnType<typeof resolveOptimizer>;
  try {
    optimizer = resolveOptimizer(JSON.parse(metadata.optimizer ?? ''), 'optimizer');
  } catch (error) {
    const why = error instanceof SyntaxError ? 'is not valid JSON' : (error as Error).message;
    throw new Error(`${name}: metadata "optimizer" ${why}: ${JSON.stringify(metadata.optimizer)?.slice(0, 200)}`);
  }
  const layout = paramLayout(spec);
  const names = STATE_NAMES[optimizer.kind];
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
  return {
    epoch: count(metadata, 'epoch', 1, name),
    step: count(metadata, 'step', 0, name),
    state: { spec, optimizer, params, state, step: count(metadata, 'optimizerSteps', 0, name) },
  };
}
