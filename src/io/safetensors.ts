/**
 * The safetensors format (huggingface/safetensors), F32 tensors only: loadable by
 * `safetensors.torch.load_file` and `safetensors.numpy.load_file`.
 *
 * Layout:
 *   bytes 0..7       N, the header length, u64 little-endian
 *   bytes 8..8+N−1   header: UTF-8 JSON object, optionally padded with trailing spaces
 *                    { "__metadata__": { string: string },            (optional)
 *                      "<tensor name>": { "dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end] }, ... }
 *   bytes 8+N..      the byte buffer; each tensor is row-major little-endian at [begin, end) of it,
 *                    and the tensors cover the buffer exactly (no gaps, no overlaps)
 */
import { describeValue } from '../params.js';

/** A tensor to write: row-major `data` of `product(shape)` elements. */
export interface SafetensorsInput {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** A tensor read back. `data` is a view of the input bytes when aligned (little-endian host), else a copy. */
export interface SafetensorsTensor {
  dtype: 'F32';
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  /** Tensors in file order (by data offset). */
  tensors: Map<string, SafetensorsTensor>;
  /** `__metadata__`, or {} when absent. */
  metadata: Record<string, string>;
}

/** Largest header accepted, as in the reference implementation (100 MB). */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** Every dtype the format defines; only F32 is read or written here. */
const KNOWN_DTYPES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
];
const SUPPORTED_DTYPES = ['F32'];
const F32_BYTES = 4;

/** A plain JSON object (not null, not an array). */
function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** An array of non-negative safe integers. */
function isCountArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0);
}

/** A JSON value for an error message, cut short. */
function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    // JSON.parse reads nesting that JSON.stringify cannot write back (a RangeError, its stack exhausted)
    return `${Array.isArray(v) ? 'an array' : 'an object'} nested too deeply to show`;
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** True when typed arrays on this host are little-endian (every browser and Node platform in practice). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Serialise tensors: header JSON (metadata first, then tensors in the given order), padded with
 * spaces to a multiple of 8 bytes, then the tensors' little-endian f32 data back to back.
 * @throws Error on a duplicate or reserved name, a bad shape, a length that does not match the shape,
 *   or a metadata value that is not a string
 */
export function encodeSafetensors(tensors: SafetensorsInput[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new Error(`encodeSafetensors: metadata["${k}"] is ${typeof v}, expected a string`);
      }
    }
    header.__metadata__ = metadata;
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '' || t.name === '__metadata__') {
      throw new Error(`encodeSafetensors: tensor name "${t.name}" is reserved or empty`);
    }
    if (seen.has(t.name)) throw new Error(`encodeSafetensors: tensor "${t.name}" appears twice`);
    seen.add(t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(
        `encodeSafetensors: tensor "${t.name}" has shape [${t.shape.join(', ')}], expected non-negative integers`,
      );
    }
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== count) {
      throw new Error(
        `encodeSafetensors: tensor "${t.name}" has shape [${t.shape.join(', ')}] (${count} elements) ` +
          `but ${t.data.length} values`,
      );
    }
    const end = offset + count * F32_BYTES;
    // Object.defineProperty, not assignment: a tensor named "__proto__" must stay an own key.
    Object.defineProperty(header, t.name, {
      value: { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, end] },
      enumerable: true,
      writable: true,
      configurable: true,
    });
    offset = end;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerBytes + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerBytes / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes); // spaces

  let at = 8 + headerBytes;
  for (const t of tensors) {
    if (HOST_LITTLE_ENDIAN) {
      out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    } else {
      for (let i = 0; i < t.data.length; i++) view.setFloat32(at + F32_BYTES * i, t.data[i], true);
    }
    at += t.data.byteLength;
  }
  return out;
}

/**
 * A file's bytes as the decoders take them: a `Uint8Array` (a Node `Buffer` is one), an `ArrayBuffer`
 * (what `await response.arrayBuffer()` and `FileReader` give) or any other view of bytes (`DataView`,
 * a typed array: its bytes, not its elements).
 */
export type FileBytes = Uint8Array | ArrayBuffer | ArrayBufferView;

const FILE_BYTES = 'Uint8Array (or Node Buffer), ArrayBuffer (response.arrayBuffer()) or DataView';

/** The bytes of a file given as FileBytes, as a Uint8Array over the same memory; anything else is refused by type. */
export function fileBytes(value: unknown, name: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  const tag = Object.prototype.toString.call(value); // also an ArrayBuffer from another realm (a worker, vm)
  if (tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]')
    return new Uint8Array(value as ArrayBuffer);
  throw new Error(`${name}: the bytes given are ${describeValue(value)}: expected the file's bytes, as ${FILE_BYTES}`);
}

/**
 * Parse a safetensors file holding F32 tensors.
 * @param bytes the file (see FileBytes)
 * @param name how errors name the file (a path, 'weights.safetensors')
 * @throws Error saying what is wrong, where, and what was expected
 */
export function decodeSafetensors(given: FileBytes, name = 'safetensors file'): SafetensorsFile {
  const fail: (msg: string) => never = (msg) => {
    throw new Error(`${name}: ${msg}`);
  };
  const bytes = fileBytes(given, name);
  if (bytes.length < 8) {
    fail(`file is ${bytes.length} bytes, shorter than the 8-byte header length that starts every safetensors file`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32; // u64 LE; exact below 2^53
  if (headerBytes > SAFETENSORS_MAX_HEADER_BYTES) {
    fail(
      `header length ${headerBytes} is over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit; the file is corrupt or not safetensors`,
    );
  }
  if (8 + headerBytes > bytes.length) {
    fail(
      `header length ${headerBytes} runs past the end of the file (the file is ${bytes.length} bytes, ` +
        `so at most ${bytes.length - 8} are left for the header): truncated or not safetensors`,
    );
  }

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerBytes));
  } catch {
    return fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail(`header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isRecord(header)) {
    return fail(
      `header is JSON ${header === null ? 'null' : Array.isArray(header) ? 'array' : typeof header}, expected an object`,
    );
  }

  const bufferStart = 8 + headerBytes;
  const bufferBytes = bytes.length - bufferStart;
  let metadata: Record<string, string> = {};
  const entries: { tensorName: string; shape: number[]; begin: number; end: number }[] = [];

  for (const [key, value] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (!isRecord(value)) fail(`__metadata__ is ${show(value)}, expected an object of strings`);
      const strings: [string, string][] = [];
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') fail(`__metadata__["${k}"] is ${show(v)}, expected a string`);
        strings.push([k, v]);
      }
      metadata = Object.fromEntries(strings); // fromEntries keeps a "__proto__" key as an own property
      continue;
    }
    const t = `tensor "${key}"`;
    if (!isRecord(value)) fail(`${t}: entry is ${show(value)}, expected { dtype, shape, data_offsets }`);
    const entry = value;
    for (const field of ['dtype', 'shape', 'data_offsets']) {
      if (!Object.hasOwn(entry, field)) fail(`${t}: missing "${field}"`);
    }
    const { dtype, shape, data_offsets: offsets } = entry;
    if (typeof dtype !== 'string') fail(`${t}: dtype is ${show(dtype)}, expected a string such as "F32"`);
    if (!SUPPORTED_DTYPES.includes(dtype)) {
      fail(
        `${t}: ${KNOWN_DTYPES.includes(dtype) ? 'unsupported' : 'unknown'} dtype "${dtype}"; ` +
          `supported: ${SUPPORTED_DTYPES.join(', ')}`,
      );
    }
    if (!isCountArray(shape)) fail(`${t}: shape is ${show(shape)}, expected an array of non-negative integers`);
    if (!isCountArray(offsets) || offsets.length !== 2) {
      fail(`${t}: data_offsets is ${show(offsets)}, expected [begin, end], non-negative integers`);
    }
    const [begin, end] = offsets;
    if (begin > end) fail(`${t}: data_offsets [${begin}, ${end}] has begin > end`);
    if (end > bufferBytes) {
      fail(`${t}: data_offsets end ${end} is past the end of the ${bufferBytes}-byte data buffer (begin ${begin})`);
    }
    const dims = shape;
    const count = dims.reduce((a, b) => a * b, 1);
    if (count * F32_BYTES !== end - begin) {
      fail(
        `${t}: shape [${dims.join(', ')}] needs ${count} × ${F32_BYTES} = ${count * F32_BYTES} bytes ` +
          `but data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    entries.push({ tensorName: key, shape: dims, begin, end });
  }

  // The tensors must tile the buffer exactly: sorted by offset, each starts where the last ended.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous = '';
  for (const e of entries) {
    if (e.begin < covered) {
      fail(
        `tensor "${e.tensorName}" at [${e.begin}, ${e.end}] overlaps tensor "${previous}", which ends at ${covered}`,
      );
    }
    if (e.begin > covered) {
      fail(
        `gap in the data buffer: bytes [${covered}, ${e.begin}) before tensor "${e.tensorName}" belong to no tensor`,
      );
    }
    covered = e.end;
    previous = e.tensorName;
  }
  if (covered !== bufferBytes) {
    fail(
      `${bufferBytes - covered} trailing bytes: the data buffer is ${bufferBytes} bytes but the tensors cover ${covered}`,
    );
  }

  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of entries) {
    const count = (e.end - e.begin) / F32_BYTES;
    const at = bufferStart + e.begin;
    let data: Float32Array;
    if (HOST_LITTLE_ENDIAN && (bytes.byteOffset + at) % F32_BYTES === 0) {
      data = new Float32Array(bytes.buffer, bytes.byteOffset + at, count);
    } else {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(at + F32_BYTES * i, true);
    }
    tensors.set(e.tensorName, { dtype: 'F32', shape: e.shape, data });
  }
  return { tensors, metadata };
}
