/**
 * Seeded fuzzing of the file decoders (CPU only: no GPU device is made). Valid model and checkpoint
 * files of several architectures, heads, activations and optimizers are mutated a few thousand times
 * each — bytes flipped, files truncated and extended, the header length overwritten, the JSON header
 * spliced (dtypes, shapes, offsets, metadata values of the wrong type, duplicate keys, deep nesting) —
 * and each mutation is decoded by `decodeSafetensors`, `decodeModel`, `decodeCheckpoint` and the
 * inference loader (`loadPredictor`, whose only CPU step is `decodeModel`). Every call must either
 * return a result that checks out again or throw a plain `Error` that names the file and says what is
 * wrong — never a TypeError, RangeError or SyntaxError from inside, nor such an error's text wrapped.
 */
import { describe, expect, it } from 'vitest';
import { loadPredictor } from '../../src/infer/mlp_predictor.js';
import {
  CHECKPOINT_FORMAT,
  decodeCheckpoint,
  encodeCheckpoint,
  type MLPCheckpoint,
} from '../../src/io/checkpoint_file.js';
import { decodeModel, encodeModel, type LoadedModel, MODEL_FORMAT } from '../../src/io/model_file.js';
import { decodeSafetensors, type SafetensorsFile } from '../../src/io/safetensors.js';
import { paramLayout } from '../../src/model/layout.js';
import { mulberry32 } from '../../src/model/random.js';
import { type MlpSpec, type NetworkOptions, resolveSpec } from '../../src/model/spec.js';
import { type OptimizerConfig, optimizerDefinition, resolveOptimizer } from '../../src/optim/index.js';
import { checkPlainRejection, setOwn, thrown } from '../helpers/fuzz.js';
import { randomArray } from '../helpers/random.js';

/** Flat parameters with values only where the tensors live (padding zero, as the decoder makes it). */
function flatFor(spec: MlpSpec, seed: number): Float32Array {
  const layout = paramLayout(spec);
  const out = new Float32Array(layout.totalFloats);
  const r = randomArray(layout.totalFloats, seed);
  for (const t of [...layout.weights, ...layout.biases]) out.set(r.subarray(t.offset, t.offset + t.count), t.offset);
  return out;
}

function modelFile(options: NetworkOptions, extra: Record<string, string> = {}): Uint8Array {
  const spec = resolveSpec(options);
  return encodeModel(spec, flatFor(spec, 1), extra);
}

function checkpointFile(
  options: NetworkOptions,
  optimizer: OptimizerConfig,
  run: MLPCheckpoint['run'],
  extra: Record<string, string> = {},
  earlyStopping = false,
): Uint8Array {
  const spec = resolveSpec(options);
  const resolved = resolveOptimizer(optimizer);
  const buffers = optimizerDefinition(resolved.kind).state.length;
  const cp: MLPCheckpoint = {
    epoch: 2,
    step: 5,
    state: {
      spec,
      optimizer: resolved,
      params: flatFor(spec, 2),
      state: Array.from({ length: buffers }, (_, i) => flatFor(spec, 10 + i)),
      step: 17,
    },
    ...(run && { run }),
  };
  if (earlyStopping) {
    cp.earlyStopping = {
      settings: { monitor: 'testLoss', patience: 2, minDelta: 0.001, restoreBest: true },
      best: 0.5,
      bestEpoch: 1,
      wait: 0,
      bestState: { ...cp.state, params: flatFor(spec, 20), state: cp.state.state.map((_, i) => flatFor(spec, 30 + i)) },
    };
  }
  return encodeCheckpoint(cp, extra);
}

const BASES: [string, Uint8Array][] = [
  ['model relu softmax', modelFile({ layers: [5, 4, 3] })],
  ['model tanh sigmoid', modelFile({ layers: [5, 4, 3], activation: 'tanh', head: 'sigmoid' }, { note: 'x' })],
  [
    'model leakyRelu+gelu huber',
    modelFile({
      layers: [5, 4, 4, 3],
      activation: [{ name: 'leakyRelu', slope: 0.2 }, 'gelu'],
      head: { name: 'huber', delta: 0.5 },
    }),
  ],
  ['model sigmoid mse', modelFile({ layers: [5, 4, 1], activation: 'sigmoid', head: 'mse' }, { inputScale: '1/255' })],
  [
    'checkpoint sgd',
    checkpointFile({ layers: [5, 4, 3], activation: 'linear' }, { kind: 'sgd', learningRate: 0.1 }, undefined),
  ],
  [
    'checkpoint momentum',
    checkpointFile(
      { layers: [5, 4, 3], activation: { name: 'leakyRelu', slope: 0.1 } },
      { kind: 'momentum', momentum: 0.8 },
      { seed: 3, batchSize: 4, rows: 40 },
    ),
  ],
  [
    'checkpoint adam',
    checkpointFile(
      { layers: [5, 4, 4, 3], activation: ['tanh', 'relu'], head: { name: 'huber', delta: 2 } },
      { kind: 'adam', learningRate: 0.01, weightDecay: 1e-4 },
      { seed: 0, batchSize: 1, rows: 1 },
    ),
  ],
  [
    'checkpoint adamw',
    checkpointFile(
      { layers: [5, 4, 2], activation: 'gelu', head: 'sigmoid' },
      { kind: 'adamw', beta2: 0.99 },
      { seed: 4294967295, batchSize: 32, rows: 1000 },
      { note: 'resumable' },
    ),
  ],
  [
    'checkpoint momentum with early stopping',
    checkpointFile(
      { layers: [5, 3, 2], activation: 'relu' },
      { kind: 'momentum', learningRate: 0.02 },
      { seed: 1, batchSize: 8, rows: 64 },
      {},
      true,
    ),
  ],
];

const MUTATIONS_PER_FILE = 3000;

/** Values of the wrong kind for any JSON field. */
const WILD_JSON: unknown[] = [
  null,
  true,
  false,
  0,
  -0,
  -1,
  1,
  1.5,
  2,
  3,
  5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  1e300,
  -1e300,
  1048577,
  '',
  'x',
  'NaN',
  'Infinity',
  '3',
  'F32',
  'relu',
  'adam',
  'softmax',
  [],
  [1],
  [0, 0],
  [3, 5],
  [-1, 4],
  [0, 1, 2],
  ['1', '2'],
  [null],
  {},
  { name: 'leakyRelu', slope: '0.2' },
  { name: 'leakyRelu', slope: 2 },
  { name: 'huber', delta: -1 },
  { name: 'huber', delta: 0.5 },
  { name: '__proto__' },
  { name: 'relu', extra: 1 },
  { kind: 'sgd' },
  { kind: 'adam', learningRate: 'NaN' },
];

/** JSON text of the wrong kind for metadata values holding JSON or integers. */
const WILD_TEXT = [
  '',
  ' ',
  'null',
  'true',
  '5',
  '-1',
  '0',
  '1',
  '01',
  '1.5',
  '1e400',
  '-1e400',
  'NaN',
  'Infinity',
  '9'.repeat(40),
  '9007199254740993',
  '4294967296',
  '[]',
  '{}',
  '[5,4,3]',
  '"x"',
  '"adam"',
  '{"kind":"adam"}',
  '{"kind":"momentum","momentum":1}',
  '{"kind":"sgd","learningRate":0}',
  '{"kind":"adam","learningRate":1e400}',
  '{"kind":"lion"}',
  '{"kind":"rmsprop","centered":1}',
  '{"kind":null}',
  '{"kind":"adam","__proto__":1}',
  '{"layers":[5,4,3]}',
  '{"layers":[5,4,3],"activations":["relu"],"head":"softmax"}',
  '{"layers":[5,4,3],"activations":[],"head":"softmax"}',
  '{"layers":[5,4,3],"activations":"gelu","head":{"name":"huber","delta":"1"}}',
  '{"layers":[5,-4,3],"activations":["relu"],"head":"softmax"}',
  '{"layers":[5,1048577,3]}',
  '{"layers":[1048576,1048576,1048576]}',
  '{"layers":null,"activations":null,"head":null}',
  '{"layers":"[5,4,3]"}',
  '{"layers":[5,4,3],"layers":[5,4,2]}',
  '{"kind":"adam","kind":"sgd"}',
  '{layers',
  '\u0000',
];

/** Stands for a deeply nested value in a JSON object until it is written as text. */
const DEEP = '\u0001deep';

function nested(depth: number, open: string, close: string, inner = ''): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/** A file from header text and a data buffer; the header length is set right unless `length` is given. */
function build(text: string, data: Uint8Array, length?: number): Uint8Array {
  const json = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + json.length + data.length);
  const view = new DataView(out.buffer);
  const n = length ?? json.length;
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function split(file: Uint8Array): { text: string; data: Uint8Array; headerLength: number } {
  const headerLength = new DataView(file.buffer, file.byteOffset).getUint32(0, true);
  return {
    text: new TextDecoder().decode(file.subarray(8, 8 + headerLength)).trimEnd(),
    data: file.subarray(8 + headerLength),
    headerLength,
  };
}

/** One seeded mutation of a valid file, and what kind it was. */
function mutate(good: Uint8Array, int: (n: number) => number, rand: () => number): [string, Uint8Array] {
  const pick = <T>(list: readonly T[]): T => list[int(list.length)];
  const wild = () => structuredClone(pick(WILD_JSON));
  const { text, data, headerLength } = split(good);
  const header = JSON.parse(text) as Record<string, Record<string, unknown>>;
  const tensorNames = Object.keys(header).filter((k) => k !== '__metadata__');
  const metaKeys = Object.keys(header.__metadata__);
  const deep = () => {
    const depth = pick([50, 2_000, 10_000]);
    return rand() < 0.5 ? nested(depth, '[', ']') : nested(depth, '{"a":', '}', '1');
  };
  switch (int(13)) {
    case 0: {
      const file = good.slice();
      for (let k = 1 + int(4); k > 0; k--) file[int(file.length)] ^= 1 + int(255);
      return ['flip bytes', file];
    }
    case 1: {
      const file = good.slice();
      file[8 + int(headerLength)] ^= 1 << int(8);
      return ['flip a header bit', file];
    }
    case 2:
      return ['truncate', good.slice(0, int(good.length))];
    case 3: {
      const file = new Uint8Array(good.length + 1 + int(16));
      file.set(good);
      for (let i = good.length; i < file.length; i++) file[i] = rand() < 0.5 ? 0 : int(256);
      return ['extend', file];
    }
    case 4: {
      const file = good.slice();
      const view = new DataView(file.buffer);
      const choices = [
        0,
        1,
        2,
        7,
        headerLength - 1,
        headerLength + 1,
        headerLength - 8,
        headerLength + 8,
        headerLength + 4,
        good.length - 8,
        good.length - 7,
        good.length,
        100_000_000,
        100_000_001,
        2 ** 31,
        2 ** 32 - 1,
        2 ** 32,
        2 ** 53 - 1,
        2 ** 64 - 2 ** 11,
        int(2 ** 32),
      ];
      const n = pick(choices);
      view.setUint32(0, n % 2 ** 32, true);
      view.setUint32(4, Math.floor(n / 2 ** 32) % 2 ** 32, true);
      return ['header length', file];
    }
    case 5: {
      // one field of one tensor entry: dtype, shape or data_offsets (or an element of them)
      const entry = header[pick(tensorNames)];
      const field = pick(['dtype', 'shape', 'data_offsets', 'dtype', 'shape', 'data_offsets', 'extra']);
      const current = entry[field];
      if (field === 'dtype') {
        entry.dtype = rand() < 0.6 ? pick(['F16', 'BF16', 'F64', 'I32', 'U8', 'f32', 'F32 ', 'BOOL', 'XYZ']) : wild();
      } else if (Array.isArray(current) && current.length > 0 && rand() < 0.6) {
        const i = int(current.length);
        current[i] = rand() < 0.5 ? wild() : (current[i] as number) + pick([-4, -1, 1, 4, 2 ** 32, -(2 ** 32)]);
      } else if (field === 'data_offsets' && Array.isArray(current) && rand() < 0.3) {
        entry[field] = [current[1], current[0]];
      } else if (rand() < 0.2) {
        delete entry[field];
      } else {
        entry[field] = wild();
      }
      return ['tensor entry', build(JSON.stringify(header), data)];
    }
    case 6: {
      // a metadata value replaced (possibly with a non-string), or removed
      const meta = header.__metadata__;
      const key = rand() < 0.9 ? pick(metaKeys) : pick(['seed', 'batchSize', 'rows', 'optimizer', '__proto__']);
      const r = rand();
      if (r < 0.55) setOwn(meta, key, pick(WILD_TEXT));
      else if (r < 0.7) setOwn(meta, key, wild());
      else if (r < 0.8) setOwn(meta, key, pick([DEEP, DEEP, deep(), nested(pick([10, 5_000]), '[', ']')]));
      else delete meta[key];
      return ['metadata value', build(JSON.stringify(header).replace(JSON.stringify(DEEP), deep), data)];
    }
    case 7: {
      // the architecture JSON changed inside: a field, an element, or the whole of one part
      const meta = header.__metadata__;
      if (typeof meta.spec !== 'string') throw new Error('spec expected');
      const spec = JSON.parse(meta.spec) as Record<string, unknown>;
      const key = pick(['layers', 'activations', 'head', 'extra']);
      const current = spec[key];
      if (Array.isArray(current) && current.length > 0 && rand() < 0.6) current[int(current.length)] = wild();
      else if (rand() < 0.15) delete spec[key];
      else spec[key] = wild();
      if (rand() < 0.1) spec[key] = DEEP;
      meta.spec = JSON.stringify(spec).replace(JSON.stringify(DEEP), deep);
      return ['spec JSON', build(JSON.stringify(header), data)];
    }
    case 8: {
      // the optimizer settings changed inside (a model file gets some, which it must not mind)
      const meta = header.__metadata__;
      const settings = (typeof meta.optimizer === 'string' ? JSON.parse(meta.optimizer) : {}) as Record<
        string,
        unknown
      >;
      const key = pick(['kind', 'learningRate', 'momentum', 'beta1', 'beta2', 'eps', 'weightDecay', 'other']);
      if (key === 'kind' && rand() < 0.5) settings.kind = pick(['sgd', 'momentum', 'adam', 'adamw']);
      else if (rand() < 0.15) delete settings[key];
      else settings[key] = wild();
      meta.optimizer = JSON.stringify(settings);
      return ['optimizer JSON', build(JSON.stringify(header), data)];
    }
    case 9: {
      // a number in the header text replaced by another literal (or a non-JSON one)
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?([eE][+-]?\d+)?/g)];
      const m = pick(numbers);
      const replacement = pick([
        '0',
        '-1',
        '-0',
        '1.5',
        '1e400',
        'NaN',
        'Infinity',
        '"4"',
        'null',
        String(2 ** 53),
        String(2 ** 53 + 1),
        '99999999999999999999999',
        String(Number(m[0]) + 1),
        String(Number(m[0]) - 1),
        String(Number(m[0]) * 2),
      ]);
      const index = m.index ?? 0;
      const spliced = text.slice(0, index) + replacement + text.slice(index + m[0].length);
      return ['number literal', build(spliced, data)];
    }
    case 10: {
      // a duplicate key (the last one wins in JSON.parse): a tensor entry, a metadata key, or __metadata__
      const pair = (k: string, v: unknown) => `${JSON.stringify(k)}:${JSON.stringify(v)}`;
      const metaPairs = Object.entries(header.__metadata__).map(([k, v]) => pair(k, v));
      const top = tensorNames.map((n) => pair(n, header[n]));
      const insert = (list: string[], item: string) => list.splice(int(list.length + 1), 0, item);
      const r = rand();
      if (r < 0.35) {
        const n = pick(tensorNames);
        insert(top, pair(n, { ...header[n], data_offsets: pick([[0, 0], [0, 4], [4, 8], header[n].data_offsets]) }));
      } else if (r < 0.75) {
        insert(metaPairs, pair(pick(metaKeys), rand() < 0.8 ? pick(WILD_TEXT) : wild()));
      } else {
        insert(top, pair('__metadata__', { ...header.__metadata__, [pick(metaKeys)]: pick(WILD_TEXT) }));
      }
      top.unshift(`"__metadata__":{${metaPairs.join(',')}}`);
      return ['duplicate key', build(`{${top.join(',')}}`, data)];
    }
    case 11: {
      // text inserted into, or cut from, the header; its length set right or left as it was
      const at = int(text.length);
      const r = rand();
      let spliced: string;
      if (r < 0.4)
        spliced =
          text.slice(0, at) +
          pick(['"', ',', '}', ']', '{', '[', ' ', '\\', '\u00e9', '\ud800', ':null']) +
          text.slice(at);
      else if (r < 0.8) spliced = text.slice(0, at) + text.slice(at + 1 + int(12));
      else
        spliced = `${text.slice(0, -1)},${JSON.stringify(pick(['x', '', '__proto__', 'layers.0.weight']))}:${deep()}}`;
      return ['header text', build(spliced, data, rand() < 0.8 ? undefined : headerLength)];
    }
    default: {
      // tensors: one dropped, renamed, or an extra one added (the buffer kept consistent)
      const r = rand();
      const name = pick(tensorNames);
      if (r < 0.35) {
        const [begin, end] = header[name].data_offsets as number[];
        delete header[name];
        for (const other of Object.values(header)) {
          const offsets = other.data_offsets as number[] | undefined;
          if (offsets && offsets[0] >= end) other.data_offsets = offsets.map((o) => o - (end - begin));
        }
        return [
          'tensors',
          build(JSON.stringify(header), new Uint8Array([...data.subarray(0, begin), ...data.subarray(end)])),
        ];
      }
      if (r < 0.7) {
        const renamed = pick([
          `${name}x`,
          name.replace(/\d/, '7'),
          name.replace('weight', 'bias'),
          'optimizer.m.layers.0.bias',
          '__proto__',
          '',
        ]);
        setOwn(header, renamed, header[name]);
        if (renamed !== name) delete header[name];
        return ['tensors', build(JSON.stringify(header), data)];
      }
      const shape = pick([[], [1], [2], [3, 5], [0]]);
      const bytes = shape.reduce((a, b) => a * b, 1) * 4;
      header[pick(['layers.9.weight', 'optimizer.velocity.layers.0.bias', 'optimizer.m.layers.1.weight', 'extra'])] = {
        dtype: 'F32',
        shape,
        data_offsets: [data.length, data.length + bytes],
      };
      return ['tensors', build(JSON.stringify(header), new Uint8Array([...data, ...new Uint8Array(bytes)]))];
    }
  }
}

/** The bytes as given, or copied to an odd offset of a larger buffer (tensor data then unaligned). */
function placed(file: Uint8Array, shift: number): Uint8Array {
  if (shift === 0) return file;
  const host = new Uint8Array(file.length + shift + 3);
  host.set(file, shift);
  return host.subarray(shift, shift + file.length);
}

interface Tally {
  ok: number;
  rejected: number;
}

/** An oracle's check: a plain Error saying which mutation broke what. */
function verify(condition: boolean, what: string, message: string): void {
  if (!condition) throw new Error(`${what}: ${message}`);
}

/** Throws unless `e` is a plain rejection (test/helpers/fuzz.ts) whose message starts with the file's name. */
function checkRejection(e: unknown, name: string, what: string): void {
  checkPlainRejection(e, what, (m) => m.startsWith(`${name}: `), 'the file');
}

/** Runs a decoder: its result, or its error checked as a rejection. */
function attempt<T>(decode: () => T, name: string, what: string): { value: T } | { error: Error } {
  try {
    return { value: decode() };
  } catch (e) {
    checkRejection(e, name, what);
    return { error: e as Error };
  }
}

const sameFloats = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length &&
  Buffer.compare(
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
    new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;

const isCount = (v: unknown, min: number): boolean => Number.isSafeInteger(v) && (v as number) >= min;

function checkSafetensors(file: SafetensorsFile, what: string): void {
  for (const [key, value] of Object.entries(file.metadata)) {
    verify(typeof value === 'string', what, `metadata ${key} is ${typeof value}`);
  }
  for (const [key, t] of file.tensors) {
    verify(t.dtype === 'F32' && t.data instanceof Float32Array, what, `tensor ${key} is not F32`);
    verify(
      t.shape.every((d) => isCount(d, 0)),
      what,
      `tensor ${key} has shape [${t.shape}]`,
    );
    verify(t.data.length === t.shape.reduce((a, b) => a * b, 1), what, `tensor ${key} does not hold its shape`);
  }
}

/** The spec again through the one architecture check: a decoded spec is one createMLP accepts as it is. */
function checkSpec(spec: MlpSpec, what: string): void {
  const again = resolveSpec({ layers: spec.layers, activation: [...spec.activations], head: spec.head });
  verify(JSON.stringify(again) === JSON.stringify(spec), what, `spec ${JSON.stringify(spec)} is not canonical`);
}

/** A setting of the file's that is JSON must be a JSON object: no other kind of value stands for one. */
function checkJsonObject(metadata: Record<string, string>, key: string, what: string): void {
  const value: unknown = JSON.parse(metadata[key]);
  verify(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    what,
    `metadata ${key} = ${metadata[key]} was accepted`,
  );
}

function checkFlat(spec: MlpSpec, flat: Float32Array, what: string): void {
  verify(
    flat instanceof Float32Array && flat.length === paramLayout(spec).totalFloats,
    what,
    'a buffer of the wrong size',
  );
  verify(flat.every(Number.isFinite), what, 'a value that is not finite');
}

function checkModel(model: LoadedModel, name: string, what: string): void {
  checkSpec(model.spec, what);
  checkFlat(model.spec, model.params, what);
  verify(model.metadata.format === MODEL_FORMAT, what, `format ${model.metadata.format}`);
  checkJsonObject(model.metadata, 'spec', what);
  // what it decodes to is what it holds: written again and read back, the same
  const again = decodeModel(encodeModel(model.spec, model.params), name);
  verify(JSON.stringify(again.spec) === JSON.stringify(model.spec), what, 'the spec changed in a round trip');
  verify(sameFloats(again.params, model.params), what, 'the parameters changed in a round trip');
}

function checkCheckpoint(cp: MLPCheckpoint, file: Uint8Array, name: string, what: string): void {
  const { spec, optimizer, params, state } = cp.state;
  checkSpec(spec, what);
  // strict this time: only the optimizer's own settings, each in range
  const strict = resolveOptimizer(optimizer);
  verify(JSON.stringify(strict) === JSON.stringify(optimizer), what, `optimizer ${JSON.stringify(optimizer)}`);
  checkFlat(spec, params, what);
  verify(state.length === optimizerDefinition(optimizer.kind).state.length, what, 'optimizer state buffers');
  for (const s of state) checkFlat(spec, s, what);
  verify(isCount(cp.epoch, 1) && isCount(cp.step, 0) && isCount(cp.state.step, 0), what, 'a bad position');
  if (cp.run)
    verify(isCount(cp.run.seed, 0) && isCount(cp.run.batchSize, 1) && isCount(cp.run.rows, 1), what, 'a bad run');
  const early = cp.earlyStopping;
  if (early) {
    verify(isCount(early.bestEpoch, 0) && early.bestEpoch < cp.epoch && isCount(early.wait, 0), what, 'early stopping');
    verify(early.bestEpoch === 0 ? Number.isNaN(early.best) : Number.isFinite(early.best), what, 'a bad best');
    if (early.bestState) {
      checkFlat(spec, early.bestState.params, what);
      for (const s of early.bestState.state) checkFlat(spec, s, what);
    }
  }
  const { metadata } = decodeSafetensors(file);
  verify(metadata.format === CHECKPOINT_FORMAT, what, `format ${metadata.format}`);
  checkJsonObject(metadata, 'spec', what);
  checkJsonObject(metadata, 'optimizer', what);
  const again = decodeCheckpoint(encodeCheckpoint(cp), name);
  verify(
    again.epoch === cp.epoch &&
      again.step === cp.step &&
      again.state.step === cp.state.step &&
      JSON.stringify([again.run, again.state.spec, again.state.optimizer]) ===
        JSON.stringify([cp.run, spec, optimizer]) &&
      sameFloats(again.state.params, params) &&
      again.state.state.every((s, i) => sameFloats(s, state[i])) &&
      JSON.stringify(again.earlyStopping) === JSON.stringify(early),
    what,
    'the checkpoint changed in a round trip',
  );
}

describe('file decoders under seeded mutation', () => {
  it(`${BASES.length} valid files × ${MUTATIONS_PER_FILE} mutations: each decodes to a valid result or fails with a plain Error naming the file`, async () => {
    const tally: Record<string, Tally> = {};
    const count = (decoder: string, ok: boolean) => {
      tally[decoder] ??= { ok: 0, rejected: 0 };
      tally[decoder][ok ? 'ok' : 'rejected']++;
    };
    const kinds: Record<string, Tally> = {};
    let predictorCalls = 0;

    for (const [b, [base, good]] of BASES.entries()) {
      // every valid file decodes as what it is
      const isModel = base.startsWith('model');
      if (isModel) checkModel(decodeModel(good), 'model file', base);
      else checkCheckpoint(decodeCheckpoint(good), good, 'checkpoint file', base);

      const rand = mulberry32(1000 + b);
      const int = (n: number): number => Math.floor(rand() * n);
      for (let trial = 0; trial < MUTATIONS_PER_FILE; trial++) {
        const [kind, mutated] = mutate(good, int, rand);
        const file = placed(mutated, int(4) === 0 ? 1 + int(3) : 0);
        const name = `fuzz/${base.replace(/ /g, '-')}#${trial}.safetensors`;
        const what = `${base}, mutation ${trial} (${kind})`;

        const container = attempt(() => decodeSafetensors(file, name), name, `decodeSafetensors, ${what}`);
        if ('value' in container) checkSafetensors(container.value, what);
        count('decodeSafetensors', 'value' in container);

        const model = attempt(() => decodeModel(file, name), name, `decodeModel, ${what}`);
        if ('value' in model) checkModel(model.value, name, `decodeModel, ${what}`);
        else if ('error' in container) {
          // the container's own error comes first, word for word
          verify(model.error.message === container.error.message, what, `decodeModel said ${model.error.message}`);
        }
        count('decodeModel', 'value' in model);

        const checkpoint = attempt(() => decodeCheckpoint(file, name), name, `decodeCheckpoint, ${what}`);
        if ('value' in checkpoint) checkCheckpoint(checkpoint.value, file, name, `decodeCheckpoint, ${what}`);
        count('decodeCheckpoint', 'value' in checkpoint);

        kinds[kind] ??= { ok: 0, rejected: 0 };
        kinds[kind]['value' in (isModel ? model : checkpoint) ? 'ok' : 'rejected']++;

        // The inference loader: its only CPU step is decodeModel (naming the file 'model file'). Given a
        // device that is not one, a file decodeModel refuses fails with decodeModel's error, and a good
        // file reaches the device check: no GPU is asked for either way.
        if (isModel && trial % 4 === 0) {
          predictorCalls++;
          const expected =
            'value' in model
              ? 'options.device is 5 (number): expected a GPUDevice'
              : model.error.message.replace(name, 'model file');
          const device = 5 as unknown as GPUDevice;
          await expect(loadPredictor(file, { device })).rejects.toThrow(expected);
        }
      }
    }

    // Both outcomes occur for every decoder, and rejections for every kind of mutation.
    for (const decoder of ['decodeSafetensors', 'decodeModel', 'decodeCheckpoint']) {
      expect(tally[decoder].ok, `${decoder} decoded`).toBeGreaterThan(100);
      expect(tally[decoder].rejected, `${decoder} rejected`).toBeGreaterThan(1000);
    }
    expect(Object.keys(kinds).length).toBe(13);
    for (const [kind, t] of Object.entries(kinds)) expect(t.rejected, `${kind} rejected`).toBeGreaterThan(0);
    expect(predictorCalls).toBe((BASES.filter(([base]) => base.startsWith('model')).length * MUTATIONS_PER_FILE) / 4);
  });

  // What the fuzzing found, one example each (before: the error or result in the comment).
  const base = BASES[6][1]; // the adam checkpoint
  const { text, data } = split(base);
  const withMeta = (key: string, value: string) => {
    const header = JSON.parse(text);
    header.__metadata__[key] = value;
    return build(JSON.stringify(header), data);
  };
  const cases: [string, () => unknown, string][] = [
    [
      // a RangeError (Maximum call stack size exceeded) from showing the value
      'a header value nested 10,000 deep',
      () => decodeSafetensors(build(`{"__metadata__":${nested(10_000, '[', ']')}}`, new Uint8Array(0)), 'f'),
      'f: __metadata__ is an array nested too deeply to show, expected an object of strings',
    ],
    [
      // "metadata Cannot read properties of null (reading 'layers')"
      'a spec of null',
      () => decodeCheckpoint(withMeta('spec', 'null'), 'f'),
      'f: metadata "spec" is "null", expected a JSON object { layers, activations, head }',
    ],
    [
      // "metadata Maximum call stack size exceeded"
      'layers nested 10,000 deep',
      () => decodeCheckpoint(withMeta('spec', `{"layers":${nested(10_000, '[', ']')}}`), 'f'),
      'f: metadata spec.layers[0] = [[[[[[[[[[[[[[[[[…]]]]]]]]]]]]]]]]] is invalid: expected a width: an integer in 1..1048576',
    ],
    [
      // 'metadata "optimizer" Cannot convert undefined or null to object: "null"'
      'optimizer settings of null',
      () => decodeCheckpoint(withMeta('optimizer', 'null'), 'f'),
      'f: metadata "optimizer" is "null", expected a JSON object { kind, learningRate, … }',
    ],
    [
      // decoded, as adam with its default settings
      'optimizer settings of 0',
      () => decodeCheckpoint(withMeta('optimizer', '0'), 'f'),
      'f: metadata "optimizer" is "0", expected a JSON object { kind, learningRate, … }',
    ],
    [
      // decoded, as adam with its default settings
      'optimizer settings of []',
      () => decodeCheckpoint(withMeta('optimizer', '[]'), 'f'),
      'f: metadata "optimizer" is "[]", expected a JSON object { kind, learningRate, … }',
    ],
    [
      // 'metadata "optimizer" is not valid JSON: undefined'
      'no optimizer settings',
      () => {
        const header = JSON.parse(text);
        delete header.__metadata__.optimizer;
        return decodeCheckpoint(build(JSON.stringify(header), data), 'f');
      },
      'f: metadata "optimizer" is undefined, expected a JSON object { kind, learningRate, … }',
    ],
    [
      // the whole 10,000 characters in the message
      'an epoch of 10,000 digits',
      () => decodeCheckpoint(withMeta('epoch', '9'.repeat(10_000)), 'f'),
      `f: metadata "epoch" is "${'9'.repeat(196)}..., expected an integer ≥ 1`,
    ],
  ];
  for (const [what, decode, message] of cases) {
    it(`found by the fuzzing: ${what}`, () => {
      const error = thrown(decode);
      checkRejection(error, 'f', what);
      expect((error as Error).message).toContain(message);
    });
  }
});
