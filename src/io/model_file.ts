/**
 * Saving and loading a trained network as safetensors, readable by PyTorch and other tools.
 *
 * Tensors: `layers.{l}.weight` [fanOut, fanIn] (torch.nn.Linear's layout: our [fanIn, fanOut] W
 * transposed) and `layers.{l}.bias` [fanOut], f32 little-endian. Metadata: `format` =
 * `webgpu-mlp/1`, `spec` = the architecture as JSON ({ layers, activations, head }), for a network
 * trained on a table `preprocessing` (its JSON: src/table/preprocessing.ts, read and checked by
 * `decodePreprocessing` there), plus any extra string fields (training settings, accuracy).
 */
import type { ParamLayout } from '../model/layout.js';
import { paramLayout } from '../model/layout.js';
import { type MlpSpec, resolveSpec } from '../model/spec.js';
import { formatValue } from '../params.js';
import {
  decodeSafetensors,
  encodeSafetensors,
  type FileBytes,
  type SafetensorsFile,
  type SafetensorsInput,
} from './safetensors.js';

export const MODEL_FORMAT = 'webgpu-mlp/1';

export interface LoadedModel {
  spec: MlpSpec;
  /** Parameters in the flat GPU layout (see ParamLayout). */
  params: Float32Array;
  layout: ParamLayout;
  metadata: Record<string, string>;
}

/** Encodes flat parameters (GPU layout) with their architecture, and a table network's preprocessing (JSON). */
export function encodeModel(
  spec: MlpSpec,
  flat: Float32Array,
  extra: Record<string, string> = {},
  preprocessing?: string,
): Uint8Array {
  const layout = paramLayout(spec);
  if (flat.length !== layout.totalFloats) {
    throw new Error(
      `params has ${flat.length} floats, expected ${layout.totalFloats} for layers [${spec.layers.join(', ')}]`,
    );
  }
  const tensors = layerTensors(layout, flat);
  const own: Record<string, string> = {
    format: MODEL_FORMAT,
    spec: JSON.stringify({ layers: spec.layers, activations: spec.activations, head: spec.head }),
  };
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
  checkTensorNames(file, new Set(tensorNames(layout)), spec, name);
  for (let i = 0; i < flat.length; i++) {
    if (!Number.isFinite(flat[i]))
      throw new Error(`${name}: a parameter is ${flat[i]} (not finite); the file holds a diverged model`);
  }
  return { spec, params: flat, layout, metadata };
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
  const specJson = metadataObject(metadata, 'spec', name, 'a JSON object { layers, activations, head }') as {
    layers: number[];
    activations: MlpSpec['activations'];
    head: MlpSpec['head'];
  };
  let spec: MlpSpec;
  try {
    spec = resolveSpec({ layers: specJson.layers, activation: specJson.activations, head: specJson.head }, 'spec');
  } catch (error) {
    throw new Error(`${name}: metadata ${(error as Error).message}`);
  }
  return spec;
}

/**
 * One flat buffer (GPU layout, e.g. the parameters or an optimizer's state) as safetensors tensors
 * `{prefix}layers.{l}.weight` [fanOut, fanIn] and `{prefix}layers.{l}.bias` [fanOut].
 */
export function layerTensors(layout: ParamLayout, flat: Float32Array, prefix = ''): SafetensorsInput[] {
  const tensors: SafetensorsInput[] = [];
  layout.weights.forEach((w, l) => {
    const [fanIn, fanOut] = w.shape;
    const t = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < fanIn; i++) for (let o = 0; o < fanOut; o++) t[o * fanIn + i] = flat[w.offset + i * fanOut + o];
    tensors.push({ name: prefix + w.name, shape: [fanOut, fanIn], data: t });
    const b = layout.biases[l];
    tensors.push({ name: prefix + b.name, shape: [b.count], data: flat.slice(b.offset, b.offset + b.count) });
  });
  return tensors;
}

/**
 * The reverse of `layerTensors`: every tensor must be there with its shape. All of them are checked
 * before the flat buffer is allocated, so a small file whose metadata claims a huge network fails on
 * its first missing tensor instead of allocating gigabytes.
 */
export function readLayerTensors(file: SafetensorsFile, layout: ParamLayout, name: string, prefix = ''): Float32Array {
  const layers = `layers [${[layout.weights[0].shape[0], ...layout.weights.map((w) => w.shape[1])].join(', ')}]`;
  const found = layout.weights.map((w, l) => {
    const [fanIn, fanOut] = w.shape;
    const b = layout.biases[l];
    const wt = file.tensors.get(prefix + w.name);
    const bt = file.tensors.get(prefix + b.name);
    if (!wt) throw new Error(`${name}: tensor ${prefix}${w.name} is missing (${layers} need it)`);
    if (!bt) throw new Error(`${name}: tensor ${prefix}${b.name} is missing (${layers} need it)`);
    if (wt.shape.length !== 2 || wt.shape[0] !== fanOut || wt.shape[1] !== fanIn) {
      throw new Error(
        `${name}: ${prefix}${w.name} has shape [${wt.shape.join(', ')}], expected [${fanOut}, ${fanIn}] for ${layers}`,
      );
    }
    if (bt.shape.length !== 1 || bt.shape[0] !== fanOut) {
      throw new Error(`${name}: ${prefix}${b.name} has shape [${bt.shape.join(', ')}], expected [${fanOut}]`);
    }
    return { w, b, wt, bt };
  });
  const flat = new Float32Array(layout.totalFloats);
  for (const { w, b, wt, bt } of found) {
    const [fanIn, fanOut] = w.shape;
    for (let i = 0; i < fanIn; i++)
      for (let o = 0; o < fanOut; o++) flat[w.offset + i * fanOut + o] = wt.data[o * fanIn + i];
    flat.set(bt.data, b.offset);
  }
  return flat;
}

/** The names `layerTensors` gives. */
export function tensorNames(layout: ParamLayout, prefix = ''): string[] {
  return layout.weights.flatMap((w, l) => [prefix + w.name, prefix + layout.biases[l].name]);
}

/** Rejects tensors a file should not have. */
export function checkTensorNames(file: SafetensorsFile, expected: Set<string>, spec: MlpSpec, name: string): void {
  for (const key of file.tensors.keys()) {
    if (!expected.has(key)) throw new Error(`${name}: unexpected tensor ${key} for layers [${spec.layers.join(', ')}]`);
  }
}
