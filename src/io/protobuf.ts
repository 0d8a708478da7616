/**
 * The protobuf wire format, the writing half, as much as ONNX files need (src/io/onnx.ts). Per the
 * encoding guide (protobuf.dev/programming-guides/encoding): a message is a sequence of fields, each
 * a tag — varint `(field number << 3) | wire type` — then its value: wire type 0, a varint (int32,
 * int64, enums; a negative number as its 64-bit two's complement, 10 bytes); wire type 2, a varint
 * length then that many bytes (strings as UTF-8, bytes, embedded messages, packed repeated
 * scalars); wire type 5, 4 bytes little-endian (float). Fields are written in the order given;
 * a repeated field is the same field written again.
 *
 * Embedded messages are kept as their parts (not copied into their parent) until `finish()` joins
 * the whole file once, so the weights of a model are copied once, however deep their message.
 */

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const utf8 = new TextEncoder();

/** A protobuf message being written. */
export class ProtoWriter {
  /** Finished parts; `scratch` holds the bytes written since the last part. */
  private readonly parts: Uint8Array[] = [];
  private scratch: number[] = [];
  private size = 0;

  /** Its encoded length in bytes so far. */
  get length(): number {
    return this.size + this.scratch.length;
  }

  /** A varint field (int32, int64, uint64, enum, bool): wire type 0. */
  varint(field: number, value: number): this {
    this.tag(field, VARINT);
    this.rawVarint(value);
    return this;
  }

  /** A float field: wire type 5, IEEE 754 binary32, little-endian. */
  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.scratch.push(...bytes);
    return this;
  }

  /** A string field, UTF-8: wire type 2. */
  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** A bytes field: wire type 2. The bytes are kept, not copied, until `finish()`. */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.rawVarint(value.length);
    if (value.length <= 64) this.scratch.push(...value);
    else this.part(value);
    return this;
  }

  /** An embedded message: wire type 2, its length then its fields (its parts kept, not copied). */
  message(field: number, value: ProtoWriter): this {
    if (value === this) throw new Error('protobuf: a message cannot contain itself');
    value.flush();
    this.tag(field, LENGTH_DELIMITED);
    this.rawVarint(value.length);
    for (const p of value.parts) this.part(p);
    return this;
  }

  /** A packed repeated varint field (`repeated int64 … [packed = true]`): wire type 2, the varints back to back. */
  packedVarints(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    inner.flush();
    this.tag(field, LENGTH_DELIMITED);
    this.rawVarint(inner.length);
    for (const p of inner.parts) this.part(p);
    return this;
  }

  /** The encoded message, its parts joined into one array. */
  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private tag(field: number, wireType: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 0x1fffffff) {
      throw new Error(`protobuf: field number ${field} is not an integer in 1..536870911`);
    }
    this.rawVarint(field * 8 + wireType); // field << 3 overflows int32 above 2^28
  }

  /** A varint: 7 bits per byte, least significant first, the high bit set on all but the last. */
  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value)) throw new Error(`protobuf: ${value} is not a safe integer for a varint`);
    if (value < 0) {
      // int64 two's complement: always 10 bytes
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= 0x80n) {
        this.scratch.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      this.scratch.push(Number(v));
      return;
    }
    let v = value;
    while (v >= 0x80) {
      this.scratch.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.scratch.push(v);
  }

  private part(bytes: Uint8Array): void {
    this.flush();
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  private flush(): void {
    if (this.scratch.length === 0) return;
    const bytes = Uint8Array.from(this.scratch);
    this.scratch = [];
    this.parts.push(bytes);
    this.size += bytes.length;
  }
}
