/**
 * Command-line flags, shared by `npm run train` and `npm run bench`: `--flag value` and
 * `--flag=value` forms, and errors that name the flag, the bad value and what was expected.
 */
import { formatValue } from '../params.js';

export function bad(flag: string, value: string, expected: string): never {
  throw new Error(`${flag} ${formatValue(value)} is invalid: expected ${expected}. See --help.`);
}

export function int(flag: string, v: string, min: number, max: number): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) bad(flag, v, `an integer in ${min}..${max}`);
  return n;
}

/** A decimal number: digits with an optional fraction and exponent (not `0x10`, `Infinity` or ``). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

export function num(
  flag: string,
  v: string,
  min: number,
  max: number,
  minExclusive = false,
  maxExclusive = false,
): number {
  const n = Number(v);
  if (
    !DECIMAL.test(v) ||
    !Number.isFinite(n) ||
    (minExclusive ? n <= min : n < min) ||
    (maxExclusive ? n >= max : n > max)
  ) {
    bad(flag, v, `a number in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`);
  }
  return n;
}

export function path(flag: string, v: string): string {
  if (v.trim() === '') bad(flag, v, 'a file path');
  return v;
}

export interface Flag {
  /** The flag without its `=value`, e.g. `--epochs`. */
  name: string;
  /** The flag's value: after `=`, or the next argument. */
  value(): string;
  /** Throws if the flag was given a value (`--quick=1`). */
  none(): void;
  /** Throws: the flag is not known. */
  unknown(): never;
}

/** Calls `visit` once per flag of argv (without node and script). */
export function forEachFlag(argv: readonly string[], visit: (flag: Flag) => void): void {
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i];
    const eq = raw.indexOf('=');
    const inline = raw.startsWith('--') && eq > 0;
    const name = inline ? raw.slice(0, eq) : raw;
    const given = inline ? raw.slice(eq + 1) : undefined;
    visit({
      name,
      value() {
        if (given !== undefined) return given;
        const next = argv[i + 1];
        if (next === undefined || next.startsWith('--')) throw new Error(`${name} needs a value. See --help.`);
        i++;
        return next;
      },
      none() {
        if (given !== undefined) bad(name, given, 'no value');
      },
      unknown() {
        throw new Error(`unknown option ${formatValue(raw)}. See --help.`);
      },
    });
  }
}
