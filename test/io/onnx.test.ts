/**
 * The ONNX writer without a GPU: the protobuf wire encoder (src/io/protobuf.ts) against the byte
 * sequences of protobuf's encoding guide, and the ONNX messages (src/io/onnx.ts) read back with the
 * independent decoder of test/helpers/onnx.ts, field by field. That onnxruntime runs what it writes
 * is test/interop/onnxruntime.test.ts (and test/e2e/onnx_web.test.ts in a browser).
 */
import { describe, expect, it } from 'vitest';
import { encodeOnnx, type OnnxModel } from '../../src/io/onnx.js';
import { ProtoWriter } from '../../src/io/protobuf.js';
import { decodeVarints, decodeWire, readOnnx } from '../helpers/onnx.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('protobuf wire encoder', () => {
  // protobuf.dev/programming-guides/encoding: "08 96 01" is field 1 = 150; "12 07 74 65 73 74 69 6e 67"
  // is field 2 = "testing"; "1a 03 08 96 01" is field 3 holding that first message; "22 06 03 8e 02 9e a7 05"
  // is field 4 packed [3, 270, 86942].
  it("writes the encoding guide's examples byte for byte", () => {
    expect(hex(new ProtoWriter().varint(1, 150).finish())).toBe('089601');
    expect(hex(new ProtoWriter().string(2, 'testing').finish())).toBe('120774657374696e67');
    expect(hex(new ProtoWriter().message(3, new ProtoWriter().varint(1, 150)).finish())).toBe('1a03089601');
    expect(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish())).toBe('2206038e029ea705');
  });

  it('varints: 0, 127/128 at the byte boundary, 2^32, 2^53 − 1, and negative int64 as 10 bytes', () => {
    expect(hex(new ProtoWriter().varint(1, 0).finish())).toBe('0800');
    expect(hex(new ProtoWriter().varint(1, 127).finish())).toBe('087f');
    expect(hex(new ProtoWriter().varint(1, 128).finish())).toBe('088001');
    expect(hex(new ProtoWriter().varint(1, -1).finish())).toBe('08ffffffffffffffffff01');
    expect(hex(new ProtoWriter().varint(1, -2).finish())).toBe('08feffffffffffffffff01');
    for (const v of [2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1), -1, 300]) {
      const [f] = decodeWire(new ProtoWriter().varint(5, v).finish());
      expect(f.field).toBe(5);
      expect(BigInt.asIntN(64, f.value as bigint)).toBe(BigInt(v));
    }
    expect(decodeVarints(new Uint8Array([0x96, 0x01, 0x00]))).toEqual([150n, 0n]);
  });

  it('tags: field numbers up to 2^29 − 1 (past int32 when shifted), floats little-endian', () => {
    const big = 2 ** 29 - 1;
    const [f] = decodeWire(new ProtoWriter().varint(big, 7).finish());
    expect(f).toEqual({ field: big, wireType: 0, value: 7n });
    expect(hex(new ProtoWriter().float(1, 1).finish())).toBe('0d0000803f');
    expect(hex(new ProtoWriter().float(2, -0.5).finish())).toBe('15000000bf');
  });

  it('strings are UTF-8; a long bytes field and nested messages keep their bytes exactly', () => {
    expect(hex(new ProtoWriter().string(1, 'é€').finish())).toBe('0a05c3a9e282ac');
    const blob = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
    const inner = new ProtoWriter().varint(1, 1).bytes(2, blob).string(3, 'x');
    const outer = new ProtoWriter().message(1, inner).message(1, inner).varint(2, 9);
    const bytes = outer.finish();
    expect(bytes.length).toBe(outer.length);
    const fields = decodeWire(bytes);
    expect(fields.map((f) => f.field)).toEqual([1, 1, 2]);
    for (const f of fields.slice(0, 2)) {
      const innerFields = decodeWire(f.value as Uint8Array);
      expect(innerFields.map((x) => x.field)).toEqual([1, 2, 3]);
      expect(innerFields[1].value).toEqual(blob);
    }
  });

  it('refuses what it cannot encode, naming it', () => {
    const w = new ProtoWriter();
    expect(() => w.varint(1, 0.5)).toThrow('protobuf: 0.5 is not a safe integer for a varint');
    expect(() => w.varint(1, 2 ** 53)).toThrow('is not a safe integer');
    expect(() => w.varint(0, 1)).toThrow('protobuf: field number 0 is not an integer in 1..536870911');
    expect(() => w.varint(2 ** 29, 1)).toThrow('field number 536870912');
    expect(() => w.message(1, w)).toThrow('a message cannot contain itself');
  });
});

describe('ONNX messages', () => {
  const model: OnnxModel = {
    irVersion: 8,
    opset: 17,
    producerName: 'webgpu-mlp',
    producerVersion: '9.9.9',
    doc: 'a test',
    metadata: { b: 'second', a: 'first, é' },
    graph: {
      name: 'g',
      nodes: [
        { op: 'Gemm', name: 'z', inputs: ['x', 'w', 'b'], outputs: ['z'], attributes: [{ name: 'transB', int: 1 }] },
        { op: 'LeakyRelu', name: 'a', inputs: ['z'], outputs: ['a'], attributes: [{ name: 'alpha', float: 0.2 }] },
        { op: 'Softmax', name: 'p', inputs: ['a'], outputs: ['p'], attributes: [{ name: 'axis', int: -1 }] },
      ],
      initializers: [
        { name: 'w', dims: [2, 3], data: Float32Array.of(1, -2, 3.5, 1e-30, -0, Number.MAX_VALUE) },
        { name: 'b', dims: [2], data: Float32Array.of(0.1, 0.2) },
        { name: 's', dims: [], data: Float32Array.of(255) },
      ],
      inputs: [{ name: 'x', shape: ['batch', 3], doc: 'in' }],
      outputs: [{ name: 'p', shape: ['batch', 2] }],
    },
  };

  it('a ModelProto read back field by field: versions, producer, metadata_props in order, the graph', () => {
    const read = readOnnx(encodeOnnx(model));
    expect(read.irVersion).toBe(8);
    expect(read.opsets).toEqual([{ domain: '', version: 17 }]);
    expect(read.producerName).toBe('webgpu-mlp');
    expect(read.producerVersion).toBe('9.9.9');
    expect(read.doc).toBe('a test');
    expect(Object.entries(read.metadata)).toEqual([
      ['b', 'second'],
      ['a', 'first, é'],
    ]);
    expect(read.graph.name).toBe('g');
    expect(read.graph.nodes).toEqual([
      { op: 'Gemm', name: 'z', inputs: ['x', 'w', 'b'], outputs: ['z'], attributes: { transB: 1 } },
      { op: 'LeakyRelu', name: 'a', inputs: ['z'], outputs: ['a'], attributes: { alpha: Math.fround(0.2) } },
      { op: 'Softmax', name: 'p', inputs: ['a'], outputs: ['p'], attributes: { axis: -1 } },
    ]);
    expect(read.graph.inputs).toEqual([{ name: 'x', elemType: 1, shape: ['batch', 3], doc: 'in' }]);
    expect(read.graph.outputs).toEqual([{ name: 'p', elemType: 1, shape: ['batch', 2], doc: undefined }]);
  });

  it('initializers: float32 raw_data little-endian, dims packed, scalars with no dims', () => {
    const [w, b, s] = readOnnx(encodeOnnx(model)).graph.initializers;
    expect(w).toEqual({ name: 'w', dims: [2, 3], dataType: 1, data: model.graph.initializers[0].data });
    expect(Object.is(w.data[4], -0)).toBe(true);
    expect(w.data[5]).toBe(Infinity); // Number.MAX_VALUE in float32
    expect(b.data).toEqual(Float32Array.of(0.1, 0.2));
    expect(s).toEqual({ name: 's', dims: [], dataType: 1, data: Float32Array.of(255) });
    // the bytes themselves: 1.0 is 00 00 80 3f
    const bytes = encodeOnnx({
      ...model,
      graph: { ...model.graph, initializers: [{ name: 'one', dims: [1], data: Float32Array.of(1) }] },
    });
    expect(hex(bytes)).toContain('0000803f');
  });

  it('refuses an initializer whose dims do not hold its data', () => {
    const bad = {
      ...model,
      graph: { ...model.graph, initializers: [{ name: 'w', dims: [2, 2], data: new Float32Array(3) }] },
    };
    expect(() => encodeOnnx(bad)).toThrow('ONNX initializer w: dims [2, 2] hold 4 values, data has 3');
  });
});
