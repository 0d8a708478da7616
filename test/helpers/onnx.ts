/**
 * Reading ONNX files back in the tests, written apart from src/io/ (an independent reading of the
 * same onnx.proto, github.com/onnx/onnx `onnx/onnx.proto`): a protobuf wire decoder and the fields of
 * ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto and ValueInfoProto the export writes.
 */

export interface WireField {
  field: number;
  wireType: number;
  /** wire type 0: the varint as an unsigned 64-bit bigint; 2: the bytes; 5: the 4 bytes. */
  value: bigint | Uint8Array;
}

/** Every field of a message, in order; throws on a truncated or malformed message. */
export function decodeWire(bytes: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= bytes.length) throw new Error(`truncated varint at byte ${at}`);
      if (shift > 63n) throw new Error(`varint longer than 10 bytes at byte ${at}`);
      const b = bytes[at++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field < 1) throw new Error(`field number ${field} at byte ${at}`);
    if (wireType === 0) fields.push({ field, wireType, value: varint() });
    else if (wireType === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new Error(`field ${field}: ${length} bytes past the end`);
      fields.push({ field, wireType, value: bytes.subarray(at, at + length) });
      at += length;
    } else if (wireType === 5) {
      if (at + 4 > bytes.length) throw new Error(`field ${field}: fixed32 past the end`);
      fields.push({ field, wireType, value: bytes.subarray(at, at + 4) });
      at += 4;
    } else throw new Error(`wire type ${wireType} (field ${field}) is not one the export writes`);
  }
  return fields;
}

const text = new TextDecoder('utf-8', { fatal: true });
const all = (fields: WireField[], n: number) => fields.filter((f) => f.field === n).map((f) => f.value);
const one = (fields: WireField[], n: number) => {
  const found = all(fields, n);
  if (found.length > 1) throw new Error(`field ${n} appears ${found.length} times`);
  return found[0];
};
const str = (v: bigint | Uint8Array | undefined) => (v instanceof Uint8Array ? text.decode(v) : undefined);
/** An int64 varint as a signed number. */
const int = (v: bigint | Uint8Array | undefined) => (typeof v === 'bigint' ? Number(BigInt.asIntN(64, v)) : undefined);
const bytesOf = (v: bigint | Uint8Array | undefined) => {
  if (!(v instanceof Uint8Array)) throw new Error('expected a length-delimited field');
  return v;
};

export interface ReadNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, number>;
}

export interface ReadValue {
  name: string;
  elemType: number;
  shape: (number | string)[];
  doc?: string;
}

export interface ReadModel {
  irVersion: number;
  opsets: { domain: string; version: number }[];
  producerName?: string;
  producerVersion?: string;
  doc?: string;
  metadata: Record<string, string>;
  graph: {
    name?: string;
    nodes: ReadNode[];
    initializers: { name: string; dims: number[]; dataType: number; data: Float32Array }[];
    inputs: ReadValue[];
    outputs: ReadValue[];
  };
}

/** The model an .onnx file holds, as far as the export writes one. */
export function readOnnx(bytes: Uint8Array): ReadModel {
  const m = decodeWire(bytes);
  const g = decodeWire(bytesOf(one(m, 7)));
  const metadata: Record<string, string> = {};
  for (const entry of all(m, 14)) {
    const e = decodeWire(bytesOf(entry));
    const key = str(one(e, 1)) as string;
    if (Object.hasOwn(metadata, key)) throw new Error(`metadata_props key ${key} twice`);
    metadata[key] = str(one(e, 2)) ?? '';
  }
  return {
    irVersion: int(one(m, 1)) as number,
    opsets: all(m, 8).map((o) => {
      const f = decodeWire(bytesOf(o));
      return { domain: str(one(f, 1)) ?? '', version: int(one(f, 2)) as number };
    }),
    producerName: str(one(m, 2)),
    producerVersion: str(one(m, 3)),
    doc: str(one(m, 6)),
    metadata,
    graph: {
      name: str(one(g, 2)),
      nodes: all(g, 1).map((n) => readNode(bytesOf(n))),
      initializers: all(g, 5).map((t) => readTensor(bytesOf(t))),
      inputs: all(g, 11).map((v) => readValue(bytesOf(v))),
      outputs: all(g, 12).map((v) => readValue(bytesOf(v))),
    },
  };
}

function readNode(bytes: Uint8Array): ReadNode {
  const f = decodeWire(bytes);
  const attributes: Record<string, number> = {};
  for (const a of all(f, 5)) {
    const af = decodeWire(bytesOf(a));
    const name = str(one(af, 1)) as string;
    const type = int(one(af, 20));
    if (type === 2) attributes[name] = int(one(af, 3)) as number;
    else if (type === 1) attributes[name] = new DataView(bytesOf(one(af, 2)).slice().buffer).getFloat32(0, true);
    else throw new Error(`attribute ${name}: type ${type} is not INT or FLOAT`);
  }
  return {
    inputs: all(f, 1).map((v) => str(v) as string),
    outputs: all(f, 2).map((v) => str(v) as string),
    name: str(one(f, 3)) as string,
    op: str(one(f, 4)) as string,
    attributes,
  };
}

function readTensor(bytes: Uint8Array): ReadModel['graph']['initializers'][number] {
  const f = decodeWire(bytes);
  // dims: packed (wire type 2) or one varint per dimension; both are valid protobuf
  const dims = all(f, 1).flatMap((v) =>
    typeof v === 'bigint' ? [Number(v)] : decodeVarints(v).map((d) => Number(BigInt.asIntN(64, d))),
  );
  const raw = bytesOf(one(f, 9)).slice();
  const view = new DataView(raw.buffer);
  const data = new Float32Array(raw.length / 4);
  for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * 4, true);
  return { name: str(one(f, 8)) as string, dims, dataType: int(one(f, 2)) as number, data };
}

function readValue(bytes: Uint8Array): ReadValue {
  const f = decodeWire(bytes);
  const type = decodeWire(bytesOf(one(f, 2)));
  const tensor = decodeWire(bytesOf(one(type, 1)));
  const shape = decodeWire(bytesOf(one(tensor, 2)));
  return {
    name: str(one(f, 1)) as string,
    elemType: int(one(tensor, 1)) as number,
    shape: all(shape, 1).map((d) => {
      const df = decodeWire(bytesOf(d));
      const value = one(df, 1);
      return value !== undefined ? (int(value) as number) : (str(one(df, 2)) as string);
    }),
    doc: str(one(f, 3)),
  };
}

/** Varints back to back (a packed repeated field). */
export function decodeVarints(bytes: Uint8Array): bigint[] {
  const out: bigint[] = [];
  let value = 0n;
  let shift = 0n;
  for (const b of bytes) {
    value |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if (b < 0x80) {
      out.push(value);
      value = 0n;
      shift = 0n;
    }
  }
  if (shift !== 0n) throw new Error('truncated packed varints');
  return out;
}
