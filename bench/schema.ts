/**
 * validateBenchReport: checks that a parsed JSON value is a BenchReport this version can read
 * (types.ts), and that its figures are consistent: an `ok` figure is verified and timed, a
 * `failed` one has a reason, a `skipped` one a note. Returns the problems, [] when there are none.
 */
import { BENCH_SCHEMA, type BenchReport, SUITES } from './types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

class Problems {
  readonly list: string[] = [];
  add(path: string, message: string): void {
    if (this.list.length < 50) this.list.push(`${path}: ${message}`);
  }
  field(obj: Json, path: string, key: string, kind: 'string' | 'number' | 'boolean' | 'object' | 'array'): boolean {
    const v = obj[key];
    const ok =
      kind === 'number'
        ? isNumber(v)
        : kind === 'object'
          ? isObject(v)
          : kind === 'array'
            ? Array.isArray(v)
            : typeof v === kind;
    if (!ok)
      this.add(`${path}.${key}`, `expected ${kind === 'number' ? 'a finite number' : `a ${kind}`}, got ${show(v)}`);
    return ok;
  }
  oneOf(obj: Json, path: string, key: string, allowed: readonly unknown[]): void {
    if (!allowed.includes(obj[key]))
      this.add(`${path}.${key}`, `expected one of ${allowed.join(', ')}, got ${show(obj[key])}`);
  }
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function summary(p: Problems, obj: Json, path: string): void {
  for (const key of ['median', 'min', 'max', 'q1', 'q3']) p.field(obj, path, key, 'number');
  if (
    isNumber(obj.min) &&
    isNumber(obj.median) &&
    isNumber(obj.max) &&
    !(obj.min <= obj.median && obj.median <= obj.max)
  ) {
    p.add(path, 'expected min ≤ median ≤ max');
  }
}

function check(p: Problems, obj: Json, path: string): void {
  p.field(obj, path, 'verified', 'boolean');
  p.oneOf(obj, path, 'method', ['full', 'sampled']);
  p.oneOf(obj, path, 'measure', ['abs', 'rel']);
  p.field(obj, path, 'elements', 'number');
  p.field(obj, path, 'maxError', 'number');
  p.field(obj, path, 'tolerance', 'string');
  p.field(obj, path, 'worst', 'string');
}

function figure(p: Problems, f: unknown, path: string, names: Set<string>): void {
  if (!isObject(f)) {
    p.add(path, 'expected an object');
    return;
  }
  p.oneOf(f, path, 'suite', SUITES);
  if (p.field(f, path, 'name', 'string')) {
    if (names.has(f.name as string)) p.add(`${path}.name`, `duplicate figure name ${show(f.name)}`);
    names.add(f.name as string);
  }
  if (p.field(f, path, 'params', 'object')) {
    for (const [k, v] of Object.entries(f.params as Json)) {
      if (!['string', 'number', 'boolean'].includes(typeof v))
        p.add(`${path}.params.${k}`, 'expected a string, number or boolean');
    }
  }
  p.oneOf(f, path, 'status', ['ok', 'failed', 'skipped']);
  p.oneOf(f, path, 'unit', ['GFLOP/s', 'GB/s', 'samples/s']);
  p.field(f, path, 'work', 'number');
  p.field(f, path, 'verified', 'boolean');
  if (f.note !== undefined) p.field(f, path, 'note', 'string');
  if (f.check !== undefined) {
    if (p.field(f, path, 'check', 'object')) check(p, f.check as Json, `${path}.check`);
  }
  if (f.timeMs !== undefined && p.field(f, path, 'timeMs', 'object')) summary(p, f.timeMs as Json, `${path}.timeMs`);
  for (const key of ['iterations', 'samples', 'wallMs', 'value', 'best', 'speedup']) {
    if (f[key] !== undefined) p.field(f, path, key, 'number');
  }
  if (f.timing !== undefined) p.oneOf(f, path, 'timing', ['timestamp', 'wall', 'cpu']);
  const checkVerified = isObject(f.check) && f.check.verified === true;
  if (f.verified !== checkVerified) p.add(`${path}.verified`, 'must equal check.verified (false without a check)');
  if (f.status === 'ok') {
    if (!checkVerified) p.add(path, "status 'ok' needs a passed check");
    for (const key of ['timing', 'iterations', 'samples', 'timeMs', 'value']) {
      if (f[key] === undefined) p.add(`${path}.${key}`, "missing: status 'ok' figures are timed");
    }
  } else if (typeof f.note !== 'string' || f.note === '') {
    p.add(`${path}.note`, `a '${String(f.status)}' figure needs a note saying why`);
  }
  if (f.status === 'failed' && checkVerified) p.add(path, "status 'failed' with a passed check");
}

/** The problems with `value` as a BenchReport; [] when it is one. */
export function validateBenchReport(value: unknown): string[] {
  const p = new Problems();
  if (!isObject(value)) return ['report: expected a JSON object'];
  if (value.schema !== BENCH_SCHEMA)
    p.add('report.schema', `expected ${show(BENCH_SCHEMA)}, got ${show(value.schema)}`);
  if (p.field(value, 'report', 'date', 'string') && Number.isNaN(Date.parse(value.date as string))) {
    p.add('report.date', 'expected an ISO 8601 date');
  }
  p.field(value, 'report', 'durationS', 'number');
  p.oneOf(value, 'report', 'mode', ['quick', 'full']);
  if (p.field(value, 'report', 'environment', 'object')) {
    const env = value.environment as Json;
    p.oneOf(env, 'report.environment', 'runtime', ['node', 'browser']);
    p.field(env, 'report.environment', 'version', 'string');
  }
  if (value.adapter !== null) {
    if (p.field(value, 'report', 'adapter', 'object')) {
      const a = value.adapter as Json;
      for (const key of ['vendor', 'architecture', 'device', 'description'])
        p.field(a, 'report.adapter', key, 'string');
      p.field(a, 'report.adapter', 'isSoftware', 'boolean');
    }
  }
  p.field(value, 'report', 'kernelPreference', 'string');
  if (value.tune !== undefined) p.oneOf(value, 'report', 'tune', ['both', 'on', 'off']);
  if (p.field(value, 'report', 'features', 'array')) {
    (value.features as unknown[]).forEach((f, i) => {
      if (typeof f !== 'string') p.add(`report.features[${i}]`, 'expected a string');
    });
  }
  if (p.field(value, 'report', 'limits', 'object')) {
    for (const [k, v] of Object.entries(value.limits as Json))
      if (!isNumber(v)) p.add(`report.limits.${k}`, 'expected a number');
  }
  if (p.field(value, 'report', 'timing', 'object')) {
    const t = value.timing as Json;
    const path = 'report.timing';
    p.oneOf(t, path, 'method', ['timestamp', 'wall']);
    for (const key of ['quantized', 'resolutionNs', 'tinyPassUs']) {
      if (t.method === 'wall' ? t[key] !== null : t[key] === null) {
        p.add(
          `${path}.${key}`,
          t.method === 'wall' ? 'expected null without timestamps' : 'expected a value with timestamps',
        );
      }
    }
    if (t.method === 'timestamp') {
      p.field(t, path, 'quantized', 'boolean');
      p.field(t, path, 'resolutionNs', 'number');
      p.field(t, path, 'tinyPassUs', 'number');
    }
    p.field(t, path, 'note', 'string');
    for (const key of ['warmup', 'reps', 'targetSampleMs', 'maxFigureS']) p.field(t, path, key, 'number');
  }
  if (p.field(value, 'report', 'figures', 'array')) {
    const names = new Set<string>();
    (value.figures as unknown[]).forEach((f, i) => {
      figure(p, f, `report.figures[${i}]`, names);
    });
  }
  return p.list;
}

/** Parses and validates a report file's text; throws with the problems listed. */
export function parseBenchReport(text: string, source = 'report'): BenchReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${source} is not JSON: ${(error as Error).message}`);
  }
  const problems = validateBenchReport(value);
  if (problems.length) {
    throw new Error(`${source} is not a webgpu-mlp benchmark report:\n  ${problems.slice(0, 10).join('\n  ')}`);
  }
  return value as BenchReport;
}
