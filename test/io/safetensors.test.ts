import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, SAFETENSORS_MAX_HEADER_BYTES } from '../../src/io/safetensors.js';
import { mulberry32 } from '../../src/model/random.js';

/** A file from a header object (or raw header text) and a data buffer, header length set right. */
function build(header: unknown, buffer: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + buffer.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(buffer, 8 + json.length);
  return out;
}

/** The header object of a file. */
function headerOf(file: Uint8Array): Record<string, unknown> {
  const n = new DataView(file.buffer, file.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n)));
}

const f32 = (n: number, seed: number): Float32Array => {
  const rand = mulberry32(seed);
  return Float32Array.from({ length: n }, () => rand() * 2 - 1);
};

/** A small valid file: W1 [3, 2], b1 [2], a scalar, metadata. */
const SMALL = encodeSafetensors(
  [
    { name: 'layers.0.weight', shape: [3, 2], data: f32(6, 1) },
    { name: 'layers.0.bias', shape: [2], data: f32(2, 2) },
    { name: 'step', shape: [], data: Float32Array.of(7) },
  ],
  { format: 'pt', layers: '[2, 2]' },
);

describe('encodeSafetensors', () => {
  // These are byte for byte what the reference writer (Python safetensors 0.8.0, `safetensors.numpy.save`) produces.
  it('writes the exact bytes of a tiny file: u64 LE length, compact JSON padded with spaces, f32 LE data', () => {
    const file = encodeSafetensors([{ name: 'w', shape: [2], data: Float32Array.of(1, -2) }], { format: 'pt' });
    const json = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    expect(json.length).toBe(85); // padded to 88
    const expected = [
      ...[88, 0, 0, 0, 0, 0, 0, 0],
      ...Array.from(json, (c) => c.charCodeAt(0)),
      ...[0x20, 0x20, 0x20],
      ...[0x00, 0x00, 0x80, 0x3f], // 1.0f little-endian
      ...[0x00, 0x00, 0x00, 0xc0], // -2.0f little-endian
    ];
    expect([...file]).toEqual(expected);
  });

  it('pads every header to a multiple of 8 and lays tensors out contiguously in the given order', () => {
    for (let len = 1; len <= 9; len++) {
      const file = encodeSafetensors([
        { name: 'x'.repeat(len), shape: [1, 2], data: Float32Array.of(1, 2) },
        { name: 'a', shape: [3], data: Float32Array.of(3, 4, 5) },
      ]);
      const n = new DataView(file.buffer).getUint32(0, true);
      expect(n % 8).toBe(0);
      expect(file.length).toBe(8 + n + 20);
      const h = headerOf(file);
      expect(Object.keys(h)).toEqual(['x'.repeat(len), 'a']);
      expect(h.a).toEqual({ dtype: 'F32', shape: [3], data_offsets: [8, 20] });
    }
  });

  it('writes no __metadata__ when none is given', () => {
    const file = encodeSafetensors([{ name: 'w', shape: [1], data: Float32Array.of(1) }]);
    expect(Object.keys(headerOf(file))).toEqual(['w']);
    expect(decodeSafetensors(file).metadata).toEqual({});
  });

  it('rejects bad input', () => {
    const d = Float32Array.of(1, 2);
    expect(() => encodeSafetensors([{ name: 'w', shape: [3], data: d }])).toThrow(
      /tensor "w" has shape \[3\] \(3 elements\) but 2 values/,
    );
    expect(() => encodeSafetensors([{ name: 'w', shape: [-2], data: d }])).toThrow(
      /shape \[-2\], expected non-negative integers/,
    );
    expect(() =>
      encodeSafetensors([
        { name: 'w', shape: [2], data: d },
        { name: 'w', shape: [2], data: d },
      ]),
    ).toThrow(/tensor "w" appears twice/);
    expect(() => encodeSafetensors([{ name: '__metadata__', shape: [2], data: d }])).toThrow(/reserved/);
  });
});

describe('decodeSafetensors', () => {
  it('round-trips tensors, shapes, order and metadata, bit-exact', () => {
    const tensors = [
      { name: 'layers.0.weight', shape: [5, 3], data: f32(15, 3) },
      { name: 'layers.0.bias', shape: [3], data: Float32Array.of(-0, Number.NaN, Number.POSITIVE_INFINITY) },
      { name: 'empty', shape: [0, 4], data: new Float32Array(0) },
      { name: 'scalar', shape: [], data: Float32Array.of(1e-45) },
      { name: 'ünïcode ✓', shape: [1, 1, 2], data: Float32Array.of(3.5, -3.5) },
    ];
    // fromEntries makes "__proto__" an own key, as JSON.parse does
    const metadata: Record<string, string> = Object.fromEntries([
      ['format', 'pt'],
      ['spec', '{"layers":[5,3]}'],
      ['ключ', 'значение'],
      ['__proto__', 'kept'],
    ]);
    const { tensors: got, metadata: meta } = decodeSafetensors(encodeSafetensors(tensors, metadata));
    expect([...got.keys()]).toEqual(tensors.map((t) => t.name));
    for (const t of tensors) {
      const g = got.get(t.name);
      expect(g?.dtype).toBe('F32');
      expect(g?.shape).toEqual(t.shape);
      expect(new Uint8Array(g?.data.buffer ?? new ArrayBuffer(0), g?.data.byteOffset, g?.data.byteLength)).toEqual(
        new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      );
    }
    expect(Object.entries(meta)).toEqual(Object.entries(metadata));
    expect(Object.hasOwn(meta, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(meta)).toBe(Object.prototype);
  });

  it('accepts a header padded to any length and an unaligned buffer, copying when unaligned', () => {
    const data = Float32Array.of(1.25, -7);
    const buffer = new Uint8Array(data.buffer);
    // header of 69 bytes: data starts at 77, not 4-aligned
    const header = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const file = build(header.padEnd(69, ' '), buffer);
    const t = decodeSafetensors(file).tensors.get('t');
    expect([...(t?.data ?? [])]).toEqual([1.25, -7]);
    expect(t?.data.buffer).not.toBe(file.buffer);
    // the same file shifted by 3 bytes inside a larger buffer: data now at 80, aligned, a view
    const outer = new Uint8Array(file.length + 3);
    outer.set(file, 3);
    const v = decodeSafetensors(outer.subarray(3)).tensors.get('t');
    expect([...(v?.data ?? [])]).toEqual([1.25, -7]);
    expect(v?.data.buffer).toBe(outer.buffer);
  });

  it('reads tensors stored out of header order, returning them in file order', () => {
    const buffer = new Uint8Array(Float32Array.of(1, 2, 3).buffer);
    const file = build(
      {
        b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
        a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      },
      buffer,
    );
    const { tensors } = decodeSafetensors(file);
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect([...(tensors.get('b')?.data ?? [])]).toEqual([3]);
  });
});

describe('decodeSafetensors: corruption gives an Error saying what is wrong', () => {
  const W = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const EIGHT = new Uint8Array(8);
  const check = (file: Uint8Array, re: RegExp): void => {
    expect(() => decodeSafetensors(file, 'm.safetensors')).toThrow(re);
  };

  it('file shorter than 8 bytes', () => {
    check(new Uint8Array(5), /^m\.safetensors: file is 5 bytes, shorter than the 8-byte header length/);
  });

  it('truncated file: header length past the end', () => {
    check(
      SMALL.subarray(0, 40),
      /^m\.safetensors: header length \d+ runs past the end of the file \(the file is 40 bytes/,
    );
  });

  it('absurd header length', () => {
    const file = SMALL.slice();
    new DataView(file.buffer).setUint32(4, 1, true); // +2^32
    check(file, /header length \d+ is over the 100000000-byte limit/);
    new DataView(file.buffer).setUint32(4, 0xffffffff, true);
    check(file, /is over the 100000000-byte limit/);
    expect(SAFETENSORS_MAX_HEADER_BYTES).toBe(100_000_000);
  });

  it('truncated data buffer', () => {
    check(
      SMALL.subarray(0, SMALL.length - 4),
      /tensor "step": data_offsets end 36 is past the end of the 32-byte data buffer \(begin 32\)/,
    );
  });

  it('header not UTF-8, not JSON, not an object', () => {
    const badUtf8 = new Uint8Array(8 + 3);
    badUtf8[0] = 3;
    badUtf8.set([0x7b, 0xff, 0x7d], 8);
    check(badUtf8, /^m\.safetensors: header is not valid UTF-8$/);
    check(build('{"w": {'), /^m\.safetensors: header is not valid JSON \(/);
    check(build('[1, 2]'), /header is JSON array, expected an object/);
    check(build('null'), /header is JSON null, expected an object/);
    check(build('42'), /header is JSON number, expected an object/);
  });

  it('entry missing a field or with the wrong types', () => {
    check(build({ w: { dtype: 'F32', shape: [2] } }, EIGHT), /^m\.safetensors: tensor "w": missing "data_offsets"$/);
    check(build({ w: { shape: [2], data_offsets: [0, 8] } }, EIGHT), /tensor "w": missing "dtype"/);
    check(build({ w: [1, 2] }, EIGHT), /tensor "w": entry is \[1,2\], expected \{ dtype, shape, data_offsets \}/);
    check(build({ w: { ...W, dtype: 32 } }, EIGHT), /tensor "w": dtype is 32, expected a string/);
    check(
      build({ w: { ...W, shape: [2.5] } }, EIGHT),
      /tensor "w": shape is \[2\.5\], expected an array of non-negative integers/,
    );
    check(build({ w: { ...W, shape: '2' } }, EIGHT), /shape is "2"/);
    check(
      build({ w: { ...W, data_offsets: [0] } }, EIGHT),
      /tensor "w": data_offsets is \[0\], expected \[begin, end\]/,
    );
    check(build({ w: { ...W, data_offsets: [0, 8.5] } }, EIGHT), /data_offsets is \[0,8\.5\]/);
    check(build({ w: { ...W, data_offsets: [-8, 0] } }, EIGHT), /data_offsets is \[-8,0\]/);
  });

  it('unsupported dtype, naming the supported ones', () => {
    check(
      build({ w: { ...W, dtype: 'F16' } }, EIGHT),
      /^m\.safetensors: tensor "w": unsupported dtype "F16"; supported: F32$/,
    );
    check(build({ w: { ...W, dtype: 'float32' } }, EIGHT), /tensor "w": unknown dtype "float32"; supported: F32/);
  });

  it('begin > end', () => {
    check(build({ w: { ...W, data_offsets: [8, 0] } }, EIGHT), /tensor "w": data_offsets \[8, 0\] has begin > end/);
  });

  it('offsets past the end of the buffer, naming the tensor and both numbers', () => {
    check(
      build({ w: { ...W, data_offsets: [4, 12] } }, EIGHT),
      /tensor "w": data_offsets end 12 is past the end of the 8-byte data buffer/,
    );
  });

  it('shape and byte length disagree', () => {
    check(
      build({ w: { ...W, shape: [3] } }, EIGHT),
      /tensor "w": shape \[3\] needs 3 × 4 = 12 bytes but data_offsets \[0, 8\] span 8/,
    );
  });

  it('overlapping tensors', () => {
    check(
      build({ a: W, b: { ...W, shape: [1], data_offsets: [4, 8] } }, EIGHT),
      /tensor "b" at \[4, 8\] overlaps tensor "a", which ends at 8/,
    );
  });

  it('a gap or trailing bytes in the buffer', () => {
    check(
      build({ a: { ...W, shape: [1], data_offsets: [4, 8] } }, EIGHT),
      /gap in the data buffer: bytes \[0, 4\) before tensor "a" belong to no tensor/,
    );
    check(
      build({ a: { ...W, shape: [1], data_offsets: [0, 4] } }, EIGHT),
      /4 trailing bytes: the data buffer is 8 bytes but the tensors cover 4/,
    );
  });

  it('metadata that is not strings', () => {
    check(build({ __metadata__: { epochs: 3 } }), /^m\.safetensors: __metadata__\["epochs"\] is 3, expected a string$/);
    check(build({ __metadata__: ['a'] }), /__metadata__ is \["a"\], expected an object of strings/);
  });
});

describe('decodeSafetensors: fuzz', () => {
  it('4000 seeded mutations parse or throw a plain Error naming the file', () => {
    const rand = mulberry32(1234);
    const int = (n: number): number => Math.floor(rand() * n);
    const headerLength = new DataView(SMALL.buffer).getUint32(0, true);
    const validHeader = headerOf(SMALL);
    const hugeU32 = [
      0xffffffff,
      0x80000000,
      0x7fffffff,
      SAFETENSORS_MAX_HEADER_BYTES + 1,
      headerLength + 1,
      headerLength - 1,
    ];
    const wild: unknown[] = [-1, 1.5, 2 ** 53, 1e300, 'x', null, [], {}, [0, 1, 2], 0, 4, 8, 1 << 30];
    let parsed = 0;
    let rejected = 0;
    for (let trial = 0; trial < 4000; trial++) {
      let file: Uint8Array = SMALL.slice();
      const view = new DataView(file.buffer);
      switch (int(6)) {
        case 0: // flip 1..3 bytes anywhere
          for (let k = 1 + int(3); k > 0; k--) file[int(file.length)] ^= 1 + int(255);
          break;
        case 1: // flip a byte in the header JSON
          file[8 + int(headerLength)] ^= 1 + int(255);
          break;
        case 2: // truncate
          file = file.slice(0, int(file.length));
          break;
        case 3: // huge or slightly wrong header length
          view.setUint32(int(2) * 4, hugeU32[int(hugeU32.length)], true);
          break;
        case 4: {
          // rewrite one field of one entry with a wild value, keeping the JSON valid
          const h = structuredClone(validHeader);
          const keys = Object.keys(h);
          const entry = h[keys[int(keys.length)]] as Record<string, unknown>;
          const fields = Object.keys(entry);
          const field = fields[int(fields.length)];
          const current = entry[field];
          if (Array.isArray(current) && current.length > 0 && rand() < 0.7) {
            current[int(current.length)] = wild[int(wild.length)];
          } else {
            entry[field] = wild[int(wild.length)];
          }
          file = build(h, SMALL.subarray(8 + headerLength));
          break;
        }
        default: {
          // append garbage
          const longer = new Uint8Array(file.length + 1 + int(8));
          longer.set(file);
          file = longer;
        }
      }
      try {
        const { tensors } = decodeSafetensors(file, 'fuzz.safetensors');
        for (const t of tensors.values()) expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        parsed++;
      } catch (e) {
        if (!(e instanceof Error) || e.constructor !== Error || !e.message.startsWith('fuzz.safetensors: ')) throw e;
        rejected++;
      }
    }
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(1000);
  });
});
