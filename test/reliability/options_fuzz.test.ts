/**
 * Seeded fuzzing of the CPU-side option and argument checkers (CPU only: no GPU device is made):
 * `resolveSpec` (createMLP's layers, activations and head), `resolveOptimizer`, `resolveLearningRate`,
 * `resolveEarlyStopping`, the loss weights (`resolveRowWeights` on host arrays) and `npm run train`'s
 * `parseTrainArgs`. Valid options are mutated a few thousand times each — values of the wrong type
 * (null, NaN, ±Infinity, -0, huge and fractional numbers, strings, arrays with holes, nested arrays,
 * objects without a prototype, functions, Symbols, BigInts), fields removed or added (misspelled,
 * `__proto__`, `constructor`), whole options replaced — and random command lines are built from the
 * real flags and junk values. Every call must either return a result that checks out again (in range,
 * what was given is what is used, resolving it again gives the same) or throw a plain `Error` that names
 * the option and says what was expected — never a TypeError or RangeError from inside, nor its text.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CLI_OPTIMIZER,
  hyperFlag,
  parseTrainArgs,
  switchOffFlag,
  TRAIN_DEFAULTS,
  type TrainArgs,
} from '../../src/cli/args.js';
import type { GpuContext } from '../../src/gpu/context.js';
import { ACTIVATION_REGISTRY, ACTIVATIONS } from '../../src/model/activations/index.js';
import { HEAD_OUTPUTS, HEADS } from '../../src/model/heads/outputs.js';
import { mulberry32 } from '../../src/model/random.js';
import { MAX_WIDTH, type MlpSpec, type NetworkOptions, resolveSpec, type Targets } from '../../src/model/spec.js';
import { HYPERPARAMETERS, OPTIMIZERS, optimizerDefinition, resolveOptimizer } from '../../src/optim/index.js';
import { inRange, type ParamSpec, type SettingSpec } from '../../src/params.js';
import { resolveEarlyStopping } from '../../src/train/early_stopping.js';
import { resolveLearningRate, type ScheduleAt } from '../../src/train/schedule.js';
import { resolveRowWeights } from '../../src/train/weights.js';
import { checkPlainRejection, setOwn, thrown } from '../helpers/fuzz.js';

const TRIALS = 3000;

interface Rng {
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(list: readonly T[]): T;
}

function rng(seed: number): Rng {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  return { int, chance: (p) => rand() < p, pick: (list) => list[int(list.length)] };
}

function withoutPrototype(fields: Record<string, unknown>): object {
  const out = Object.create(null) as object;
  for (const [k, v] of Object.entries(fields)) setOwn(out, k, v);
  return out;
}

function withOwn(key: string, value: unknown, fields: Record<string, unknown> = {}): object {
  const out = { ...fields };
  setOwn(out, key, value);
  return out;
}

/** An array with a hole at `at`. */
function holed(values: unknown[], at: number): unknown[] {
  const out = values.slice();
  delete out[at];
  return out;
}

function nestedArray(depth: number): unknown[] {
  let out: unknown[] = [];
  for (let i = 0; i < depth; i++) out = [out];
  return out;
}

function cyclic(): object {
  const out: Record<string, unknown> = { name: 'relu' };
  out.self = out;
  return out;
}

const LONG = 'x'.repeat(100_000);

/** Values of the wrong kind (and a few of the right kind in the wrong place), fresh on each call. */
const WILD: (() => unknown)[] = [
  () => null,
  () => undefined,
  () => true,
  () => false,
  () => 0,
  () => -0,
  () => -1,
  () => 1,
  () => 0.5,
  () => 1.5,
  () => 2,
  () => 3,
  () => 1e-9,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => Number.NEGATIVE_INFINITY,
  () => 2 ** 32,
  () => 2 ** 53,
  () => 2 ** 53 + 2,
  () => 1e300,
  () => -1e300,
  () => Number.MIN_VALUE,
  () => Number.MAX_VALUE,
  () => MAX_WIDTH + 1,
  () => '',
  () => ' ',
  () => '5',
  () => ' 5',
  () => 'NaN',
  () => '0x10',
  () => 'relu',
  () => 'leakyRelu',
  () => 'huber',
  () => 'adam',
  () => 'step',
  () => 'testLoss',
  () => '__proto__',
  () => 'constructor',
  () => '\u{1F600}é',
  () => '\ud800',
  () => LONG,
  () => [],
  () => [1],
  () => [5, 4, 3],
  () => [[5, 4, 3]],
  () => ['5', '4'],
  () => [null],
  () => holed([5, 4, 3], 1),
  () => holed(['relu', 'tanh'], 0),
  () => Array(100_000).fill(7),
  () => nestedArray(10_000),
  () => ({}),
  () => ({ name: 'leakyRelu', slope: 0.2 }),
  () => ({ name: 'huber', delta: 0.5 }),
  () => ({ name: 'relu', slope: 0.2 }),
  () => ({ kind: 'sgd' }),
  () => ({ type: 'step', every: 1 }),
  () => ({ monitor: 'trainLoss' }),
  () => ({ length: 3 }),
  () => ({ buffer: null }),
  () => withoutPrototype({}),
  () => withoutPrototype({ name: 'relu' }),
  () => withoutPrototype({ kind: 'adam', learningRate: 0.1 }),
  () => [withoutPrototype({ name: 'tanh' })],
  () => withOwn('__proto__', { name: 'relu' }),
  () => ({ constructor: 1 }),
  () => ({ toString: 5, valueOf: 'x' }),
  () => cyclic(),
  () => () => 0.1,
  () => () => Number.NaN,
  () => Symbol('s'),
  () => 10n,
  () => new Float32Array(3),
  () => new Float64Array([1, Number.NaN]),
  () => new Uint8Array(3),
  () => new Date(0),
  () => new Map([['kind', 'sgd']]),
];

/** Keys that options objects do not have: misspelled, of another option, or prototype-ish. */
const EXTRA_KEYS = [
  'layer',
  'Layers',
  'activations',
  'heads',
  'lr',
  'learningrate',
  'learning_rate',
  'Kind',
  'type ',
  'monitors',
  'patiance',
  'name',
  'slope',
  'delta',
  'kind',
  'type',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '',
  ' ',
  '0',
];

/** Valid values by field (an array's elements under `field[]`): mutations pick these as often as junk. */
type Pools = Readonly<Record<string, readonly unknown[]>>;

const isArrayLike = (v: unknown): v is unknown[] => Array.isArray(v);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !ArrayBuffer.isView(v) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(v));

/**
 * A deep copy of arrays (holes kept) and plain objects (own keys, prototype kept); other values, and
 * what lies deeper than 8 (deep nesting, cycles), as they are.
 */
function clone<T>(value: T, depth = 0): T {
  if (depth > 8) return value;
  if (isArrayLike(value)) {
    const out: unknown[] = new Array(value.length);
    for (const k of Object.keys(value)) out[Number(k)] = clone(value[Number(k)], depth + 1);
    return out as T;
  }
  if (isObject(value)) {
    const out = Object.create(Object.getPrototypeOf(value)) as object;
    for (const k of Object.keys(value)) setOwn(out, k, clone(value[k], depth + 1));
    return out as T;
  }
  if (value instanceof Float32Array || value instanceof Float64Array) return value.slice() as T;
  return value;
}

function replacement(key: string, r: Rng, pools: Pools): unknown {
  const valid = pools[key];
  return valid && r.chance(0.5) ? clone(r.pick(valid)) : r.pick(WILD)();
}

/**
 * One mutation somewhere in `value`: into an array (an element changed, a hole, one more, fewer) or an
 * object (a field changed, removed, set to undefined, or a key added), or the value replaced.
 */
function mutate(value: unknown, key: string, r: Rng, pools: Pools, depth: number): unknown {
  if (depth < 4 && r.chance(depth === 0 ? 0.92 : 0.6)) {
    if (isArrayLike(value) && value.length > 0 && value.length < 1000) {
      const a = value.slice();
      const op = r.int(6);
      if (op <= 2) {
        const i = r.int(a.length);
        a[i] = mutate(a[i], `${key}[]`, r, pools, depth + 1);
      } else if (op === 3) delete a[r.int(a.length)];
      else if (op === 4) a.push(replacement(`${key}[]`, r, pools));
      else a.length = r.int(a.length);
      return a;
    }
    if ((value instanceof Float32Array || value instanceof Float64Array) && value.length > 0) {
      const a = value.slice();
      a[r.int(a.length)] = r.pick([-1, -0, 0, 2, 1e39, 1e300, Number.NaN, Number.POSITIVE_INFINITY]);
      return a;
    }
    if (isObject(value)) {
      const o = clone(value);
      const keys = Object.keys(o);
      const op = r.int(7);
      if (op <= 2 && keys.length > 0) {
        const k = r.pick(keys);
        setOwn(o, k, mutate(o[k], k, r, pools, depth + 1));
      } else if (op === 3 && keys.length > 0) delete o[r.pick(keys)];
      else if (op === 4) setOwn(o, r.pick(EXTRA_KEYS), r.pick(WILD)());
      else {
        const k = r.pick(Object.keys(pools).filter((f) => !f.endsWith('[]')));
        setOwn(o, k, r.chance(0.15) ? undefined : replacement(k, r, pools));
      }
      return o;
    }
  }
  return replacement(key, r, pools);
}

/** A mutant of one of the valid bases: none, one or a few mutations. */
function mutant(bases: readonly unknown[], pools: Pools, r: Rng): unknown {
  let value = clone(r.pick(bases));
  for (let n = r.pick([0, 1, 1, 1, 2, 2, 3]); n > 0; n--) value = mutate(value, 'root', r, pools, 0);
  return value;
}

/** For failure reports: the input as far as it can be shown. */
function show(value: unknown): string {
  try {
    if (typeof value === 'function') return `function ${String(value)}`;
    if (typeof value === 'symbol' || typeof value === 'bigint') return `${String(value)} (${typeof value})`;
    const s = JSON.stringify(value, (_k, v) => {
      if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return String(v);
      if (Object.is(v, -0)) return '-0';
      if (typeof v === 'function' || typeof v === 'symbol' || typeof v === 'bigint')
        return `${String(v)} (${typeof v})`;
      if (isObject(v) && Object.getPrototypeOf(v) === null) return { '(no prototype)': { ...v } };
      if (Array.isArray(v) && Object.keys(v).length < v.length)
        return { '(with holes)': Array.from(v, (e, i) => (i in v ? e : '(hole)')) };
      return v;
    });
    return s.length > 300 ? `${s.slice(0, 297)}...` : s;
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** An oracle's check: a plain Error saying what broke. */
function verify(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

interface Rejection {
  /** The message names the option: starts with or contains its name. */
  names(message: string): boolean;
  /** The message says what was expected. */
  expects: RegExp;
}

/** Throws unless `e` is a plain rejection (test/helpers/fuzz.ts) naming the option and saying what was expected. */
function checkRejection(e: unknown, rule: Rejection): void {
  checkPlainRejection(e, 'rejected', (m) => rule.names(m) && rule.expects.test(m), 'the option and what was expected');
}

interface Tally {
  ok: number;
  rejected: number;
  skipped: number;
}

/**
 * Runs `trials` inputs through `call`: a result goes to `accept` (which throws if it does not check
 * out), an error to checkRejection. Failures are collected, not thrown, so one run lists them all.
 */
async function run<I, R>(
  target: string,
  trials: number,
  seed: number,
  generate: (r: Rng, trial: number) => I | undefined,
  call: (input: I) => R | Promise<R>,
  accept: (input: I, result: R) => void,
  rule: (input: I) => Rejection,
  failures: string[],
): Promise<Tally> {
  const tally: Tally = { ok: 0, rejected: 0, skipped: 0 };
  const r = rng(seed);
  for (let trial = 0; trial < trials; trial++) {
    const input = generate(r, trial);
    if (input === undefined) {
      tally.skipped++;
      continue;
    }
    let result: { value: R } | { error: unknown };
    try {
      result = { value: await call(input) };
    } catch (error) {
      result = { error };
    }
    try {
      if ('value' in result) {
        accept(input, result.value);
        tally.ok++;
      } else {
        checkRejection(result.error, rule(input));
        tally.rejected++;
      }
    } catch (e) {
      failures.push(`${target}, trial ${trial}: ${(e as Error).message}\n  input: ${show(input)}`);
    }
  }
  return tally;
}

const startsWith =
  (name: string): Rejection['names'] =>
  (m) =>
    m.startsWith(name);
const EXPECTED = /expected /;

// ---------------------------------------------------------------------------------------------------
// resolveSpec: createMLP's network options

const SPEC_BASES: NetworkOptions[] = [
  { layers: [5, 4, 3] },
  { layers: [5, 4, 3], activation: 'tanh', head: 'sigmoid' },
  {
    layers: [5, 4, 4, 3],
    activation: [{ name: 'leakyRelu', slope: 0.2 }, 'gelu'],
    head: { name: 'huber', delta: 0.5 },
  },
  { layers: [5, 4, 1], activation: 'sigmoid', head: 'mse' },
  { layers: [784, 256, 10], activation: { name: 'leakyRelu' }, head: { name: 'softmax' } },
  { layers: [2, 3], head: 'softmax' },
];

const SPEC_POOLS: Pools = {
  layers: [
    [5, 4, 3],
    [1, 1],
    [2, 2],
    [MAX_WIDTH, 1, 2],
    [3, 7, 7, 7, 2],
    [9, 1],
  ],
  'layers[]': [1, 2, 7, 10, MAX_WIDTH],
  activation: [
    ...ACTIVATIONS,
    { name: 'leakyRelu', slope: 0 },
    { name: 'leakyRelu', slope: 1 },
    { name: 'gelu' },
    ['relu'],
    ['tanh', { name: 'leakyRelu', slope: 0.5 }],
  ],
  'activation[]': [...ACTIVATIONS, { name: 'leakyRelu', slope: 0.3 }, { name: 'leakyRelu', slope: 0.01 }],
  head: [...HEADS, { name: 'huber', delta: 1e6 }, { name: 'huber', delta: 1e-9 }, { name: 'huber', delta: 1 }],
  name: [...ACTIVATIONS, ...HEADS],
  slope: [0, 0.01, 0.7, 1],
  delta: [1e-9, 1, 1e6],
};

interface NamedParams {
  name: string;
  params: Record<string, number>;
}

/** An activation or head of a spec as its name and every parameter, defaults filled in. */
function named(value: unknown, registry: Record<string, { params: Record<string, ParamSpec> }>): NamedParams {
  const name = typeof value === 'string' ? value : (value as { name: string }).name;
  const params = Object.fromEntries(Object.entries(registry[name].params).map(([k, spec]) => [k, spec.default]));
  if (typeof value === 'object') Object.assign(params, (({ name: _, ...rest }) => rest)(value as { name: string }));
  return { name, params: params as Record<string, number> };
}

/** What was given (an activation, a head) is what the spec holds: the name and every parameter given. */
function checkGiven(given: unknown, held: unknown, registry: Record<string, { params: Record<string, ParamSpec> }>) {
  const h = named(held, registry);
  const g = isObject(given) ? given : { name: given };
  verify(g.name === h.name, `${show(given)} was resolved as ${show(held)}`);
  for (const [k, v] of Object.entries(g)) {
    // (a parameter given as undefined is not given: it takes its default)
    if (k !== 'name' && v !== undefined)
      verify(Object.is(h.params[k], v), `${show(given)} was resolved as ${show(held)}`);
  }
  for (const [k, spec] of Object.entries(registry[h.name].params)) {
    verify(inRange(spec, h.params[k]), `${k} = ${h.params[k]} out of range in ${show(held)}`);
  }
}

function acceptSpec(options: NetworkOptions, spec: MlpSpec): void {
  verify(typeof options === 'object' && options !== null, 'options that are not an object were accepted');
  const { layers, activation, head } = options;
  verify(
    Array.isArray(spec.layers) &&
      spec.layers.length === layers.length &&
      spec.layers.length >= 2 &&
      Object.keys(layers).length === layers.length && // no holes
      spec.layers.every((w, i) => Number.isInteger(w) && w >= 1 && w <= MAX_WIDTH && Object.is(w, layers[i])),
    `layers ${show(layers)} resolved as ${show(spec.layers)}`,
  );
  const hidden = spec.layers.length - 2;
  verify(
    spec.activations.length === hidden && Object.keys(spec.activations).length === hidden,
    `activations ${show(spec.activations)} for ${hidden} hidden layers`,
  );
  spec.activations.forEach((a, i) => {
    const given = activation === undefined ? 'relu' : Array.isArray(activation) ? activation[i] : activation;
    checkGiven(given, a, ACTIVATION_REGISTRY);
  });
  checkGiven(head === undefined ? 'softmax' : head, spec.head, HEAD_OUTPUTS);
  // resolved again, the same: a spec is one createMLP accepts as it is
  const again = resolveSpec({ layers: spec.layers, activation: [...spec.activations], head: spec.head });
  verify(JSON.stringify(again) === JSON.stringify(spec), `spec ${show(spec)} is not canonical: ${show(again)}`);
}

// ---------------------------------------------------------------------------------------------------
// resolveOptimizer: optimizer settings

const OPTIMIZER_BASES: unknown[] = [
  undefined,
  {},
  { kind: 'sgd', learningRate: 0.1 },
  { kind: 'momentum', momentum: 0.8 },
  { kind: 'adam', learningRate: 0.01, weightDecay: 1e-4 },
  { kind: 'adamw', beta2: 0.99, eps: 1e-6 },
  { learningRate: 0.5, beta1: 0 },
];

const OPTIMIZER_POOLS: Pools = {
  kind: OPTIMIZERS,
  learningRate: [1e-6, 0.1, 1000],
  momentum: [0, 0.5, 0.999],
  beta1: [0, 0.9],
  beta2: [0.5, 0.999],
  eps: [1e-12, 1],
  weightDecay: [0, 1e-4, 1000],
};

interface OptimizerInput {
  config: unknown;
  arg: string;
  lenient: boolean;
}

function acceptOptimizer({ config, arg, lenient }: OptimizerInput, result: Record<string, unknown>): void {
  verify(
    config === undefined || (typeof config === 'object' && config !== null && !Array.isArray(config)),
    `settings ${show(config)} that are not an object were accepted`,
  );
  const given = (config ?? {}) as Record<string, unknown>;
  const kind = given.kind === undefined ? 'adam' : given.kind;
  verify(result.kind === kind, `kind ${show(given.kind)} was resolved as ${show(result.kind)}`);
  const hyper = optimizerDefinition(result.kind as (typeof OPTIMIZERS)[number]).hyper;
  verify(
    JSON.stringify(Object.keys(result).sort()) === JSON.stringify(['kind', ...Object.keys(hyper)].sort()),
    `the settings ${show(result)} are not ${result.kind}'s`,
  );
  for (const [k, spec] of Object.entries(hyper)) verify(inRange(spec, result[k]), `${k} = ${result[k]} out of range`);
  for (const [k, v] of Object.entries(given)) {
    if (k === 'kind' || v === undefined) continue;
    if (k in hyper) verify(Object.is(result[k], v), `${k} = ${show(v)} was resolved as ${show(result[k])}`);
    else verify(lenient, `${k}, not a setting of ${result.kind}, was accepted`);
  }
  const again = resolveOptimizer(result, arg);
  verify(JSON.stringify(again) === JSON.stringify(result), `${show(result)} resolved again is ${show(again)}`);
}

// ---------------------------------------------------------------------------------------------------
// resolveLearningRate: fit's learningRate

const RATE = HYPERPARAMETERS.learningRate as ParamSpec;

const RATE_BASES: unknown[] = [
  undefined,
  0.01,
  1000,
  () => 0.1,
  ({ epoch }: ScheduleAt) => 0.1 / epoch,
  { type: 'step', every: 2, gamma: 0.5 },
  { type: 'step', initial: 0.1, every: 1, warmupSteps: 3 },
  { type: 'cosine', epochs: 4, min: 0.001 },
  { type: 'cosine', initial: 0.1, epochs: 10 },
  { type: 'warmup', warmupSteps: 5 },
  { type: 'warmup', initial: 0.5, warmupSteps: 1 },
];

const RATE_POOLS: Pools = {
  root: [1e-9, 0.5, 1000],
  type: ['step', 'cosine', 'warmup'],
  initial: [1e-9, 0.1, 1000],
  every: [1, 3, 2 ** 40],
  gamma: [1, 0.5, 1e-9],
  epochs: [1, 100],
  min: [0, 1e-3, 1000],
  warmupSteps: [0, 1, 100],
};

interface RateInput {
  value: unknown;
  current: number;
  name: string;
}

/** Positions of a run at which a schedule is asked for its rate. */
const POSITIONS: ScheduleAt[] = [1, 2, 3, 7, 40].flatMap((epoch) =>
  [1, 10, 1000].flatMap((stepsPerEpoch) =>
    [0, stepsPerEpoch - 1].map((s) => ({ epoch, step: (epoch - 1) * stepsPerEpoch + s, stepsPerEpoch })),
  ),
);

function acceptRate({ value, current, name }: RateInput, result: ReturnType<typeof resolveLearningRate>): void {
  const { initial, schedule } = result;
  verify(initial === undefined || inRange(RATE, initial), `the rate ${show(value)} was accepted as ${initial}`);
  if (value === undefined || typeof value === 'number') {
    verify(Object.is(initial, value) && schedule === undefined, `${show(value)} was resolved as ${initial}`);
    return;
  }
  verify(typeof schedule === 'function', `${show(value)} gave no schedule`);
  if (typeof value === 'function') {
    // a function's rates are checked as they are asked for: in range, or an error naming the option
    for (const at of POSITIONS.slice(0, 3)) {
      let lr: unknown;
      try {
        lr = schedule?.(at);
      } catch (e) {
        checkRejection(e, { names: startsWith(name), expects: EXPECTED });
        continue;
      }
      verify(inRange(RATE, lr), `a function's rate of ${show(lr)} came through`);
    }
    return;
  }
  verify(isObject(value), `${show(value)} was accepted as a preset`);
  const preset = value as Record<string, unknown>;
  verify(Object.is(initial, preset.initial), `initial ${show(preset.initial)} was resolved as ${initial}`);
  // a preset accepted gives a rate in range at every step, the same when resolved again
  const again = resolveLearningRate(clone(value), () => current, name).schedule;
  for (const at of POSITIONS) {
    const lr = schedule?.(at);
    verify(inRange(RATE, lr), `${show(value)} gave ${lr} at ${show(at)}`);
    verify(Object.is(again?.(at), lr), `${show(value)} resolved again gave another rate at ${show(at)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// resolveEarlyStopping: fit's earlyStopping

const MONITORS = ['testLoss', 'testAccuracy', 'trainLoss', 'trainAccuracy'] as const;

const EARLY_BASES: unknown[] = [
  undefined,
  {},
  { monitor: 'trainLoss' },
  { monitor: 'testAccuracy', patience: 3, minDelta: 0.01, restoreBest: false },
  { patience: 0, restoreBest: true },
  { minDelta: 1e300, monitor: 'trainAccuracy' },
];

const EARLY_POOLS: Pools = {
  monitor: MONITORS,
  patience: [0, 1, 1e6],
  minDelta: [0, 1e-9, Number.MAX_VALUE],
  restoreBest: [true, false],
};

interface EarlyInput {
  value: unknown;
  validated: boolean;
  name: string;
}

function acceptEarly({ value, validated, name }: EarlyInput, result: ReturnType<typeof resolveEarlyStopping>): void {
  if (value === undefined) {
    verify(result === undefined, `nothing given, ${show(result)} resolved`);
    return;
  }
  verify(typeof value === 'object' && value !== null && !Array.isArray(value), `${show(value)} was accepted`);
  verify(result !== undefined, `${show(value)} resolved as nothing`);
  const r = result as NonNullable<typeof result>;
  verify(
    JSON.stringify(Object.keys(r).sort()) === JSON.stringify(['minDelta', 'monitor', 'patience', 'restoreBest']),
    `resolved as ${show(r)}`,
  );
  verify((MONITORS as readonly string[]).includes(r.monitor), `monitor ${show(r.monitor)}`);
  verify(validated || r.monitor.startsWith('train'), `monitor ${r.monitor} without validation data`);
  verify(Number.isInteger(r.patience) && r.patience >= 0 && r.patience <= 1e6, `patience ${r.patience}`);
  verify(Number.isFinite(r.minDelta) && r.minDelta >= 0, `minDelta ${r.minDelta}`);
  verify(typeof r.restoreBest === 'boolean', `restoreBest ${show(r.restoreBest)}`);
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== undefined) verify(Object.is(r[k as keyof typeof r], v), `${k} = ${show(v)} was resolved as ${show(r)}`);
  }
  const again = resolveEarlyStopping({ ...r }, validated, name);
  verify(JSON.stringify(again) === JSON.stringify(r), `${show(r)} resolved again is ${show(again)}`);
}

// ---------------------------------------------------------------------------------------------------
// resolveRowWeights: fit's sampleWeights and classWeights, on host arrays

interface WeightCase {
  spec: MlpSpec;
  targets: Targets;
  count: number;
}

function denseRows(count: number, C: number, soft: boolean): Float32Array {
  const values = new Float32Array(count * C);
  for (let r = 0; r < count; r++) {
    if (soft) values[r * C + (r % C)] = 1;
    else for (let c = 0; c < C; c++) values[r * C + c] = ((r + 2 * c) % 5) / 4;
  }
  return values;
}

const WEIGHT_CASES: WeightCase[] = [
  {
    spec: resolveSpec({ layers: [4, 5, 3] }),
    targets: { kind: 'labels', labels: Uint32Array.of(0, 1, 2, 1, 0, 2) },
    count: 6,
  },
  { spec: resolveSpec({ layers: [4, 5, 3] }), targets: { kind: 'dense', values: denseRows(4, 3, true) }, count: 4 },
  {
    spec: resolveSpec({ layers: [4, 5, 2], head: 'sigmoid' }),
    targets: { kind: 'dense', values: denseRows(3, 2, false) },
    count: 3,
  },
  {
    spec: resolveSpec({ layers: [4, 5, 1], head: 'mse' }),
    targets: { kind: 'dense', values: denseRows(5, 1, false) },
    count: 5,
  },
];

const WEIGHT_POOLS: Pools = {
  sampleWeights: [[1, 1, 1, 1, 1, 1], new Float64Array([0, 1, 2, 3, 4, 5]), new Float32Array(6).fill(0.5), [2, 0, 1]],
  'sampleWeights[]': [0, 1, 2.5, 1e-30],
  classWeights: [[1, 2, 0.5], new Float32Array([0, 1, 1]), [1, 1], [3]],
  'classWeights[]': [0, 1, 4],
  buffer: [null, { size: 4, usage: 1 }, { size: '64', usage: 1 }, { size: 64 }],
};

interface WeightInput {
  wc: WeightCase;
  given: Record<string, unknown>;
}

/** A context that is not one: the host-array checks must never reach it. */
const NO_GPU = new Proxy(
  {},
  {
    get() {
      throw new Error('options.sampleWeights: the checks asked for the GPU, expected none in this test');
    },
  },
) as GpuContext;

const isWeightArray = (v: unknown): v is ArrayLike<number> =>
  Array.isArray(v) || v instanceof Float32Array || v instanceof Float64Array;

/** A `{ buffer }` the checks would read back from the device (out of scope here: no device). */
function readsBack(given: Record<string, unknown>, count: number): boolean {
  const s = given.sampleWeights as { buffer?: { size?: unknown; usage?: unknown } } | undefined;
  if (typeof s !== 'object' || s === null || isWeightArray(s) || ArrayBuffer.isView(s) || !('buffer' in s))
    return false;
  const b = s.buffer;
  return typeof b?.size === 'number' && typeof b.usage === 'number' && b.size >= count * 4;
}

function acceptWeights({ wc, given }: WeightInput, result: Float32Array | undefined): void {
  const { sampleWeights: s, classWeights: c } = given;
  if (s === undefined && c === undefined) {
    verify(result === undefined, 'weights without any given');
    return;
  }
  const C = wc.spec.layers.at(-1) as number;
  verify(result instanceof Float32Array && result.length === wc.count, `weights of length ${result?.length}`);
  verify(s === undefined || (isWeightArray(s) && s.length === wc.count), `sampleWeights ${show(s)} were accepted`);
  verify(c === undefined || (isWeightArray(c) && c.length === C), `classWeights ${show(c)} were accepted`);
  verify(c === undefined || wc.spec.head === 'softmax', `classWeights for the ${show(wc.spec.head)} head`);
  let any = false;
  for (let r = 0; r < wc.count; r++) {
    const w = (result as Float32Array)[r];
    let cls = 0;
    if (wc.targets.kind === 'labels') cls = wc.targets.labels[r];
    else for (let k = 1; k < C; k++) if (wc.targets.values[r * C + k] > wc.targets.values[r * C + cls]) cls = k;
    const expected = Math.fround(((s as ArrayLike<number>)?.[r] ?? 1) * ((c as ArrayLike<number>)?.[cls] ?? 1));
    verify(Number.isFinite(w) && w >= 0 && Object.is(w, expected), `row ${r} weighs ${w}, expected ${expected}`);
    any ||= w > 0;
  }
  verify(any, 'every weight 0 was accepted');
}

// ---------------------------------------------------------------------------------------------------
// parseTrainArgs: `npm run train` flags

const HYPER_FLAGS = Object.keys(HYPERPARAMETERS).map(hyperFlag);

const FLAG_VALUES: Record<string, readonly string[]> = {
  '--layers': ['784,10', '784,128,10', '784, 64 ,32,10', '784,65536,10'],
  '--activation': ACTIVATIONS,
  '--epochs': ['1', '3', '10000'],
  '--batch-size': ['1', '64', '60000'],
  '--optimizer': OPTIMIZERS,
  '--lr': ['0.01', '1e-3', '1000', '.5'],
  '--momentum': ['0', '0.9'],
  '--beta1': ['0', '0.9'],
  '--beta2': ['0.999'],
  '--eps': ['1e-8', '1'],
  '--alpha': ['0', '0.99'],
  '--centered': [],
  '--no-centered': [],
  '--weight-decay': ['0', '1e-4', '1000'],
  '--seed': ['0', '7', '4294967295'],
  '--backend': ['auto', 'webgpu', 'cpu'],
  '--out': ['m.safetensors', '/tmp/x y.safetensors', 'a=b'],
  '--limit': ['1', '1000', '60000'],
  '--checkpoint': ['ck.ckpt'],
  '--checkpoint-every': ['1', '100'],
  '--resume': ['old.ckpt'],
  '-h': [],
  '--help': [],
};

const FLAGS = Object.keys(FLAG_VALUES);

const JUNK_VALUES = [
  '',
  ' ',
  'NaN',
  '-1',
  '-0',
  '0',
  '1e400',
  '-1e400',
  '1e-400',
  '0x10',
  ' 5',
  '5 ',
  '1.5',
  '+3',
  '１２',
  '\u{1F600}',
  '\ud800',
  'x'.repeat(10_000),
  `784,${'1,'.repeat(5000)}10`,
  '--epochs',
  '-h',
  '=',
  '784,,10',
  '784,0,10',
  ',',
  'Infinity',
  '9007199254740993',
  '4294967296',
  '60001',
  '784,1048577,10',
  'ｒｅｌｕ',
  'relu ',
  '__proto__',
  'constructor',
];

const JUNK_FLAGS = [
  '--Epochs',
  '--lr2',
  '-x',
  '---epochs',
  '--',
  '--=1',
  '',
  'epochs',
  '--constructor',
  '--__proto__',
  `--${'y'.repeat(5000)}`,
  '--learning-rate',
];

function commandLine(r: Rng): string[] {
  const argv: string[] = [];
  for (let n = r.pick([0, 1, 2, 2, 3, 3, 4, 5, 6]); n > 0; n--) {
    const flag = r.chance(0.92) ? r.pick(FLAGS) : r.pick(JUNK_FLAGS);
    const valid = FLAG_VALUES[flag] ?? [];
    const value = valid.length > 0 && r.chance(0.7) ? r.pick(valid) : r.pick(JUNK_VALUES);
    const form = r.int(10);
    if (valid.length === 0 && FLAGS.includes(flag) && form < 8) argv.push(flag);
    else if (form < 6) argv.push(flag, value);
    else if (form < 8) argv.push(`${flag}=${value}`);
    else if (form < 9) argv.push(flag);
    else argv.push(flag, value, flag, r.pick(valid.length > 0 ? valid : JUNK_VALUES));
  }
  return argv;
}

/** The flags that stand for args (as given to parseTrainArgs, `--flag=value`). */
function argvOf(args: TrainArgs): string[] {
  const argv: string[] = [];
  const flagOf: Record<string, string> = {
    layers: '--layers',
    activation: '--activation',
    epochs: '--epochs',
    batchSize: '--batch-size',
    optimizer: '--optimizer',
    seed: '--seed',
    backend: '--backend',
    out: '--out',
    limit: '--limit',
    checkpoint: '--checkpoint',
    checkpointEvery: '--checkpoint-every',
    resume: '--resume',
    ...Object.fromEntries(Object.keys(HYPERPARAMETERS).map((k) => [k, hyperFlag(k)])),
  };
  for (const [key, value] of Object.entries(args)) {
    if (key === 'help') {
      if (value) argv.push('--help');
    } else if (typeof value === 'boolean') {
      argv.push(value ? hyperFlag(key) : switchOffFlag(key)); // a switch: no value
    } else if (JSON.stringify(value) !== JSON.stringify(TRAIN_DEFAULTS[key as keyof TrainArgs])) {
      argv.push(`${flagOf[key]}=${Array.isArray(value) ? value.join(',') : String(value)}`);
    }
  }
  return argv;
}

function acceptArgs(argv: string[], args: TrainArgs): void {
  const rows = args.limit ?? 60_000;
  verify(
    args.layers.length >= 2 &&
      args.layers[0] === 784 &&
      args.layers.at(-1) === 10 &&
      args.layers.every((w) => Number.isInteger(w) && w >= 1 && w <= 65536),
    `layers ${show(args.layers)}`,
  );
  verify((ACTIVATIONS as readonly string[]).includes(args.activation as string), `activation ${show(args.activation)}`);
  verify(Number.isInteger(args.epochs) && args.epochs >= 1 && args.epochs <= 10_000, `epochs ${args.epochs}`);
  verify(Number.isInteger(args.batchSize) && args.batchSize >= 1 && args.batchSize <= rows, `batch ${args.batchSize}`);
  verify(Number.isInteger(args.seed) && args.seed >= 0 && args.seed <= 0xffffffff, `seed ${args.seed}`);
  verify(['auto', 'webgpu', 'cpu'].includes(args.backend), `backend ${show(args.backend)}`);
  verify(
    args.limit === undefined || (Number.isInteger(args.limit) && args.limit >= 1 && args.limit <= 60_000),
    'limit',
  );
  verify(
    args.checkpointEvery === undefined || args.checkpoint !== undefined,
    '--checkpoint-every without --checkpoint',
  );
  verify(args.backend !== 'cpu' || (!args.checkpoint && !args.resume), 'checkpoints with --backend cpu');
  for (const p of [args.out, args.checkpoint, args.resume])
    verify(p === undefined || p.trim() !== '', `path ${show(p)}`);
  // what the command goes on to do with them: the network and the optimizer resolve
  resolveSpec({ layers: args.layers, activation: args.activation });
  const given = Object.fromEntries(
    Object.keys(HYPERPARAMETERS).flatMap((k) =>
      args[k as keyof TrainArgs] === undefined ? [] : [[k, args[k as keyof TrainArgs]]],
    ),
  );
  if (args.resume === undefined) {
    const o = resolveOptimizer({ kind: args.optimizer ?? DEFAULT_CLI_OPTIMIZER, ...given });
    for (const [k, v] of Object.entries(given))
      verify(Object.is(o[k as keyof typeof o], v), `${k} ${v} became ${o[k as keyof typeof o]}`);
  } else {
    for (const [k, v] of Object.entries(given)) verify(inRange(HYPERPARAMETERS[k] as SettingSpec, v), `${k} = ${v}`);
  }
  // written back as flags, the same arguments
  const again = parseTrainArgs(argvOf(args));
  verify(JSON.stringify(again) === JSON.stringify(args), `${show(argv)} parsed again as ${show(again)}`);
}

const CLI_REJECTION: Rejection = {
  names: (m) => m.startsWith('unknown option ') || [...FLAGS, ...HYPER_FLAGS].some((f) => m.includes(f)),
  expects: /(expected |needs? |does not apply|larger than|unknown option ).*See --help\.$/s,
};

describe('option checkers under seeded mutation', () => {
  it(`${TRIALS} inputs per checker: each resolves to options that check out again or fails with a plain Error naming the option`, async () => {
    const failures: string[] = [];
    const tallies: Record<string, Tally> = {};

    tallies.resolveSpec = await run(
      'resolveSpec',
      TRIALS,
      1,
      (r) => ({ options: mutant(SPEC_BASES, SPEC_POOLS, r) as NetworkOptions, arg: r.pick(['options', 'spec']) }),
      ({ options, arg }) => resolveSpec(options, arg),
      ({ options }, spec) => acceptSpec(options, spec),
      ({ arg }) => ({ names: startsWith(arg), expects: EXPECTED }),
      failures,
    );

    tallies.resolveOptimizer = await run<OptimizerInput, Record<string, unknown>>(
      'resolveOptimizer',
      TRIALS,
      2,
      (r) => ({
        config: mutant(OPTIMIZER_BASES, OPTIMIZER_POOLS, r),
        arg: r.pick(['optimizer', 'options.optimizer']),
        lenient: r.chance(0.2),
      }),
      ({ config, arg, lenient }) => resolveOptimizer(config as never, arg, lenient),
      acceptOptimizer,
      ({ arg }) => ({ names: startsWith(arg), expects: EXPECTED }),
      failures,
    );

    tallies.resolveLearningRate = await run<RateInput, ReturnType<typeof resolveLearningRate>>(
      'resolveLearningRate',
      TRIALS,
      3,
      (r) => ({
        value: mutant(RATE_BASES, RATE_POOLS, r),
        current: r.pick([1e-9, 0.001, 0.1, 1000]),
        name: r.pick(['options.learningRate', 'learningRate']),
      }),
      ({ value, current, name }) => resolveLearningRate(value, () => current, name),
      acceptRate,
      ({ name }) => ({ names: startsWith(name), expects: EXPECTED }),
      failures,
    );

    tallies.resolveEarlyStopping = await run<EarlyInput, ReturnType<typeof resolveEarlyStopping>>(
      'resolveEarlyStopping',
      TRIALS,
      4,
      (r) => ({
        value: mutant(EARLY_BASES, EARLY_POOLS, r),
        validated: r.chance(0.5),
        name: r.pick(['options.earlyStopping', 'earlyStopping']),
      }),
      ({ value, validated, name }) => resolveEarlyStopping(value, validated, name),
      acceptEarly,
      ({ name }) => ({ names: startsWith(name), expects: /expected |needs / }),
      failures,
    );

    tallies.resolveRowWeights = await run<WeightInput, Float32Array | undefined>(
      'resolveRowWeights',
      TRIALS,
      5,
      (r) => {
        const wc = r.pick(WEIGHT_CASES);
        const bases = [
          {},
          { sampleWeights: Array(wc.count).fill(1) },
          { classWeights: [1, 2, 0.5] },
          { sampleWeights: new Float64Array(wc.count).fill(2), classWeights: [0, 1, 3] },
          { sampleWeights: { buffer: { size: 4, usage: 1 } } },
        ];
        let given = clone(r.pick(bases)) as Record<string, unknown>;
        for (let n = r.pick([0, 1, 1, 2]); n > 0; n--) {
          const m = mutate(given, 'root', r, WEIGHT_POOLS, 1);
          if (isObject(m)) given = m;
        }
        return readsBack(given, wc.count) ? undefined : { wc, given };
      },
      ({ wc, given }) => resolveRowWeights(NO_GPU, wc.spec, wc.targets, wc.count, given),
      acceptWeights,
      () => ({
        names: (m) => m.startsWith('options') && /sampleWeights|classWeights/.test(m),
        expects: /expected |instead|: give |scale the weights/,
      }),
      failures,
    );

    tallies.parseTrainArgs = await run(
      'parseTrainArgs',
      TRIALS,
      6,
      (r) => commandLine(r),
      (argv) => parseTrainArgs(argv),
      acceptArgs,
      () => CLI_REJECTION,
      failures,
    );

    expect(failures.slice(0, 40), `${failures.length} failures`).toEqual([]);
    // Both outcomes occur for every checker: nothing passes vacuously.
    for (const [target, t] of Object.entries(tallies)) {
      expect(t.ok, `${target} accepted`).toBeGreaterThan(TRIALS / 20);
      expect(t.rejected, `${target} rejected`).toBeGreaterThan(TRIALS / 5);
    }
  });

  // What the fuzzing found, one example each (before: the error or result in the comment).
  const spec = (options: unknown) => () => resolveSpec(options as NetworkOptions);
  const rate = (value: unknown) => () => resolveLearningRate(value, () => 0.1);
  const cases: [string, () => unknown, string, Rejection][] = [
    [
      // TypeError: Cannot destructure property 'layers' of 'options' as it is null.
      'network options of null',
      spec(null),
      'options = null is invalid: expected an object { layers, activation?, head? }',
      { names: startsWith('options'), expects: EXPECTED },
    ],
    [
      // resolved, with relu
      'activation: null',
      spec({ layers: [5, 4, 3], activation: null }),
      'options.activation = null is invalid: expected one of relu, sigmoid, tanh, linear, leakyRelu, gelu',
      { names: startsWith('options'), expects: EXPECTED },
    ],
    [
      // resolved, with the softmax head
      'head: null',
      spec({ layers: [5, 4, 3], head: null }),
      'options.head = null is invalid: expected one of softmax, sigmoid, mse, huber',
      { names: startsWith('options'), expects: EXPECTED },
    ],
    [
      // resolved, as layers [5, undefined, 3] (forEach skips holes)
      'layers with a hole',
      spec({ layers: holed([5, 4, 3], 1) }),
      'options.layers[1] = undefined is invalid: expected an integer in 1..1048576',
      { names: startsWith('options'), expects: EXPECTED },
    ],
    [
      // resolved, with a hole among the activations (map keeps holes)
      'one activation per hidden layer, with a hole',
      spec({ layers: [5, 4, 4, 3], activation: holed(['relu', 'tanh'], 0) }),
      'options.activation[0] = undefined is invalid: expected one of relu,',
      { names: startsWith('options'), expects: EXPECTED },
    ],
    [
      // TypeError: Cannot convert object to primitive value (String() of an object without a prototype)
      'layers given as an object without a prototype',
      spec({ layers: withoutPrototype({ name: 'relu' }) }),
      'options.layers = {"name":"relu"} is invalid: expected an array of at least two layer widths',
      { names: startsWith('options'), expects: EXPECTED },
    ],
    [
      // TypeError: Cannot convert undefined or null to object
      'optimizer settings of null',
      () => resolveOptimizer(null as never),
      'optimizer = null is invalid: expected an object { kind, learningRate, … }, or nothing',
      { names: startsWith('optimizer'), expects: EXPECTED },
    ],
    [
      // resolved, as adam with its default settings
      'optimizer settings of 5',
      () => resolveOptimizer(5 as never),
      'optimizer = 5 is invalid: expected an object { kind, learningRate, … }, or nothing',
      { names: startsWith('optimizer'), expects: EXPECTED },
    ],
    [
      // 'optimizer.0 = "a" is invalid: expected one of the known options: kind, learningRate, …'
      'optimizer settings of "adam"',
      () => resolveOptimizer('adam' as never, 'options.optimizer'),
      'options.optimizer = "adam" is invalid: expected an object { kind, learningRate, … }, or nothing',
      { names: startsWith('options.optimizer'), expects: EXPECTED },
    ],
    [
      // resolved, as adam with its default settings (and so fit({ optimizer: null }) switched to adam)
      'kind: null',
      () => resolveOptimizer({ kind: null, momentum: 0.8 } as never),
      'optimizer.kind = null is invalid: expected one of sgd, momentum, adam, adamw',
      { names: startsWith('optimizer'), expects: EXPECTED },
    ],
    [
      // resolved, as initial NaN; fit then said "optimizer.learningRate = NaN is invalid", not naming its option
      'a learning rate of NaN',
      rate(Number.NaN),
      'options.learningRate = NaN is invalid: expected a finite number in (0, 1000]',
      { names: startsWith('options.learningRate'), expects: EXPECTED },
    ],
    [
      // RangeError: Maximum call stack size exceeded (Object.hasOwn made the array a string)
      'a preset type nested 10,000 deep',
      rate({ type: nestedArray(10_000), every: 1 }),
      "options.learningRate.type = [[[[[[[[[[[[[[[[[…]]]]]]]]]]]]]]]]] is invalid: expected 'step', 'cosine' or 'warmup'",
      { names: startsWith('options.learningRate'), expects: EXPECTED },
    ],
    [
      // TypeError: Cannot convert object to primitive value
      'a preset type without a prototype',
      rate({ type: withoutPrototype({}), every: 1 }),
      "options.learningRate.type = {} is invalid: expected 'step', 'cosine' or 'warmup'",
      { names: startsWith('options.learningRate'), expects: EXPECTED },
    ],
    [
      // resolved, monitoring the default quantity
      'monitor: null',
      () => resolveEarlyStopping({ monitor: null }, true),
      "options.earlyStopping.monitor = null is invalid: expected 'testLoss', 'testAccuracy', 'trainLoss', 'trainAccuracy'",
      { names: startsWith('options.earlyStopping'), expects: EXPECTED },
    ],
    [
      // the whole 10,000 characters in the message
      'a flag value of 10,000 characters',
      () => parseTrainArgs(['--epochs', 'x'.repeat(10_000)]),
      `--epochs "${'x'.repeat(196)}... is invalid: expected an integer in 1..10000. See --help.`,
      CLI_REJECTION,
    ],
    [
      // the whole 5,000 characters in the message
      'an unknown flag of 5,000 characters',
      () => parseTrainArgs([`--${'y'.repeat(5000)}`]),
      `unknown option "--${'y'.repeat(194)}.... See --help.`,
      CLI_REJECTION,
    ],
  ];
  for (const [what, call, message, rule] of cases) {
    it(`found by the fuzzing: ${what}`, () => {
      const error = thrown(call);
      checkRejection(error, rule);
      expect((error as Error).message).toContain(message);
    });
  }
});
