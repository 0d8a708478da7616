/**
 * Public options and their validation. Every check runs before any GPU work and names the
 * argument, the bad value and what was expected.
 */
import { ACTIVATIONS, type Activation, HEADS, type Head, type MlpSpec } from '../model/spec.js';
import { RefOptimizerState } from '../reference/mlp.js';

export type OptimizerKind = 'sgd' | 'momentum' | 'adam';

/** Optimizer settings. Defaults follow PyTorch. */
export interface OptimizerConfig {
  /** `'sgd'`, `'momentum'` (SGD with momentum) or `'adam'`. Default `'adam'`. */
  kind?: OptimizerKind;
  /** Learning rate. Default 0.1 for sgd/momentum, 0.001 for adam. */
  learningRate?: number;
  /** Momentum coefficient μ (momentum only). Default 0.9. */
  momentum?: number;
  /** Adam β1. Default 0.9. */
  beta1?: number;
  /** Adam β2. Default 0.999. */
  beta2?: number;
  /** Adam ε. Default 1e-8. */
  eps?: number;
  /** L2 weight decay added to the gradient of the weights (not the biases). Default 0. */
  weightDecay?: number;
}

export type ResolvedOptimizer = Required<OptimizerConfig>;

export const OPTIMIZERS: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam'];

function fail(arg: string, value: unknown, expected: string): never {
  throw new Error(`${arg} = ${formatValue(value)} is invalid: expected ${expected}`);
}

export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  return String(value);
}

export function checkKeys(arg: string, given: object, known: readonly string[]): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key))
      fail(`${arg}.${key}`, (given as Record<string, unknown>)[key], `one of the known options: ${known.join(', ')}`);
  }
}

function checkNumber(arg: string, v: unknown, min: number, max: number, minInclusive = true): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (minInclusive ? v < min : v <= min) || v > max) {
    fail(arg, v, `a finite number in ${minInclusive ? '[' : '('}${min}, ${max}]`);
  }
  return v;
}

export function resolveOptimizer(config: OptimizerConfig = {}, arg = 'optimizer'): ResolvedOptimizer {
  checkKeys(arg, config, ['kind', 'learningRate', 'momentum', 'beta1', 'beta2', 'eps', 'weightDecay']);
  const kind = config.kind ?? 'adam';
  if (!OPTIMIZERS.includes(kind)) fail(`${arg}.kind`, kind, `one of ${OPTIMIZERS.join(', ')}`);
  return {
    kind,
    learningRate: checkNumber(
      `${arg}.learningRate`,
      config.learningRate ?? (kind === 'adam' ? 1e-3 : 0.1),
      0,
      1e6,
      false,
    ),
    momentum: checkNumber(`${arg}.momentum`, config.momentum ?? 0.9, 0, 1),
    beta1: checkNumber(`${arg}.beta1`, config.beta1 ?? 0.9, 0, 1 - 1e-12),
    beta2: checkNumber(`${arg}.beta2`, config.beta2 ?? 0.999, 0, 1 - 1e-12),
    eps: checkNumber(`${arg}.eps`, config.eps ?? 1e-8, 0, 1, false),
    weightDecay: checkNumber(`${arg}.weightDecay`, config.weightDecay ?? 0, 0, 1e6),
  };
}

/** How a network is described by the user. */
export interface NetworkOptions {
  /** Layer widths, input first, output last, e.g. `[784, 256, 10]`. */
  layers: readonly number[];
  /** Hidden activation: one for all hidden layers, or one per hidden layer. Default `'relu'`. */
  activation?: Activation | readonly Activation[];
  /** Output head. Default `'softmax'` (cross-entropy over classes); `'sigmoid'` for binary/multi-label outputs. */
  head?: Head;
}

/** The largest width we accept for one layer (a sanity bound, far above any MLP we train). */
export const MAX_WIDTH = 1 << 20;

export function resolveSpec(options: NetworkOptions, arg = 'options'): MlpSpec {
  const { layers } = options;
  if (!Array.isArray(layers) || layers.length < 2) {
    fail(`${arg}.layers`, layers, 'an array of at least two layer widths, input first, e.g. [784, 256, 10]');
  }
  layers.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 1 || w > MAX_WIDTH) fail(`${arg}.layers[${i}]`, w, `an integer in 1..${MAX_WIDTH}`);
  });
  const hidden = layers.length - 2;
  const act = options.activation ?? 'relu';
  if (typeof act === 'string' && !ACTIVATIONS.includes(act))
    fail(`${arg}.activation`, act, `one of ${ACTIVATIONS.join(', ')}`);
  const activations = typeof act === 'string' ? Array<Activation>(hidden).fill(act) : [...act];
  if (activations.length !== hidden) {
    fail(`${arg}.activation`, act, `one activation or ${hidden} (one per hidden layer)`);
  }
  activations.forEach((a, i) => {
    if (!ACTIVATIONS.includes(a)) fail(`${arg}.activation[${i}]`, a, `one of ${ACTIVATIONS.join(', ')}`);
  });
  const head = options.head ?? 'softmax';
  if (!HEADS.includes(head)) fail(`${arg}.head`, head, `one of ${HEADS.join(', ')}`);
  if (head === 'softmax' && layers[layers.length - 1] < 2) {
    fail(
      `${arg}.layers[${layers.length - 1}]`,
      layers[layers.length - 1],
      "at least 2 classes for the softmax head (use head: 'sigmoid' for one output)",
    );
  }
  return { layers: [...layers], activations, head };
}

/** The settings as the optimizer kernel and the Float64 reference name them. */
export function optimizerHyper(o: ResolvedOptimizer): {
  lr: number;
  momentum: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
} {
  return {
    lr: o.learningRate,
    momentum: o.momentum,
    beta1: o.beta1,
    beta2: o.beta2,
    eps: o.eps,
    weightDecay: o.weightDecay,
  };
}

/** A fresh Float64 reference optimizer (state all zeros, as on a new GPU model) with these settings. */
export function refOptimizerState(spec: MlpSpec, o: ResolvedOptimizer): RefOptimizerState {
  return new RefOptimizerState(spec, { kind: o.kind, ...optimizerHyper(o) });
}
