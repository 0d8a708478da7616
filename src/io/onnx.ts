/**
 * ONNX files, written: the subset of onnx.proto (github.com/onnx/onnx, `onnx/onnx.proto`; every
 * field number below is that file's) that a feed-forward network needs — a ModelProto with its
 * opset, producer and metadata_props, one GraphProto of nodes with attributes, float32 initializers
 * as TensorProto raw_data (little-endian, as onnx.proto requires), and the graph's inputs and
 * outputs as ValueInfoProto with a tensor type and a shape whose dimensions are numbers or names
 * (a symbolic batch). Encoded with the wire format of protobuf.ts; nothing else is needed.
 *
 * What network a graph holds is src/io/onnx_export.ts.
 */
import { ProtoWriter } from './protobuf.js';

/** onnx.proto `message ModelProto`. */
const MODEL = {
  irVersion: 1,
  producerName: 2,
  producerVersion: 3,
  docString: 6,
  graph: 7,
  opsetImport: 8,
  metadataProps: 14,
};
/** onnx.proto `message OperatorSetIdProto`. */
const OPSET = { domain: 1, version: 2 };
/** onnx.proto `message StringStringEntryProto`. */
const ENTRY = { key: 1, value: 2 };
/** onnx.proto `message GraphProto`. */
const GRAPH = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12 };
/** onnx.proto `message NodeProto`. */
const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, docString: 6 };
/** onnx.proto `message AttributeProto`, and its `enum AttributeType`. */
const ATTRIBUTE = { name: 1, f: 2, i: 3, type: 20 };
const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2 };
/** onnx.proto `message TensorProto`, and its `enum DataType`. */
const TENSOR = { dims: 1, dataType: 2, name: 8, rawData: 9, docString: 12 };
export const FLOAT = 1;
/** onnx.proto `message ValueInfoProto`, `message TypeProto` (and its `Tensor`), `message TensorShapeProto` (and its `Dimension`). */
const VALUE_INFO = { name: 1, type: 2, docString: 3 };
const TYPE = { tensorType: 1 };
const TYPE_TENSOR = { elemType: 1, shape: 2 };
const SHAPE = { dim: 1 };
const DIMENSION = { dimValue: 1, dimParam: 2 };

/** A node attribute: an int (INT, int64) or a float (FLOAT, float32). */
export type OnnxAttribute = { name: string; int: number } | { name: string; float: number };

export interface OnnxNode {
  /** The operator, of the default domain (ai.onnx): `Gemm`, `Relu`, … */
  op: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly OnnxAttribute[];
  doc?: string;
}

/** A float32 constant of the graph. */
export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  data: Float32Array;
  doc?: string;
}

/** A graph input or output: float32, each dimension a size or a name (symbolic: any size, the same wherever the name is). */
export interface OnnxValue {
  name: string;
  shape: readonly (number | string)[];
  doc?: string;
}

export interface OnnxModel {
  /** The IR version (onnx.proto `enum Version`; docs/Versioning.md pairs it with the opset). */
  irVersion: number;
  /** The version of the default operator set (ai.onnx). */
  opset: number;
  producerName: string;
  producerVersion: string;
  doc?: string;
  /** The model's metadata_props, in this order. */
  metadata: Readonly<Record<string, string>>;
  graph: {
    name: string;
    doc?: string;
    nodes: readonly OnnxNode[];
    initializers: readonly OnnxInitializer[];
    inputs: readonly OnnxValue[];
    outputs: readonly OnnxValue[];
  };
}

/** The model as an .onnx file (a serialized ModelProto). */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const m = new ProtoWriter()
    .varint(MODEL.irVersion, model.irVersion)
    .string(MODEL.producerName, model.producerName)
    .string(MODEL.producerVersion, model.producerVersion);
  if (model.doc) m.string(MODEL.docString, model.doc);
  m.message(MODEL.graph, graph(model.graph));
  m.message(MODEL.opsetImport, new ProtoWriter().string(OPSET.domain, '').varint(OPSET.version, model.opset));
  for (const [key, value] of Object.entries(model.metadata)) {
    m.message(MODEL.metadataProps, new ProtoWriter().string(ENTRY.key, key).string(ENTRY.value, value));
  }
  return m.finish();
}

function graph(g: OnnxModel['graph']): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(GRAPH.node, node(n));
  w.string(GRAPH.name, g.name);
  for (const t of g.initializers) w.message(GRAPH.initializer, tensor(t));
  if (g.doc) w.string(GRAPH.docString, g.doc);
  for (const v of g.inputs) w.message(GRAPH.input, valueInfo(v));
  for (const v of g.outputs) w.message(GRAPH.output, valueInfo(v));
  return w;
}

function node(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(NODE.input, i);
  for (const o of n.outputs) w.string(NODE.output, o);
  w.string(NODE.name, n.name).string(NODE.opType, n.op);
  for (const a of n.attributes ?? []) {
    const attr = new ProtoWriter().string(ATTRIBUTE.name, a.name);
    if ('int' in a) attr.varint(ATTRIBUTE.i, a.int).varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.INT);
    else attr.float(ATTRIBUTE.f, a.float).varint(ATTRIBUTE.type, ATTRIBUTE_TYPE.FLOAT);
    w.message(NODE.attribute, attr);
  }
  if (n.doc) w.string(NODE.docString, n.doc);
  return w;
}

function tensor(t: OnnxInitializer): ProtoWriter {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.data.length) {
    throw new Error(
      `ONNX initializer ${t.name}: dims [${t.dims.join(', ')}] hold ${count} values, data has ${t.data.length}`,
    );
  }
  const w = new ProtoWriter()
    .packedVarints(TENSOR.dims, t.dims)
    .varint(TENSOR.dataType, FLOAT)
    .string(TENSOR.name, t.name);
  if (t.doc) w.string(TENSOR.docString, t.doc);
  return w.bytes(TENSOR.rawData, littleEndian(t.data));
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** float32 values as little-endian bytes (raw_data's byte order): their own bytes on a little-endian platform. */
function littleEndian(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return bytes;
}

function valueInfo(v: OnnxValue): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.varint(DIMENSION.dimValue, d);
    else dim.string(DIMENSION.dimParam, d);
    shape.message(SHAPE.dim, dim);
  }
  const tensorType = new ProtoWriter().varint(TYPE_TENSOR.elemType, FLOAT).message(TYPE_TENSOR.shape, shape);
  const w = new ProtoWriter()
    .string(VALUE_INFO.name, v.name)
    .message(VALUE_INFO.type, new ProtoWriter().message(TYPE.tensorType, tensorType));
  if (v.doc) w.string(VALUE_INFO.docString, v.doc);
  return w;
}
