/**
 * A training checkpoint as one safetensors file: everything needed to continue a run exactly where
 * it stopped, on any device (after a lost one, or in a later process).
 *
 * Tensors: the parameters as in a model file (`layers.{l}.weight` [fanOut, fanIn], `layers.{l}.bias`),
 * and each optimizer state buffer in the same layout under a prefix: `optimizer.velocity.` for
 * momentum, `optimizer.m.` and `optimizer.v.` for Adam and AdamW (none for plain SGD): the names of the
 * optimizer definition's `state`. Metadata: `format` =
 * `webgpu-mlp-checkpoint/1`, `spec` (the architecture), `optimizer` (its settings, JSON),
 * `optimizerSteps`, where training was: `epoch` (1-based) and `step` (steps of it done), the run it
 * belongs to: `seed`, `batchSize` and `rows` (the training set's size), and, for a run with early
 * stopping, `earlyStopping` (its settings and where it stands, JSON) with the state after the best epoch
 * under `earlyStopping.best.` (parameters, and `earlyStopping.best.optimizer.<state>.`). A network with
 * BatchNorm adds its running statistics as a model file names them (`layers.{l}.norm.running_mean`,
 * `…running_var`), one with dropout its random stream's position: metadata `randomSeed`, `randomStep`
 * (and the best state's `bestRandomStep` in `earlyStopping`).
 */
import { usesRandom } from '../model/layers/network.js';
import { paramLayout } from '../model/layout.js';
import { type MlpSpec, specFromJson, specJson } from '../model/spec.js';
import { optimizerDefinition, type ResolvedOptimizer, resolveOptimizer } from '../optim/index.js';
import { fail, formatValue } from '../params.js';
import {
  badRunning,
  checkTensorNames,
  fileMetadata,
  layerTensors,
  metadataObject,
  openWebgpuMlpFile,
  readLayerTensors,
  readRunningTensors,
  runningNames,
  runningTensors,
  tensorNames,
} from './model_file.js';
import { encodeSafetensors, type FileBytes } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'webgpu-mlp-checkpoint/1';

/** A model's training state on the CPU: survives the loss of its device. */
export interface Checkpoint {
  spec: MlpSpec;
  optimizer: ResolvedOptimizer;
  /** Flat parameters (see ParamLayout). */
  params: Float32Array;
  /** The optimizer's state buffers (its definition's `state`: velocity; m and v…), flat. */
  state: Float32Array[];
  /** Optimizer steps taken. */
  step: number;
  /** The running statistics, flat (ParamLayout.running): networks with BatchNorm only. */
  running?: Float32Array;
  /** The random stream: its seed and the step the next training step draws its masks at (networks with dropout only). */
  random?: { seed: number; step: number };
}

/** Early stopping's settings, as the run was given them (see FitOptions.earlyStopping). */
export interface EarlyStoppingSettings {
  monitor: string;
  patience: number;
  minDelta: number;
  restoreBest: boolean;
}

/** Where a run's early stopping stands: what a resumed run needs to stop and restore as the whole run would. */
export interface EarlyStoppingState<S = unknown> {
  settings: EarlyStoppingSettings;
  /** The best value of the monitored quantity so far (NaN before the first epoch), and its epoch (0: none yet). */
  best: number;
  bestEpoch: number;
  /** Epochs since the best one without an improvement. */
  wait: number;
  /** The trainer's state after the best epoch (with restoreBest), to put back when the run ends. */
  bestState?: S;
}

/** Where training was, and the trainer's state there. */
export interface TrainingCheckpoint<S = unknown> {
  /** The epoch (1-based) and the steps of it already done. */
  epoch: number;
  step: number;
  state: S;
  /** The run it belongs to: its shuffle seed, batch size and training rows (absent in older files). */
  run?: { seed: number; batchSize: number; rows: number };
  /** Early stopping's state, for a run with early stopping. */
  earlyStopping?: EarlyStoppingState<S>;
}

/** Where a run was and the model's full training state there (what `fit`'s `onCheckpoint` receives). */
export type MLPCheckpoint = TrainingCheckpoint<Checkpoint>;

/**
 * What makes a model state unusable as a checkpoint — a parameter or optimizer state that is NaN or
 * ±Infinity, naming the first — or undefined when it is good. Such a state is never kept as "last good".
 */
export function nonFiniteState(cp: Checkpoint): string | undefined {
  const names = optimizerDefinition(cp.optimizer.kind).state;
  const buffers: [string, Float32Array][] = [
    ['a parameter', cp.params],
    ...(cp.running ? [['a running statistic', cp.running] as [string, Float32Array]] : []),
    ...cp.state.map((s, i): [string, Float32Array] => [`optimizer ${names[i] ?? i}`, s]),
  ];
  for (const [what, flat] of buffers) {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isFinite(flat[i])) return `${what} became ${flat[i]} (element ${i} of the flat layout)`;
    }
  }
  return undefined;
}

/** True for what has a checkpoint's shape (its contents are checked where they are used). */
export function isCheckpoint(value: unknown): value is MLPCheckpoint {
  const cp = value as Partial<MLPCheckpoint> | null;
  return (
    typeof cp === 'object' &&
    cp !== null &&
    typeof cp.state === 'object' &&
    cp.state !== null &&
    cp.state.params instanceof Float32Array &&
    Array.isArray(cp.state.state)
  );
}

/** What a value that should be a checkpoint is not, for errors. */
export const CHECKPOINT_EXPECTED =
  'a checkpoint (from onCheckpoint, TrainingInterrupted.checkpoint or decodeCheckpoint)';

function checkCount(arg: string, value: unknown, min: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) fail(arg, value, `an integer ≥ ${min}`);
}

/**
 * Checks a model state in memory, all of it, before any of it is used: an architecture that resolves to
 * itself, optimizer settings that resolve, the parameters and each of the optimizer's state buffers a
 * Float32Array of the architecture's size (as many buffers as the optimizer has), an integer step count,
 * every value finite. `arg` names it in errors (`options.resume.state`), `owner` what holds it when a
 * value is not finite (`options.resume holds a diverged state`). Returns the same state.
 */
export function checkModelState(cp: Checkpoint, arg: string, owner = arg): Checkpoint {
  if (typeof cp !== 'object' || cp === null) fail(arg, cp, 'a model state { spec, optimizer, params, state, step }');
  const given = cp.spec as Partial<MlpSpec> | undefined;
  const spec = specFromJson(typeof given === 'object' && given !== null ? given : {}, `${arg}.spec`);
  if (JSON.stringify(spec) !== JSON.stringify(cp.spec)) {
    fail(`${arg}.spec`, cp.spec, `a resolved architecture (${JSON.stringify(spec)})`);
  }
  const optimizer = resolveOptimizer(cp.optimizer, `${arg}.optimizer`);
  const floats = paramLayout(spec).totalFloats;
  const names = optimizerDefinition(optimizer.kind).state;
  const flat = (what: string, value: unknown): void => {
    if (!(value instanceof Float32Array) || value.length !== floats) {
      const got = value instanceof Float32Array ? `${value.length} floats` : formatValue(value);
      throw new Error(
        `${arg}.${what} is ${got}: expected a Float32Array of ${floats} floats (layers [${spec.layers.join(', ')}])`,
      );
    }
  };
  flat('params', cp.params);
  if (!Array.isArray(cp.state) || cp.state.length !== names.length) {
    throw new Error(
      `${arg}.state holds ${Array.isArray(cp.state) ? cp.state.length : formatValue(cp.state)} optimizer state buffers: the ${optimizer.kind} optimizer has ${names.length}${names.length ? ` (${names.join(', ')})` : ''}`,
    );
  }
  cp.state.forEach((s, i) => {
    flat(`state[${i}] (${names[i]})`, s);
  });
  checkCount(`${arg}.step`, cp.step, 0);
  const { running: runningLayout } = paramLayout(spec);
  if (runningLayout.totalFloats === 0) {
    if (cp.running !== undefined) fail(`${arg}.running`, cp.running, 'nothing: this network has no running statistics');
  } else {
    if (!(cp.running instanceof Float32Array) || cp.running.length !== runningLayout.totalFloats) {
      fail(
        `${arg}.running`,
        cp.running,
        `a Float32Array of ${runningLayout.totalFloats} floats (BatchNorm's running statistics)`,
      );
    }
    const bad = badRunning(paramLayout(spec), cp.running);
    if (bad) throw new Error(`${arg}.running: ${bad}`);
  }
  if (!usesRandom(spec)) {
    if (cp.random !== undefined) fail(`${arg}.random`, cp.random, 'nothing: this network has no dropout');
  } else {
    if (typeof cp.random !== 'object' || cp.random === null) fail(`${arg}.random`, cp.random, '{ seed, step }');
    for (const key of ['seed', 'step'] as const) {
      const v = cp.random[key];
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        fail(`${arg}.random.${key}`, v, 'an integer in 0..4294967295');
    }
  }
  const bad = nonFiniteState(cp);
  if (bad) throw new Error(`${owner} holds a diverged state (${bad}): resume from an earlier checkpoint`);
  return cp;
}

/**
 * Checks a whole checkpoint in memory before any of it is applied: its shape, its model state
 * (checkModelState), its position (`epoch` ≥ 1, `step` ≥ 0), its run and its early stopping state (the
 * best epoch before the checkpoint's, the state after it of the same architecture and optimizer).
 * `arg` names it in errors (`options.resume`).
 */
export function checkCheckpoint(value: unknown, arg: string): asserts value is MLPCheckpoint {
  if (!isCheckpoint(value)) fail(arg, value, CHECKPOINT_EXPECTED);
  const cp = value;
  checkModelState(cp.state, `${arg}.state`, arg);
  checkCount(`${arg}.epoch`, cp.epoch, 1);
  checkCount(`${arg}.step`, cp.step, 0);
  if (cp.run !== undefined) {
    if (typeof cp.run !== 'object' || cp.run === null)
      fail(`${arg}.run`, cp.run, '{ seed, batchSize, rows }, or nothing');
    checkCount(`${arg}.run.seed`, cp.run.seed, 0);
    checkCount(`${arg}.run.batchSize`, cp.run.batchSize, 1);
    checkCount(`${arg}.run.rows`, cp.run.rows, 1);
  }
  const early = cp.earlyStopping;
  if (early === undefined) return;
  const name = `${arg}.earlyStopping`;
  if (typeof early !== 'object' || early === null) fail(name, early, 'early stopping state, or nothing');
  checkEarlyStopping(early, cp.epoch, name, (best) => {
    checkModelState(best, `${name}.bestState`);
    if (
      JSON.stringify(best.spec) !== JSON.stringify(cp.state.spec) ||
      best.optimizer.kind !== cp.state.optimizer.kind
    ) {
      throw new Error(`${name}.bestState is of another network or optimizer than the checkpoint`);
    }
  });
}

/** The parts of an early stopping state that a file's JSON and an object in memory share. */
function checkEarlyStopping(
  early: EarlyStoppingState<Checkpoint>,
  epoch: number,
  name: string,
  checkBest: (best: Checkpoint) => void,
): void {
  const settings = early.settings as Partial<EarlyStoppingSettings> | undefined;
  if (
    typeof settings !== 'object' ||
    settings === null ||
    typeof settings.monitor !== 'string' ||
    typeof settings.patience !== 'number' ||
    typeof settings.minDelta !== 'number' ||
    typeof settings.restoreBest !== 'boolean'
  ) {
    fail(`${name}.settings`, settings, '{ monitor, patience, minDelta, restoreBest }');
  }
  if (
    typeof early.bestEpoch !== 'number' ||
    !Number.isInteger(early.bestEpoch) ||
    early.bestEpoch < 0 ||
    early.bestEpoch >= epoch
  ) {
    fail(`${name}.bestEpoch`, early.bestEpoch, `an integer in 0..${epoch - 1} (an epoch before the checkpoint's)`);
  }
  const none = early.bestEpoch === 0;
  if (typeof early.best !== 'number' || (none ? !Number.isNaN(early.best) : !Number.isFinite(early.best))) {
    fail(`${name}.best`, early.best, none ? 'NaN (no best epoch yet)' : 'a finite number');
  }
  checkCount(`${name}.wait`, early.wait, 0);
  const wanted = settings.restoreBest && !none;
  if (wanted !== (early.bestState !== undefined)) {
    fail(
      `${name}.bestState`,
      wanted ? undefined : 'a state',
      wanted ? 'the state after the best epoch (restoreBest)' : 'nothing',
    );
  }
  if (early.bestState !== undefined) checkBest(early.bestState);
}

/** The checkpoint as safetensors bytes (write them to a file, IndexedDB…; `decodeCheckpoint` reads them). */
export function encodeCheckpoint(checkpoint: MLPCheckpoint, extra: Record<string, string> = {}): Uint8Array {
  if (!isCheckpoint(checkpoint)) {
    throw new Error(
      `encodeCheckpoint: checkpoint = ${formatValue(checkpoint)} is invalid: expected ${CHECKPOINT_EXPECTED}`,
    );
  }
  checkCheckpoint(checkpoint, 'checkpoint');
  const { state: cp, epoch, step, run, earlyStopping: early } = checkpoint;
  const layout = paramLayout(cp.spec);
  const names = optimizerDefinition(cp.optimizer.kind).state;
  const stateTensors = (state: Checkpoint, prefix: string) => [
    ...layerTensors(layout, state.params, prefix),
    ...runningTensors(layout, state.running, prefix),
    ...state.state.flatMap((s, i) => layerTensors(layout, s, `${prefix}optimizer.${names[i]}.`)),
  ];
  const best = early?.bestState;
  const tensors = [...stateTensors(cp, ''), ...(best ? stateTensors(best, BEST_PREFIX) : [])];
  const own = {
    format: CHECKPOINT_FORMAT,
    spec: specJson(cp.spec),
    optimizer: JSON.stringify(cp.optimizer),
    optimizerSteps: String(cp.step),
    epoch: String(epoch),
    step: String(step),
    ...(run && { seed: String(run.seed), batchSize: String(run.batchSize), rows: String(run.rows) }),
    ...(cp.random && { randomSeed: String(cp.random.seed), randomStep: String(cp.random.step) }),
    ...(early && {
      earlyStopping: JSON.stringify({
        ...early.settings,
        best: early.bestEpoch === 0 ? null : early.best,
        bestEpoch: early.bestEpoch,
        wait: early.wait,
        ...(best && { bestOptimizer: best.optimizer, bestOptimizerSteps: best.step }),
        ...(best?.random && { bestRandomStep: best.random.step }),
      }),
    }),
  };
  const reserved = [...new Set([...Object.keys(own), ...RUN_KEYS, ...RANDOM_KEYS, 'earlyStopping'])];
  return encodeSafetensors(tensors, fileMetadata(extra, own, reserved));
}

/** The keys of the run's identity, which a checkpoint without one must not take from `extra` either. */
const RUN_KEYS = ['seed', 'batchSize', 'rows'];

/** The random stream's keys (networks with dropout), likewise reserved. */
const RANDOM_KEYS = ['randomSeed', 'randomStep'];

/** Where a checkpoint file keeps early stopping's state after the best epoch. */
const BEST_PREFIX = 'earlyStopping.best.';

function count(metadata: Record<string, string>, key: string, min: number, name: string): number {
  const raw = metadata[key];
  const v = Number(raw);
  if (raw === undefined || !/^\d+$/.test(raw) || !Number.isSafeInteger(v) || v < min) {
    throw new Error(`${name}: metadata "${key}" is ${formatValue(raw)}, expected an integer ≥ ${min}`);
  }
  return v;
}

/** Reads a checkpoint file. Bad files give errors that name the file and what is wrong. */
export function decodeCheckpoint(bytes: FileBytes, name = 'checkpoint file'): MLPCheckpoint {
  const { file, spec } = openWebgpuMlpFile(bytes, name, CHECKPOINT_FORMAT, 'a checkpoint saved by webgpu-mlp');
  const { metadata } = file;
  const optimizer = optimizerSettings(metadata, 'optimizer', name);
  const layout = paramLayout(spec);
  const names = optimizerDefinition(optimizer.kind).state;
  const randomSeed = usesRandom(spec) ? count(metadata, 'randomSeed', 0, name) : undefined;
  const readState = (prefix: string, settings: ResolvedOptimizer, steps: number, randomStep?: number): Checkpoint => {
    const params = readLayerTensors(file, layout, name, prefix);
    const running = readRunningTensors(file, layout, name, prefix);
    const state = names.map((n) => readLayerTensors(file, layout, name, `${prefix}optimizer.${n}.`));
    const buffers: [string, Float32Array][] = [
      ['a parameter', params],
      ...state.map((s, i): [string, Float32Array] => [`optimizer ${names[i]}`, s]),
    ];
    for (const [what, flat] of buffers) {
      if (!flat.every(Number.isFinite))
        throw new Error(
          `${name}: ${prefix ? `${prefix}: ` : ''}${what} is not finite; the checkpoint is of a diverged run`,
        );
    }
    const bad = running && badRunning(layout, running);
    if (bad) throw new Error(`${name}: ${prefix}${bad}`);
    const random = randomSeed === undefined ? undefined : { seed: randomSeed, step: randomStep ?? 0 };
    return {
      spec,
      optimizer: settings,
      params,
      ...(running && { running }),
      state,
      step: steps,
      ...(random && { random }),
    };
  };
  const epoch = count(metadata, 'epoch', 1, name);
  const state = readState(
    '',
    optimizer,
    count(metadata, 'optimizerSteps', 0, name),
    randomSeed === undefined ? undefined : count(metadata, 'randomStep', 0, name),
  );
  const early =
    metadata.earlyStopping === undefined
      ? undefined
      : earlyStoppingOf(metadata, optimizer.kind, epoch, name, readState);
  const prefixes = ['', ...(early?.bestState ? [BEST_PREFIX] : [])].flatMap((p) => [
    p,
    ...names.map((n) => `${p}optimizer.${n}.`),
  ]);
  const running = ['', ...(early?.bestState ? [BEST_PREFIX] : [])].flatMap((p) => runningNames(layout, p));
  checkTensorNames(file, new Set([...prefixes.flatMap((p) => tensorNames(layout, p)), ...running]), spec, name);
  const run =
    metadata.seed !== undefined || metadata.batchSize !== undefined || metadata.rows !== undefined
      ? {
          seed: count(metadata, 'seed', 0, name),
          batchSize: count(metadata, 'batchSize', 1, name),
          rows: count(metadata, 'rows', 1, name),
        }
      : undefined;
  return {
    epoch,
    step: count(metadata, 'step', 0, name),
    state,
    ...(run && { run }),
    ...(early && { earlyStopping: early }),
  };
}

/** Optimizer settings from a metadata key (lenient: files from before optimizers kept only their own settings hold every optimizer's). */
function optimizerSettings(
  metadata: Record<string, string>,
  key: string,
  name: string,
  value?: unknown,
): ResolvedOptimizer {
  const settings = value ?? metadataObject(metadata, key, name, 'a JSON object { kind, learningRate, … }');
  try {
    return resolveOptimizer(settings as Record<string, unknown>, key, true);
  } catch (error) {
    throw new Error(`${name}: metadata "${key}" ${(error as Error).message}: ${formatValue(metadata[key])}`);
  }
}

/** A file's early stopping state: its JSON checked, and the state after the best epoch read. */
function earlyStoppingOf(
  metadata: Record<string, string>,
  kind: string,
  epoch: number,
  name: string,
  readState: (prefix: string, settings: ResolvedOptimizer, steps: number, randomStep?: number) => Checkpoint,
): EarlyStoppingState<Checkpoint> {
  const json = metadataObject(
    metadata,
    'earlyStopping',
    name,
    'a JSON object { monitor, patience, minDelta, restoreBest, best, bestEpoch, wait }',
  );
  const {
    monitor,
    patience,
    minDelta,
    restoreBest,
    best,
    bestEpoch,
    wait,
    bestOptimizer,
    bestOptimizerSteps,
    bestRandomStep,
  } = json;
  const early = {
    settings: { monitor, patience, minDelta, restoreBest },
    best: best === null ? Number.NaN : best,
    bestEpoch,
    wait,
  } as EarlyStoppingState<Checkpoint>;
  const keep = (settings: unknown, steps: unknown): Checkpoint => {
    if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 0) {
      throw new Error(
        `${name}: metadata "earlyStopping" bestOptimizerSteps is ${formatValue(steps)}, expected an integer ≥ 0`,
      );
    }
    const resolved = optimizerSettings(metadata, 'earlyStopping', name, settings);
    if (resolved.kind !== kind) {
      throw new Error(
        `${name}: metadata "earlyStopping" bestOptimizer is ${formatValue(resolved.kind)}, the checkpoint's optimizer ${formatValue(kind)}: a run keeps its optimizer`,
      );
    }
    if (bestRandomStep !== undefined && (!Number.isInteger(bestRandomStep) || (bestRandomStep as number) < 0)) {
      throw new Error(
        `${name}: metadata "earlyStopping" bestRandomStep is ${formatValue(bestRandomStep)}, expected an integer ≥ 0`,
      );
    }
    return readState(BEST_PREFIX, resolved, steps, bestRandomStep as number | undefined);
  };
  try {
    checkEarlyStopping(
      { ...early, bestState: restoreBest === true && bestEpoch !== 0 ? ({} as Checkpoint) : undefined },
      epoch,
      'earlyStopping',
      () => {},
    );
  } catch (error) {
    throw new Error(`${name}: metadata ${(error as Error).message}`);
  }
  if (restoreBest === true && bestEpoch !== 0) early.bestState = keep(bestOptimizer, bestOptimizerSteps);
  return early;
}
