/**
 * Saving and loading a trained network as safetensors, readable by PyTorch and other tools.
 *
 * Tensors, f32 little-endian, named as PyTorch names them (layers/ declares each layer's):
 * `layers.{l}.weight` [fanOut, fanIn] (torch.nn.Linear's layout: our [fanIn, fanOut] W transposed) and
 * `layers.{l}.bias` [fanOut]; for a hidden layer with a norm `layers.{l}.norm.weight` (γ) and
 * `layers.{l}.norm.bias` (β) [units], and with BatchNorm its running statistics
 * `layers.{l}.norm.running_mean` and `layers.{l}.norm.running_var` [units]. Metadata: `format` =
 * `webgpu-mlp/1`, `spec` = the architecture as JSON ({ layers, activations, head, norms?, dropouts? }),
 * for a network trained on a table `preprocessing` (its JSON: src/table/preprocessing.ts, read and
 * checked by `decodePreprocessing` there), plus any extra string fields (training settings, accuracy).
 */
import { type ParamLayout, paramLayout, type TensorSlot } from '../model/layout.js';
import { type MlpSpec, specFromJson, specJson } from '../model/spec.js';
import { formatValue } from '../params.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type FileBytes,
  type SafetensorsFile,
  type SafetensorsInput,
  type SafetensorsTensor,
} from './safetensors.js';

export const MODEL_FORMAT = 'webgpu-mlp/1';

export interface LoadedModel {
  spec: MlpSpec;
  /** Parameters in the flat GPU layout (see ParamLayout). */
  params: Float32Array;
  /** Running statistics in their flat layout (ParamLayout.running), when the network has any. */
  running?: Float32Array;
  layout: ParamLayout;
  metadata: Record<string, string>;
}

/**
 * Encodes flat parameters (GPU layout) with their architecture, a table network's preprocessing (JSON),
 * and the running statistics when the network has any (BatchNorm).
 */
export function encodeModel(
  spec: MlpSpec,
  flat: Float32Array,
  extra: Record<string, string> = {},
  preprocessing?: string,
  running?: Float32Array,
): Uint8Array {
  const layout = paramLayout(spec);
  if (flat.length !== layout.totalFloats) {
    throw new Error(
      `params has ${flat.length} floats, expected ${layout.totalFloats} for layers [${spec.layers.join(', ')}]`,
    );
  }
  const tensors = [...layerTensors(layout, flat), ...runningTensors(layout, running)];
  const own: Record<string, string> = { format: MODEL_FORMAT, spec: specJson(spec) };
  if (preprocessing !== undefined) own.preprocessing = preprocessing;
  const metadata = fileMetadata(extra, own, MODEL_OWN_KEYS);
  return encodeSafetensors(tensors, metadata);
}

/** The keys a model file writes itself (`encodeModel`): every other metadata key is the caller's. */
export const MODEL_OWN_KEYS = ['format', 'spec', 'preprocessing'] as const;

/**
 * What a model file's metadata says besides its own keys (how it was trained, `inputScale`, the
 * caller's notes): what a network loaded from it carries into its next save, so that load → save
 * loses nothing.
 */
export function carriedMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  const carried = { ...metadata };
  for (const key of MODEL_OWN_KEYS) delete carried[key];
  return carried;
}

/** Throws unless `extra` is an object (of strings: encodeSafetensors checks each value). */
export function checkMetadata(extra: unknown): asserts extra is Record<string, string> {
  if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
    throw new Error(
      `metadata is ${extra === null ? 'null' : Array.isArray(extra) ? 'an array' : typeof extra}: expected an object of strings`,
    );
  }
}

/**
 * A file's metadata: the caller's `extra` (an object of strings) beside the file's `own` keys. A key of
 * `reserved` (by default the own keys) in `extra` is an error, not silently replaced or, worse, read
 * back as the file's own.
 */
export function fileMetadata(
  extra: unknown,
  own: Record<string, string>,
  reserved: readonly string[] = Object.keys(own),
): Record<string, string> {
  checkMetadata(extra);
  for (const key of reserved) {
    if (Object.hasOwn(extra, key)) {
      throw new Error(`metadata["${key}"] is the file's own: choose another key (reserved: ${reserved.join(', ')})`);
    }
  }
  return { ...extra, ...own };
}

/** Decodes a model file, checking the architecture against the tensors. Errors name the file and the problem. */
export function decodeModel(bytes: FileBytes, name = 'model file'): LoadedModel {
  const { file, spec } = openWebgpuMlpFile(bytes, name, MODEL_FORMAT, 'a file saved by webgpu-mlp');
  const { metadata } = file;
  const layout = paramLayout(spec);
  const flat = readLayerTensors(file, layout, name);
  const running = readRunningTensors(file, layout, name);
  checkTensorNames(file, new Set([...tensorNames(layout), ...runningNames(layout)]), spec, name);
  for (let i = 0; i < flat.length; i++) {
    if (!Number.isFinite(flat[i]))
      throw new Error(`${name}: a parameter is ${flat[i]} (not finite); the file holds a diverged model`);
  }
  const bad = running && badRunning(layout, running);
  if (bad) throw new Error(`${name}: ${bad}`);
  return { spec, params: flat, ...(running && { running }), layout, metadata };
}

/** A safetensors file of ours: its container, `format` and architecture checked. */
export function openWebgpuMlpFile(
  bytes: FileBytes,
  name: string,
  format: string,
  what: string,
): { file: SafetensorsFile; spec: MlpSpec } {
  const file = decodeSafetensors(bytes, name);
  if (file.metadata.format !== format) {
    throw new Error(`${name}: metadata format is ${formatValue(file.metadata.format)}, expected "${format}" (${what})`);
  }
  return { file, spec: decodeSpec(file.metadata, name) };
}

/**
 * A metadata value that holds a JSON object (the architecture, the optimizer settings): anything else —
 * no value, text that is not JSON, `null`, a number, an array — is an error naming the key.
 */
export function metadataObject(
  metadata: Record<string, string>,
  key: string,
  name: string,
  expected: string,
): Record<string, unknown> {
  const raw = metadata[key];
  let value: unknown;
  try {
    value = raw === undefined ? undefined : JSON.parse(raw);
  } catch {
    throw new Error(`${name}: metadata "${key}" is not valid JSON: ${formatValue(raw)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${name}: metadata "${key}" is ${formatValue(raw)}, expected ${expected}`);
  }
  return value as Record<string, unknown>;
}

/** The architecture from a file's `spec` metadata, checked like `createMLP`'s options. */
export function decodeSpec(metadata: Record<string, string>, name: string): MlpSpec {
  const json = metadataObject(metadata, 'spec', name, 'a JSON object { layers, activations, head }');
  let spec: MlpSpec;
  try {
    spec = specFromJson(json, 'spec');
  } catch (error) {
    throw new Error(`${name}: metadata ${(error as Error).message}`);
  }
  return spec;
}

/**
 * One flat buffer (GPU layout, e.g. the parameters or an optimizer's state) as safetensors tensors
 * `{prefix}layers.{l}.weight` [fanOut, fanIn], `{prefix}layers.{l}.bias` [fanOut], and a norm's
 * `{prefix}layers.{l}.norm.weight`, `…norm.bias`: every trained tensor (ParamLayout.tensors).
 */
export function layerTensors(layout: ParamLayout, flat: Float32Array, prefix = ''): SafetensorsInput[] {
  return slotTensors(layout.tensors, flat, prefix);
}

/** The running statistics as tensors (`layers.{l}.norm.running_mean`, `…running_var`); none without any. */
export function runningTensors(layout: ParamLayout, flat: Float32Array | undefined, prefix = ''): SafetensorsInput[] {
  const { tensors, totalFloats } = layout.running;
  if (totalFloats === 0) return [];
  if (!flat || flat.length !== totalFloats) {
    throw new Error(`running statistics have ${flat?.length ?? 'no'} floats, expected ${totalFloats}`);
  }
  return slotTensors(tensors, flat, prefix);
}

/** Tensors of a flat buffer by their slots: a dense weight written transposed ([fanOut, fanIn], torch.nn.Linear's). */
function slotTensors(slots: readonly TensorSlot[], flat: Float32Array, prefix: string): SafetensorsInput[] {
  return slots.map((slot) => {
    if (!slot.tensor.transposed) {
      return {
        name: prefix + slot.name,
        shape: [...slot.shape],
        data: flat.slice(slot.offset, slot.offset + slot.count),
      };
    }
    const [fanIn, fanOut] = slot.shape as [number, number];
    const t = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < fanIn; i++)
      for (let o = 0; o < fanOut; o++) t[o * fanIn + i] = flat[slot.offset + i * fanOut + o];
    return { name: prefix + slot.name, shape: [fanOut, fanIn], data: t };
  });
}

/**
 * The reverse of `layerTensors`: every tensor must be there with its shape. All of them are checked
 * before the flat buffer is allocated, so a small file whose metadata claims a huge network fails on
 * its first missing tensor instead of allocating gigabytes.
 */
export function readLayerTensors(file: SafetensorsFile, layout: ParamLayout, name: string, prefix = ''): Float32Array {
  return readSlots(file, layout.tensors, layout.totalFloats, layout, name, prefix);
}

/** The running statistics of a file (see runningTensors), or undefined for a network without any. */
export function readRunningTensors(
  file: SafetensorsFile,
  layout: ParamLayout,
  name: string,
  prefix = '',
): Float32Array | undefined {
  const { tensors, totalFloats } = layout.running;
  return totalFloats === 0 ? undefined : readSlots(file, tensors, totalFloats, layout, name, prefix);
}

function readSlots(
  file: SafetensorsFile,
  slots: readonly TensorSlot[],
  totalFloats: number,
  layout: ParamLayout,
  name: string,
  prefix: string,
): Float32Array {
  const layers = `layers [${[layout.weights[0]?.shape[0], ...layout.weights.map((w) => w.shape[1])].join(', ')}]`;
  // Every tensor there first, then every shape (a file missing a tensor hears that first).
  for (const slot of slots) {
    if (!file.tensors.has(prefix + slot.name)) {
      throw new Error(`${name}: tensor ${prefix}${slot.name} is missing (${layers} need it)`);
    }
  }
  const found = slots.map((slot) => {
    const t = file.tensors.get(prefix + slot.name) as SafetensorsTensor;
    const want = slot.tensor.transposed ? [...slot.shape].reverse() : [...slot.shape];
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new Error(
        `${name}: ${prefix}${slot.name} has shape [${t.shape.join(', ')}], expected [${want.join(', ')}] for ${layers}`,
      );
    }
    return { slot, t };
  });
  const flat = new Float32Array(totalFloats);
  for (const { slot, t } of found) {
    if (!slot.tensor.transposed) {
      flat.set(t.data, slot.offset);
      continue;
    }
    const [fanIn, fanOut] = slot.shape as [number, number];
    for (let i = 0; i < fanIn; i++)
      for (let o = 0; o < fanOut; o++) flat[slot.offset + i * fanOut + o] = t.data[o * fanIn + i];
  }
  return flat;
}

/**
 * What makes running statistics unusable — a value that is not finite, or below what its tensor may
 * hold (a variance below 0) — naming the first, or undefined when they are good.
 */
export function badRunning(layout: ParamLayout, running: Float32Array): string | undefined {
  for (const slot of layout.running.tensors) {
    const min = slot.tensor.min ?? -Infinity;
    for (let i = slot.offset; i < slot.offset + slot.count; i++) {
      const v = running[i] as number;
      if (!Number.isFinite(v) || v < min) {
        return `${slot.name}[${i - slot.offset}] is ${v}: expected a finite number${min > -Infinity ? ` ≥ ${min}` : ''}`;
      }
    }
  }
  return undefined;
}

/** The names `layerTensors` gives. */
export function tensorNames(layout: ParamLayout, prefix = ''): string[] {
  return layout.tensors.map((slot) => prefix + slot.name);
}

/** The names `runningTensors` gives. */
export function runningNames(layout: ParamLayout, prefix = ''): string[] {
  return layout.running.tensors.map((slot) => prefix + slot.name);
}

/** Rejects tensors a file should not have. */
export function checkTensorNames(file: SafetensorsFile, expected: Set<string>, spec: MlpSpec, name: string): void {
  for (const key of file.tensors.keys()) {
    if (!expected.has(key)) throw new Error(`${name}: unexpected tensor ${key} for layers [${spec.layers.join(', ')}]`);
  }
}
