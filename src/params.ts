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

/**
 * A true/false setting, e.g. RMSprop's `centered`: `true` or `false` in options and files, a flag
 * without a value on the command line (`--centered`, and `--no-centered` for false).
 */
export interface SwitchSpec {
  readonly default: boolean;
  readonly switch: true;
  /** What it is, for TSDoc, `--help` and the demo. */
  readonly doc: string;
  /** The command-line flag, when not the kebab-case of the name. */
  readonly flag?: string;
}

/** A setting: a number in a range (ParamSpec) or a switch. */
export type SettingSpec = ParamSpec | SwitchSpec;

export type SettingSpecs = { readonly [name: string]: SettingSpec };

/** The value a setting takes: a boolean for a switch, a number for a ParamSpec (either, when not known). */
export type SettingValue<S> = [S] extends [SwitchSpec] ? boolean : [S] extends [ParamSpec] ? number : number | boolean;

/** Setting values, every one set. */
export type SettingValues<S extends SettingSpecs> = { -readonly [K in keyof S]: SettingValue<S[K]> };

/** True for a switch (a true/false setting). */
export function isSwitch(spec: SettingSpec): spec is SwitchSpec {
  return (spec as SwitchSpec).switch === true;
}

export function fail(arg: string, value: unknown, expected: string): never {
  throw new Error(`${arg} = ${formatValue(value)} is invalid: expected ${expected}`);
}

/** Throws (fail) unless `v` is an integer in 1..max. */
export function checkPositiveInt(arg: string, v: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(v) || v < 1 || v > max) fail(arg, v, `an integer in 1..${max}`);
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

/** The range of a parameter as text: `(0, 1)`, `[0, 1e6]`, `integer in [1, 100]`; `true or false` for a switch. */
export function describeRange(spec: SettingSpec): string {
  if (isSwitch(spec)) return 'true or false';
  const range = `${spec.minExclusive ? '(' : '['}${spec.min}, ${spec.max}${spec.maxExclusive ? ')' : ']'}`;
  return spec.integer ? `an integer in ${range}` : `a finite number in ${range}`;
}

/** True when `value` is a number inside the parameter's range (a boolean, for a switch). */
export function inRange(spec: ParamSpec, value: unknown): value is number;
export function inRange(spec: SettingSpec, value: unknown): value is number | boolean;
export function inRange(spec: SettingSpec, value: unknown): value is number | boolean {
  if (isSwitch(spec)) return typeof value === 'boolean';
  if (typeof value !== 'number' || !Number.isFinite(value)) return false;
  if (spec.integer && !Number.isInteger(value)) return false;
  if (spec.minExclusive ? value <= spec.min : value < spec.min) return false;
  if (spec.maxExclusive ? value >= spec.max : value > spec.max) return false;
  return true;
}

/** Checks one value against its spec; `arg` names it in the error. */
export function checkParam(arg: string, spec: ParamSpec, value: unknown): number;
export function checkParam(arg: string, spec: SettingSpec, value: unknown): number | boolean;
export function checkParam(arg: string, spec: SettingSpec, value: unknown): number | boolean {
  if (!inRange(spec, value)) fail(arg, value, describeRange(spec));
  return value;
}

/**
 * Every parameter of `specs`: the given value (checked) or the default. Unknown keys of `given`
 * are an error unless listed in `otherKeys` (keys the caller handles itself, such as `kind`).
 */
export function resolveParams<S extends SettingSpecs>(
  arg: string,
  specs: S,
  given: Readonly<Partial<Record<string, unknown>>> = {},
  otherKeys: readonly string[] = [],
): SettingValues<S> {
  checkKeys(arg, given, [...Object.keys(specs), ...otherKeys]);
  const out: Record<string, number | boolean> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const value = given[key];
    out[key] = value === undefined ? spec.default : checkParam(`${arg}.${key}`, spec, value);
  }
  return out as SettingValues<S>;
}
