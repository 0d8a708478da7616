/**
 * What a WGSL module declares, read from its text: the resources of group 0 by name, the 4-byte
 * scalar fields of its structs with their byte offsets, and its `override` constants. The kernel
 * wrappers (see kernel.ts) name bindings and uniform fields; this turns the names into binding
 * indices and byte offsets, so that a wrapper and its shader cannot drift apart silently: a name
 * the shader does not declare, or a declared one left unset, is an error on the CPU.
 *
 * The subset of WGSL our shaders use: `@group(0) @binding(n) var<uniform|storage[, access]> name: T;`
 * (attributes on one line), `struct S { a: f32, b: u32, ... }` of f32/u32/i32 fields, and
 * `override NAME: T [= v];`. Anything else in a uniform struct is rejected rather than guessed.
 */

export type ScalarType = 'f32' | 'u32' | 'i32';

export interface BindingInfo {
  binding: number;
  /** `uniform`, or `storage` with `read` / `read_write`. */
  space: 'uniform' | 'storage';
  access: 'read' | 'read_write';
  /** The declared type, e.g. `Dims` or `array<f32>`. */
  type: string;
}

export interface FieldInfo {
  name: string;
  type: ScalarType;
  /** Byte offset in the struct. */
  offset: number;
}

export interface StructInfo {
  fields: FieldInfo[];
  /** Size in a uniform buffer: the fields rounded up to 16 bytes. */
  uniformBytes: number;
}

export interface WgslReflection {
  bindings: Map<string, BindingInfo>;
  structs: Map<string, StructInfo>;
  overrides: Map<string, string>;
}

const BINDING =
  /@group\((\d+)\)\s*@binding\((\d+)\)\s*var<\s*(uniform|storage)\s*(?:,\s*(read|read_write)\s*)?>\s*(\w+)\s*:\s*([^;]+);/g;
const STRUCT = /struct\s+(\w+)\s*\{([^}]*)\}/g;
const OVERRIDE = /override\s+(\w+)\s*:\s*(\w+)/g;
const SCALARS: readonly string[] = ['f32', 'u32', 'i32'];

/** Reflects a (preprocessed) WGSL module. `where` names it in errors. */
export function reflectWgsl(source: string, where = 'shader'): WgslReflection {
  const code = stripComments(source);
  const bindings = new Map<string, BindingInfo>();
  const taken = new Map<number, string>();
  for (const m of code.matchAll(BINDING)) {
    const [, group, index, space, access, name, type] = m as unknown as string[];
    if (group !== '0') throw new Error(`${where}: ${name} is in @group(${group}); the kernels use group 0 only`);
    const binding = Number(index);
    const other = taken.get(binding);
    if (other !== undefined) throw new Error(`${where}: @binding(${binding}) is declared twice (${other}, ${name})`);
    taken.set(binding, name);
    bindings.set(name, {
      binding,
      space: space as BindingInfo['space'],
      access: space === 'uniform' ? 'read' : ((access ?? 'read') as BindingInfo['access']),
      type: type.trim(),
    });
  }
  const structs = new Map<string, StructInfo>();
  for (const m of code.matchAll(STRUCT)) {
    const [, name, body] = m as unknown as string[];
    const fields: FieldInfo[] = [];
    let scalarOnly = true;
    for (const part of body.split(',')) {
      const text = part.trim();
      if (!text) continue;
      const [fieldName, fieldType] = text.split(':').map((s) => s.trim());
      if (!SCALARS.includes(fieldType)) scalarOnly = false;
      fields.push({ name: fieldName, type: fieldType as ScalarType, offset: fields.length * 4 });
    }
    // Structs with other members (vectors, arrays) are not packed by name; leave them out.
    if (scalarOnly) structs.set(name, { fields, uniformBytes: Math.max(16, Math.ceil(fields.length / 4) * 16) });
  }
  const overrides = new Map<string, string>();
  for (const m of code.matchAll(OVERRIDE)) overrides.set(m[1] as string, m[2] as string);
  return { bindings, structs, overrides };
}

/**
 * The identifiers an entry point reaches: its body's, and those of every function it calls, transitively.
 * A binding of the module is used by the entry point when its name is among them (WebGPU's `layout:
 * 'auto'` leaves the others out of the bind group layout, so binding them would be an error).
 */
export function identifiersReachedFrom(code: string, entryPoint: string): Set<string> {
  const bodies = functionBodies(stripComments(code));
  const seen = new Set<string>();
  const reached = new Set<string>();
  const visit = (fn: string) => {
    if (seen.has(fn)) return;
    seen.add(fn);
    const body = bodies.get(fn);
    if (body === undefined) return;
    for (const id of body.match(/[A-Za-z_]\w*/g) ?? []) {
      reached.add(id);
      if (bodies.has(id)) visit(id);
    }
  };
  if (!bodies.has(entryPoint)) throw new Error(`no function ${entryPoint} in the shader`);
  visit(entryPoint);
  return reached;
}

/** Every function's text from its parameter list to its closing brace, by name. */
function functionBodies(code: string): Map<string, string> {
  const bodies = new Map<string, string>();
  for (const m of code.matchAll(/\bfn\s+(\w+)\s*\(/g)) {
    const start = m.index ?? 0;
    const open = code.indexOf('{', start);
    if (open < 0) continue;
    let depth = 0;
    let end = open;
    for (; end < code.length; end++) {
      if (code[end] === '{') depth++;
      else if (code[end] === '}' && --depth === 0) break;
    }
    bodies.set(m[1] as string, code.slice(start + m[0].length, end + 1));
  }
  return bodies;
}

/** The code without `//` comments (WGSL has no string literals, so `//` always starts one). */
function stripComments(code: string): string {
  return code.replace(/\/\/[^\n]*/g, '');
}

/** True for padding fields, which a caller never sets: `pad`, `pad0`, `_pad1`… */
export function isPadding(field: string): boolean {
  return /^_?pad\d*$/.test(field);
}

/**
 * The words of a uniform struct with its fields set by name. Every field but padding must be given,
 * and no other; f32 fields are stored as f32, u32/i32 as integers (checked to fit).
 */
export function packStruct(
  struct: StructInfo,
  values: Readonly<Record<string, number>>,
  where: string,
): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(struct.uniformBytes / 4);
  const floats = new Float32Array(words.buffer);
  const ints = new Int32Array(words.buffer);
  const known = new Set(struct.fields.map((f) => f.name));
  for (const key of Object.keys(values)) {
    if (!known.has(key)) {
      throw new Error(
        `${where}: the shader's struct has no field ${key} (fields: ${struct.fields.map((f) => f.name).join(', ')})`,
      );
    }
  }
  for (const field of struct.fields) {
    const value = values[field.name];
    if (value === undefined) {
      if (isPadding(field.name)) continue;
      throw new Error(`${where}: field ${field.name} (${field.type}) is not set`);
    }
    const i = field.offset / 4;
    if (field.type === 'f32') {
      floats[i] = value;
    } else if (field.type === 'u32') {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
        throw new Error(`${where}: field ${field.name} = ${value} does not fit a u32`);
      }
      words[i] = value;
    } else {
      if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) {
        throw new Error(`${where}: field ${field.name} = ${value} does not fit an i32`);
      }
      ints[i] = value;
    }
  }
  return words;
}
