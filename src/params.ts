/**
 * Named numeric parameters with defaults and valid ranges — an optimizer's learning rate, a leaky
 * ReLU's slope, a Huber loss's δ — declared once beside what uses them and checked by one function,
 * the same from the library, the CLI and the demo. Also the shared wording of option errors: every
 * one names the argument, the bad value and what was expected.
 */

/** One numeric parameter: its default, its valid range and a line of documentation. */
export interface ParamSpec {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  /** The range excludes `min` (e.g. a learning rate > 0). Default false: min is allowed. */
  readonly minExclusive?: boolean;
  /** The range excludes `max` (e.g. a momentum < 1). Default false: max is allowed. */
  readonly maxExclusive?: boolean;
  /** Must be an integer. */
  readonly integer?: boolean;
  /** What it is, for TSDoc, `--help` and the demo. */
  readonly doc: string;
  /** The command-line flag, when not the kebab-case of the name (e.g. `lr` for learningRate). */
  readonly flag?: string;
}

export type ParamSpecs<P extends string = string> = { readonly [K in P]: ParamSpec };

/** Parameter values, every one set. */
export type ParamValues<P extends string = string> = { [K in P]: number };

export function fail(arg: string, value: unknown, expected: string): never {
  throw new Error(`${arg} = ${formatValue(value)} is invalid: expected ${expected}`);
}

/** A name for the type of a value, for errors: `Float64Array`, `number[][]`, `GPUAdapter`, `object`, `null`, `string`. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'an empty array';
    return Array.isArray(value[0]) ? 'number[][]' : `${typeof value[0]}[]`;
  }
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  if (typeof value === 'object')
    return value.constructor?.name && value.constructor !== Object ? value.constructor.name : 'object';
  return typeof value;
}

/** What was given, for an error: its type, with the value itself when it is a number, string or the like (`5 (number)`). */
export function describeValue(value: unknown): string {
  return typeof value === 'object' && value !== null ? typeName(value) : `${formatValue(value)} (${typeName(value)})`;
}

/**
 * A value for a message, cut to 200 characters. Arrays nested deeper than 16 (a file's JSON can nest
 * past the stack) end in `[…]`.
 */
export function formatValue(value: unknown): string {
  const s = formatNested(value, 0);
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}

function formatNested(value: unknown, depth: number): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`; // a BigInt, not the number it prints as
  if (Array.isArray(value)) return depth < 16 ? `[${value.map((v) => formatNested(v, depth + 1)).join(', ')}]` : '[…]';
  // (objects without a prototype too: String() throws on them)
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value)) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/**
 * Throws unless `options` is an options object, naming what one looks like (`expected`, e.g.
 * "{ output? }, or nothing"), then on the first key not in `known`, then on the first option set to `null`.
 */
export function checkOptions(options: unknown, known: readonly string[], expected: string): asserts options is object {
  if (options === null || typeof options !== 'object') fail('options', options, expected);
  checkKeys('options', options, known);
  // One rule for every option: left out (or undefined) takes the default; null is refused, as it is
  // more often a value that went missing upstream than a request for the default.
  for (const [key, value] of Object.entries(options)) {
    if (value === null) fail(`options.${key}`, value, 'a value; leave the option out for its default');
  }
}

/** Throws on the first key of `given` that is not in `known`. */
export function checkKeys(arg: string, given: object, known: readonly string[]): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key))
      fail(`${arg}.${key}`, (given as Record<string, unknown>)[key], `one of the known options: ${known.join(', ')}`);
  }
}

/** The range of a parameter as text: `(0, 1)`, `[0, 1e6]`, `integer in [1, 100]`. */
export function describeRange(spec: ParamSpec): string {
  const range = `${spec.minExclusive ? '(' : '['}${spec.min}, ${spec.max}${spec.maxExclusive ? ')' : ']'}`;
  return spec.integer ? `an integer in ${range}` : `a finite number in ${range}`;
}

/** True when `value` is a number inside the parameter's range. */
export function inRange(spec: ParamSpec, value: unknown): value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (spec.integer && !Number.isInteger(value)) return false;
  if (spec.minExclusive ? value <= spec.min : value < spec.min) return false;
  if (spec.maxExclusive ? value >= spec.max : value > spec.max) return false;
  return true;
}

/** Checks one value against its spec; `arg` names it in the error. */
export function checkParam(arg: string, spec: ParamSpec, value: unknown): number {
  if (!inRange(spec, value)) fail(arg, value, describeRange(spec));
  return value;
}

/**
 * Every parameter of `specs`: the given value (checked) or the default. Unknown keys of `given`
 * are an error unless listed in `otherKeys` (keys the caller handles itself, such as `kind`).
 */
export function resolveParams<P extends string>(
  arg: string,
  specs: ParamSpecs<P>,
  given: Readonly<Partial<Record<string, unknown>>> = {},
  otherKeys: readonly string[] = [],
): ParamValues<P> {
  checkKeys(arg, given, [...Object.keys(specs), ...otherKeys]);
  const out = {} as ParamValues<P>;
  for (const key of Object.keys(specs) as P[]) {
    const value = given[key];
    out[key] = value === undefined ? specs[key].default : checkParam(`${arg}.${key}`, specs[key], value);
  }
  return out;
}
