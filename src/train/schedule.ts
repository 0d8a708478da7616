/**
 * Learning-rate schedules: a function of where training is, or a preset (step decay, cosine
 * annealing, linear warm-up). The training loop asks for the rate of every step and each step's
 * optimizer update gets its own (see Model.submitSteps), so a schedule is exact per step even when
 * several steps share a submit. Presets follow PyTorch's schedulers; docs/maths.md says where and why
 * they differ.
 */
import { learningRate as learningRateSpec } from '../optim/definition.js';
import {
  checkKeys,
  checkParam,
  describeRange,
  fail,
  formatValue,
  inRange,
  type ParamSpec,
  resolveParams,
} from '../params.js';

/** Where training is when a step's rate is asked for. */
export interface ScheduleAt {
  /** The epoch the step belongs to, 1-based, counting on across `fit` calls (see FitOptions.initialEpoch). */
  epoch: number;
  /**
   * Steps before this one since epoch 1 began: (epoch − 1) × stepsPerEpoch + the step within the
   * epoch (0-based). The optimizer's own step count when every fit used the same data and batch size.
   */
  step: number;
  /** Steps in one epoch of this run. */
  stepsPerEpoch: number;
}

/** A schedule as a function: the learning rate of the step at `at`; it must be pure (asked again for the same step, the same answer). */
export type LearningRateFunction = (at: ScheduleAt) => number;

/**
 * Presets. `initial` defaults to the optimizer's learning rate (its default, or the rate the network
 * was last trained with). `warmupSteps` (all presets) ramps the rate linearly over the first steps:
 * × (step + 1) / warmupSteps.
 * - `step`: × gamma every `every` epochs (torch.optim.lr_scheduler.StepLR).
 * - `cosine`: from `initial` down to `min` over `epochs` epochs, then `min` (CosineAnnealingLR).
 * - `warmup`: the warm-up alone, then `initial`.
 */
export type LearningRatePreset =
  | { type: 'step'; initial?: number; every: number; gamma?: number; warmupSteps?: number }
  | { type: 'cosine'; initial?: number; epochs: number; min?: number; warmupSteps?: number }
  | { type: 'warmup'; initial?: number; warmupSteps: number };

export type LearningRateSchedule = LearningRateFunction | LearningRatePreset;

/** A fit's learning rate: a number, or a schedule. */
export type LearningRate = number | LearningRateSchedule;

const RATE = learningRateSpec(0.001);
const COUNT: ParamSpec = { default: 0, min: 0, max: Number.MAX_SAFE_INTEGER, integer: true, doc: 'steps or epochs' };
const count = (min: number, doc: string, defaultValue = 0): ParamSpec => ({
  ...COUNT,
  min,
  default: defaultValue,
  doc,
});

/** The fields of each preset, besides `type` and `initial`. */
const PRESETS = {
  step: {
    every: count(1, 'epochs between decays', 1),
    gamma: { default: 0.1, min: 0, max: 1, minExclusive: true, doc: 'factor of each decay' },
    warmupSteps: count(0, 'steps of linear warm-up'),
  },
  cosine: {
    epochs: count(1, 'epochs from initial to min', 1),
    min: { default: 0, min: 0, max: 1000, doc: 'the last rate' },
    warmupSteps: count(0, 'steps of linear warm-up'),
  },
  warmup: { warmupSteps: count(1, 'steps of linear warm-up', 1) },
} as const satisfies Record<LearningRatePreset['type'], Record<string, ParamSpec>>;

/** Fields a preset cannot do without. */
const REQUIRED: Record<LearningRatePreset['type'], string[]> = {
  step: ['every'],
  cosine: ['epochs'],
  warmup: ['warmupSteps'],
};

/** A learning rate resolved: the rate the optimizer is set to, and the per-step schedule if any. */
export interface ResolvedLearningRate {
  /** A constant rate, or the first step's (what the optimizer settings and checkpoints record). */
  initial: number | undefined;
  schedule: LearningRateFunction | undefined;
}

/**
 * Checks a fit's `learningRate` option. `current` is the optimizer's rate, which a preset without
 * `initial` starts from (known only once the optimizer is resolved: pass a function).
 */
export function resolveLearningRate(
  value: unknown,
  current: () => number,
  name = 'options.learningRate',
): ResolvedLearningRate {
  if (value === undefined) return { initial: undefined, schedule: undefined };
  if (typeof value === 'number') return { initial: checkParam(name, RATE, value), schedule: undefined };
  if (typeof value === 'function')
    return { initial: undefined, schedule: checked(value as LearningRateFunction, name) };
  if (typeof value !== 'object' || value === null) {
    fail(
      name,
      value,
      "a number in (0, 1000], a function of { epoch, step } or a preset ({ type: 'step' | 'cosine' | 'warmup', … })",
    );
  }
  const preset = value as Record<string, unknown>;
  const type = preset.type as LearningRatePreset['type'];
  if (typeof type !== 'string' || !Object.hasOwn(PRESETS, type))
    fail(`${name}.type`, preset.type, "'step', 'cosine' or 'warmup'");
  for (const field of REQUIRED[type]) {
    if (preset[field] === undefined)
      fail(
        `${name}.${field}`,
        undefined,
        `${describeRange(PRESETS[type][field as keyof (typeof PRESETS)[typeof type]])} (the ${type} preset needs it)`,
      );
  }
  checkKeys(name, preset, ['type', 'initial', ...Object.keys(PRESETS[type])]);
  const p = resolveParams(name, PRESETS[type] as Record<string, ParamSpec>, preset, ['type', 'initial']);
  if (preset.initial !== undefined && !inRange(RATE, preset.initial))
    fail(`${name}.initial`, preset.initial, describeRange(RATE));
  const initialOf = () => (preset.initial as number | undefined) ?? current();
  const warm = (at: ScheduleAt) => (p.warmupSteps > 0 && at.step < p.warmupSteps ? (at.step + 1) / p.warmupSteps : 1);
  let rate: (at: ScheduleAt, initial: number) => number;
  if (type === 'step') rate = (at, initial) => initial * p.gamma ** Math.floor((at.epoch - 1) / p.every);
  else if (type === 'cosine') {
    if (preset.initial !== undefined && p.min > (preset.initial as number))
      fail(`${name}.min`, p.min, `at most initial (${preset.initial})`);
    rate = (at, initial) =>
      p.min + ((initial - p.min) * (1 + Math.cos((Math.PI * Math.min(at.epoch - 1, p.epochs)) / p.epochs))) / 2;
  } else rate = (_at, initial) => initial;
  return {
    initial: preset.initial as number | undefined,
    // The warm-up never reaches 0 (step 0 gets initial / warmupSteps); a cosine to min 0 does, at its end,
    // where the optimizer's range (0, …] is kept by the floor below.
    schedule: checked((at) => Math.max(rate(at, initialOf()) * warm(at), Number.MIN_VALUE), name),
  };
}

/** Wraps a schedule so that every rate it gives is checked against the optimizers' range. */
function checked(schedule: LearningRateFunction, name: string): LearningRateFunction {
  return (at) => {
    const lr: unknown = schedule(at);
    if (typeof (lr as PromiseLike<unknown> | null)?.then === 'function') {
      throw new Error(
        `${name} gave a Promise for epoch ${at.epoch}, step ${at.step}: a schedule must return the rate itself, at once (not an async function)`,
      );
    }
    if (!inRange(RATE, lr)) {
      throw new Error(
        `${name} gave ${formatValue(lr)} for epoch ${at.epoch}, step ${at.step}: expected ${describeRange(RATE)}`,
      );
    }
    return lr;
  };
}
