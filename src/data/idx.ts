/**
 * IDX files: the format of the original MNIST distribution.
 *
 * Layout (all integers big-endian):
 *   bytes 0..1   0x00 0x00                      magic
 *   byte  2      element type (see IDX_TYPES)
 *   byte  3      number of dimensions k (≥ 1)
 *   then k × u32 dimension sizes, outermost first
 *   then product(dims) elements, big-endian, row-major
 *
 * The header is checked completely before anything is allocated: a corrupt or hostile header
 * gives an Error naming the file, what was found and what was expected, never a huge allocation.
 */

/** Element type of an IDX file. */
export type IdxDtype = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';

/** A parsed IDX file: row-major data with its dimensions, outermost first. */
export interface IdxTensor {
  dtype: IdxDtype;
  /** Dimension sizes, outermost first; each ≥ 1. */
  dims: number[];
  /** `product(dims)` elements in host byte order. `u8` and `i8` data are views of the input bytes. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Type byte → element type and size in bytes. */
const IDX_TYPES: ReadonlyMap<number, { dtype: IdxDtype; bytes: number }> = new Map([
  [0x08, { dtype: 'u8', bytes: 1 }],
  [0x09, { dtype: 'i8', bytes: 1 }],
  [0x0b, { dtype: 'i16', bytes: 2 }],
  [0x0c, { dtype: 'i32', bytes: 4 }],
  [0x0d, { dtype: 'f32', bytes: 4 }],
  [0x0e, { dtype: 'f64', bytes: 8 }],
]);

/**
 * Largest element count accepted: 2^31 − 1, the longest typed array every engine allocates.
 * The count is also checked against the bytes actually present, so this only bounds arithmetic.
 */
export const IDX_MAX_ELEMENTS = 2 ** 31 - 1;

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

const typeList = (): string => [...IDX_TYPES].map(([code, t]) => `${hex(code)} ${t.dtype}`).join(', ');

/**
 * Parse an IDX file.
 * @param bytes the whole file
 * @param name  how errors name the file (a path or 'train images')
 * @throws Error saying what is wrong, what was found and what was expected
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX file'): IdxTensor {
  if (bytes.length < 4) {
    throw new Error(
      `${name}: file is ${bytes.length} bytes, shorter than the 4-byte IDX header ` +
        '(2 zero bytes, a type byte, a dimension count)',
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    throw new Error(
      `${name}: bad magic: first two bytes are ${hex(bytes[0])} ${hex(bytes[1])}, expected 0x00 0x00` +
        (gzip ? ' (this looks gzip-compressed: decompress it first)' : ' (is this an IDX file?)'),
    );
  }
  const type = IDX_TYPES.get(bytes[2]);
  if (type === undefined) {
    throw new Error(`${name}: unknown element type byte ${hex(bytes[2])}, expected one of ${typeList()}`);
  }
  const rank = bytes[3];
  if (rank === 0) {
    throw new Error(`${name}: the header declares 0 dimensions, expected at least 1`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new Error(
      `${name}: file is ${bytes.length} bytes, shorter than the ${headerBytes}-byte header ` +
        `that its ${rank} dimensions need`,
    );
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) {
      throw new Error(`${name}: dimension ${i} of ${rank} is 0, expected at least 1`);
    }
    dims.push(d);
    count *= d; // may round once past 2^53, but only after it has passed the bound below
    if (count > IDX_MAX_ELEMENTS) {
      throw new Error(
        `${name}: dimensions [${dims.join(', ')}${i + 1 < rank ? ', …' : ''}] hold more than ` +
          `${IDX_MAX_ELEMENTS} elements; the header is corrupt or the file is not IDX`,
      );
    }
  }

  const expected = count * type.bytes;
  const actual = bytes.length - headerBytes;
  if (actual !== expected) {
    const what =
      actual < expected ? `truncated: ${expected - actual} bytes missing` : `${actual - expected} trailing bytes`;
    throw new Error(
      `${name}: data is ${actual} bytes but dims [${dims.join(', ')}] of ${type.dtype} need ` +
        `${count} × ${type.bytes} = ${expected} bytes (${what})`,
    );
  }

  const offset = bytes.byteOffset + headerBytes;
  switch (type.dtype) {
    case 'u8':
      return { dtype: 'u8', dims, data: bytes.subarray(headerBytes) };
    case 'i8':
      return { dtype: 'i8', dims, data: new Int8Array(bytes.buffer, offset, count) };
    case 'i16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(headerBytes + 2 * i, false);
      return { dtype: 'i16', dims, data };
    }
    case 'i32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(headerBytes + 4 * i, false);
      return { dtype: 'i32', dims, data };
    }
    case 'f32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(headerBytes + 4 * i, false);
      return { dtype: 'f32', dims, data };
    }
    case 'f64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(headerBytes + 8 * i, false);
      return { dtype: 'f64', dims, data };
    }
  }
}
